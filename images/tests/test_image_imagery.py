"""images/imagery, and every image built FROM it: the geo stack, the library and its Lab extensions, the
virtual desktop with QGIS, the demo catalog notebook."""

from __future__ import annotations

import asyncio
import json
import time

from conftest import REPO, Lab, run_in
from test_image_core import labextensions

LAYER = "imagery"
IMPORTS = (
    "rasterio rioxarray stackstac eodag pystac geopandas rio_tiler torch bulldozer ai4geo_kernel "
    "ai4geo_kernel.catalog ai4geo_kernel.tiles jupyter_remote_desktop_proxy"
)


def repo_extensions() -> set[str]:
    """The Lab extension names of every extension under extensions/ (their package.json)."""
    return {json.loads(path.read_text())["name"] for path in REPO.glob("extensions/*/package.json")}


def test_geo_stack_imports(layer: str) -> None:
    out = run_in(
        layer,
        f"python -c 'import {', '.join(IMPORTS.split())}; import rasterio, torch; "
        "print(rasterio.__gdal_version__, torch.__version__, torch.cuda.is_available())' "
        "&& cars --help | head -1",
    ).stdout.split()
    gdal, torch_version, cuda = out[:3]
    assert gdal.startswith("3.") and torch_version.endswith("+cpu") and cuda == "False"
    assert "usage" in " ".join(out[3:]).lower()


def test_every_repo_extension_enabled(lab: Lab) -> None:
    found = labextensions(lab)
    expected = repo_extensions() | {"jupyter-leaflet"}
    assert expected <= set(found), (expected, found)
    assert all(state == "enabled OK" for state in found.values()), found
    status, body = lab.get("/ai4geo/tiles/info")  # the 2D viewer's server extension answers
    assert status == 400 and "missing" in body, (status, body)


def test_desktop_through_the_proxy_with_qgis(lab: Lab) -> None:
    """/desktop/ answers, the VNC server behind /desktop-websockify/ speaks RFB, QGIS opens a window in it."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    status, body = lab.get("/server-proxy/servers-info")
    assert status == 200 and '"desktop-websockify"' in body  # the launcher's "Desktop" entry
    status, body = lab.get("/desktop/")
    assert status == 200 and "<html" in body.lower()

    async def banner() -> bytes:
        ws_url = lab.url.replace("http", "ws", 1) + "/desktop-websockify/"
        request = HTTPRequest(
            ws_url, headers={"Authorization": f"token {lab.token}"}, connect_timeout=120, request_timeout=120
        )
        conn = await websocket_connect(request, subprotocols=["binary"])
        message = await asyncio.wait_for(conn.read_message(), timeout=120)
        conn.close()
        return message if isinstance(message, bytes) else message.encode()

    assert banner_text(asyncio.run(banner())).startswith("RFB 003.")
    display = lab.exec("ls /tmp/.X11-unix | head -1").stdout.strip().lstrip("X")
    assert display, "no X display is running"
    lab.exec(f"cd ~ && DISPLAY=:{display} nohup qgis --nologo --noversioncheck > /tmp/qgis.log 2>&1 &")
    deadline, windows = time.monotonic() + 240, ""
    while time.monotonic() < deadline:
        windows = lab.exec(
            f"DISPLAY=:{display} xdotool search --name QGIS getwindowname %@", check=False
        ).stdout
        if "QGIS" in windows:
            break
        time.sleep(3)
    assert "QGIS" in windows, lab.exec("tail -20 /tmp/qgis.log", check=False).stdout
    lab.exec("pkill -u 1000 -f '^qgis' || true", check=False)


def banner_text(message: bytes) -> str:
    return message[:12].decode("ascii", "replace")


def test_demo_catalog_notebook_runs(lab: Lab) -> None:
    """notebooks/01 runs top to bottom inside the image (its demo catalog on the container's 127.0.0.1)."""
    lab.exec(
        "cd /tmp && jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=900 "
        "--output /tmp/nb01.ipynb /opt/ai4geo/notebooks/01_catalog_to_cube.ipynb",
        timeout=1200,
    )
    nb = json.loads(lab.exec("cat /tmp/nb01.ipynb").stdout)
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert [o for o in outputs if "image/png" in o.get("data", {})], "the notebook drew no figure"
