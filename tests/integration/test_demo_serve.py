"""The demo catalog is served for real: a STAC API and a Range-capable asset server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import urllib.request

import psutil
import pytest
import rasterio

from ai4geo_kernel.demo import serve
from ai4geo_kernel.errors import ServiceError
from ai4geo_kernel.settings import ENV_DEMO_STAC_URL

pytestmark = pytest.mark.integration


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


def test_api_serves_every_collection_and_item(demo_area, demo_services) -> None:
    status, body = _get(f"{demo_services.stac_url}/collections")
    assert status == 200
    served = {c["id"] for c in json.loads(body)["collections"]}
    assert {"demo-vhr", "demo-elevation", "demo-s2", "demo-s1", "demo-truth"} <= served
    status, body = _get(f"{demo_services.stac_url}/search?collections=demo-s2&limit=100")
    features = json.loads(body)["features"]
    assert len(features) == len(demo_area.s2_dates) >= 12
    href = features[0]["assets"]["red"]["href"]
    assert href.startswith(demo_services.assets_url + "/")


def test_assets_answer_ranges_for_gdal(demo_services) -> None:
    _, body = _get(f"{demo_services.stac_url}/search?collections=demo-elevation")
    href = json.loads(body)["features"][0]["assets"]["dsm"]["href"]
    status, part = _get(href, {"Range": "bytes=0-15"})
    assert status == 206 and len(part) == 16 and part[:2] in (b"II", b"MM")
    with rasterio.open(href) as src:  # GDAL /vsicurl reads the COG through ranges
        assert src.crs.to_epsg() == 32631 and src.overviews(1)


def test_asset_server_stays_in_its_root(demo_services) -> None:
    with socket.create_connection(("127.0.0.1", int(demo_services.assets_url.rsplit(":", 1)[1]))) as sock:
        sock.sendall(b"GET /../../../../etc/passwd HTTP/1.0\r\n\r\n")
        answer = sock.recv(200)
    assert b" 404 " in answer or b" 403 " in answer or b" 400 " in answer


def test_context_manager_stops_everything_and_restores_env(demo_area, monkeypatch) -> None:
    monkeypatch.delenv(ENV_DEMO_STAC_URL, raising=False)
    with serve(demo_area) as services:
        import os

        assert os.environ[ENV_DEMO_STAC_URL] == services.stac_url
        pids = [p.pid for p in services._procs]
        ports = [int(u.rsplit(":", 1)[1]) for u in (services.stac_url, services.assets_url)]
        assert all(psutil.pid_exists(pid) for pid in pids)
    assert ENV_DEMO_STAC_URL not in os.environ
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids
    )
    for port in ports:  # the ports are free again
        with socket.socket() as sock:  # SO_REUSEADDR: TIME_WAIT is not "bound", a listener still is
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))
            sock.listen()


def test_missing_catalog_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ServiceError, match="no demo catalog"):
        serve(tmp_path / "nowhere")
