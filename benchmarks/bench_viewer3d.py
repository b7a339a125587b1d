# ruff: noqa: E501 - the peer page, its JavaScript and the VRT are kept as they are sent
"""3D viewer against plain deck.gl layers (pydeck's own deck.gl bundle) on the same data, in headless Chromium.

Cases: a 4,000 x 4,000 DSM, 10,000 extruded buildings, 5 million points. For each:

- **ours**: the Lab's 3D viewer (``@ai4geo/viewer3d``) opening the file, data streamed by the Jupyter
  server (terrain tiles by level, point levels); load-to-first-frame is the viewer's own ``firstFrameMs``
  (from the widget's creation to the first frame that draws data), frame time the mean interval between
  frames while the camera orbits (12 forced frames).
- **peer**: a page with pydeck's deck.gl 9.3 bundle (``pydeck/nbextension/static/index.js``) drawing the
  whole data with one plain layer each (full-resolution ``SimpleMeshLayer`` of the DSM grid,
  ``SolidPolygonLayer`` extruded, ``PointCloudLayer``), fetched as one binary file each from a 127.0.0.1
  server; same camera, same measurements (first frame from the script's start).

Server memory: peak RSS of the library answering terrain tiles over a 40,000 x 40,000 float32 VRT mosaic
(6.4 GB if loaded whole) against the size of the raster.

Usage: ``.venv/bin/python benchmarks/bench_viewer3d.py [--dir /tmp/ai4geo-bench-viewer3d] [--scale 1]``
(``--scale 0.25`` for a quick run: 1,000 x 1,000 DSM, 2,500 buildings, 1.25 M points).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import math
import os
import re
import secrets
import shutil
import sys
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from shapely.geometry import box

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ai4geo_kernel import _process, io, scene3d  # noqa: E402
from ai4geo_kernel.lab import lab_command  # noqa: E402
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path  # noqa: E402

FRAMES = 12  # camera steps timed per case
PYDECK_BUNDLE = Path(__import__("pydeck").__file__).parent / "nbextension" / "static" / "index.js"

PEER_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;height:100%}
#c{position:absolute;inset:0;background:rgb(20,23,28)}</style></head><body><div id="c"></div>
<script src="deck.js"></script><script>
const t0 = performance.now();
window.bench = {frames: [], first: 0};
function unpack(buffer) {
  const length = new DataView(buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  const T = {float32: Float32Array, uint32: Uint32Array, uint8: Uint8Array};
  const arrays = {};
  for (const e of header.arrays) arrays[e.name] = new T[e.dtype](buffer, 8 + length + e.offset, e.nbytes / T[e.dtype].BYTES_PER_ELEMENT);
  return {meta: header.meta, arrays};
}
async function main() {
  const kind = location.hash.slice(1);
  const view = JSON.parse(decodeURIComponent(new URLSearchParams(location.search).get('view')));
  let layer;
  const C = deck.COORDINATE_SYSTEM.CARTESIAN;
  if (kind === 'buildings') {
    const data = await (await fetch('buildings.json')).json();
    const rows = [];
    for (const f of data.features) for (const p of f.polygons) rows.push({p: p.map(r => r.map(q => [q[0], q[1], f.base])), h: f.top - f.base});
    layer = new deck.SolidPolygonLayer({id: 'b', data: rows, coordinateSystem: C, extruded: true, getPolygon: d => d.p,
      getElevation: d => d.h, getFillColor: [200, 160, 120]});
  } else {
    const {arrays} = unpack(await (await fetch(kind + '.bin')).arrayBuffer());
    if (kind === 'terrain') {
      layer = new deck.SimpleMeshLayer({id: 't', data: [0], coordinateSystem: C, getPosition: [0, 0, 0], getColor: [200, 200, 200],
        mesh: {attributes: {positions: {value: arrays.positions, size: 3}}, indices: {value: arrays.indices, size: 1}}});
    } else {
      layer = new deck.PointCloudLayer({id: 'p', coordinateSystem: C, pointSize: 2,
        data: {length: arrays.positions.length / 3, attributes: {getPosition: {value: arrays.positions, size: 3}}}, getColor: [255, 160, 0]});
    }
  }
  window.theDeck = new deck.Deck({parent: document.getElementById('c'), views: new deck.OrbitView({orbitAxis: 'Z', fovy: 50}),
    viewState: view, layers: [layer], controller: false,
    onAfterRender: () => { const now = performance.now(); window.bench.frames.push(now);
      if (!window.bench.first) window.bench.first = now - t0; }});
}
main().catch(e => { window.bench.error = String(e); });
</script></body></html>"""

ORBIT = """async ([n, mode]) => {
  const ours = mode === 'ours';
  const v = ours ? [...document.querySelectorAll('.a4g-viewer3d')].find(x => x.offsetParent).a4gViewer : null;
  const deckInstance = ours ? v._deck : window.theDeck;
  const frames = ours ? v._frameTimes : window.bench.frames;  // both push a time in onAfterRender
  let view = ours ? {...v._viewState} : {...deckInstance.props.viewState};
  const times = [];
  for (let i = 0; i < n; i++) {
    view = {...view, rotationOrbit: view.rotationOrbit + 3};
    if (ours) { v._viewState = view; deckInstance.setProps({viewState: {main: view}}); v.render(); }
    else deckInstance.setProps({viewState: view});
    const count = frames.length;
    const deadline = performance.now() + 20000;
    await new Promise(resolve => { const wait = () => frames.length > count || performance.now() > deadline
      ? resolve() : requestAnimationFrame(wait); wait(); });
    times.push(performance.now());
  }
  return (times[times.length - 1] - times[0]) / (times.length - 1);
}"""


def make_data(folder: Path, scale: float) -> dict[str, Path]:
    """DSM COG, CityJSON buildings and a LAS point cloud, written once into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    size, count, points = int(4000 * scale), int(10_000 * scale), int(5_000_000 * scale)
    dsm = folder / f"dsm_{size}.tif"
    if not dsm.exists():
        rows, cols = np.mgrid[0:size, 0:size].astype("float32")
        heights = 150 + 20 * np.sin(rows / 300) * np.cos(cols / 400) + 5 * np.sin(rows / 37 + cols / 53)
        io.write_cog(
            heights.astype("float32"),
            dsm,
            transform=(1.0, 0, 360_000.0, 0, -1.0, 4_840_000.0),
            crs="EPSG:32631",
            nodata=-9999,
        )
    buildings = folder / f"buildings_{count}.city.json"
    if not buildings.exists():
        rng = np.random.default_rng(0)
        side = math.ceil(math.sqrt(count))
        step = size / side
        cells = [(i % side, i // side) for i in range(count)]
        footprints = [
            box(
                360_000 + c * step + 2,
                4_840_000 - (r + 1) * step + 2,
                360_000 + c * step + step * rng.uniform(0.4, 0.9),
                4_840_000 - r * step - 2,
            )
            for c, r in cells
        ]
        frame = gpd.GeoDataFrame(
            {
                "height": rng.uniform(4, 40, count).round(2),
                "roof_type": rng.choice(["flat", "gable"], count),
                "ground_elevation": np.full(count, 150.0),
            },
            geometry=footprints,
            crs="EPSG:32631",
        )
        io.write_cityjson(frame, buildings, ground="ground_elevation")
    cloud = folder / f"points_{points}.las"
    if not cloud.exists():
        rng = np.random.default_rng(1)
        x = rng.uniform(0, size, points)
        y = rng.uniform(0, size, points)
        z = 150 + 20 * np.sin(y / 300) * np.cos(x / 400)
        io.write_las(
            cloud,
            np.column_stack([360_000 + x, 4_840_000 - y, z]),
            crs="EPSG:32631",
            classification=rng.integers(1, 7, points).astype(np.uint8),
        )
    return {"terrain": dsm, "buildings": buildings, "points": cloud}


def peer_files(data: dict[str, Path], web: Path, frame: scene3d.SceneFrame) -> None:
    """The peer's inputs, whole: the full-resolution DSM grid mesh, all buildings, all points."""
    web.mkdir(parents=True, exist_ok=True)
    shutil.copy(PYDECK_BUNDLE, web / "deck.js")
    (web / "index.html").write_text(PEER_PAGE)
    if not (web / "terrain.bin").exists():
        with rasterio.open(data["terrain"]) as src:
            heights = src.read(1).astype("float32")
            xs = src.transform.c + (np.arange(src.width) + 0.5) * src.transform.a
            ys = src.transform.f + (np.arange(src.height) + 0.5) * src.transform.e
        mesh = scene3d.grid_mesh(heights, xs, ys, frame, "EPSG:32631")
        (web / "terrain.bin").write_bytes(
            scene3d.pack_arrays({}, {"positions": mesh["positions"], "indices": mesh["indices"]})
        )
    if not (web / "points.bin").exists():
        meta, arrays = scene3d.point_level(str(data["points"]), 0, frame, first=10**12)
        (web / "points.bin").write_bytes(scene3d.pack_arrays({}, {"positions": arrays["positions"]}))
    if not (web / "buildings.json").exists():
        payload = scene3d.buildings_payload(scene3d.read_buildings(str(data["buildings"])), frame)
        (web / "buildings.json").write_text(json.dumps(payload))


def camera(info: dict) -> dict:
    """The camera the viewer fits on a layer (same formula as SceneViewer.addLayer)."""
    west, south, east, north = info["bounds"]
    size = max(east - west, north - south, 1)
    return {
        "target": [0, 0, (info["zmin"] + info["zmax"]) / 2],
        "rotationX": 35,
        "rotationOrbit": 20,
        "zoom": math.log2(600 / size),
    }


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def open_with_3d_viewer(page, name: str) -> None:  # type: ignore[no-untyped-def]
    item = page.locator(f".jp-DirListing-item[title^='Name: {name}']").first
    item.wait_for(timeout=60_000)
    item.click(button="right")
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Open With$")).first.hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^3D Viewer$")).first.click()


def measure_ours(browser, lab_url: str, token: str, name: str, timeout: float) -> dict:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"{lab_url}lab/tree/bench?token={token}")
        page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
        page.wait_for_timeout(1500)
        open_with_3d_viewer(page, name)
        print(f"  ours: {name} opened", flush=True)
        page.wait_for_function(
            "() => { const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
            " return v && v.a4gViewer.stats().firstFrameMs > 0; }",
            timeout=timeout * 1000,
        )
        first = page.evaluate(
            "() => [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent)"
            ".a4gViewer.stats().firstFrameMs"
        )
        page.wait_for_timeout(3000)  # let the next levels arrive, as a user would
        frame = page.evaluate(ORBIT, [FRAMES, "ours"])
        return {"first_frame_ms": round(first), "frame_ms": round(frame, 1)}
    finally:
        page.close()


def measure_peer(browser, url: str, kind: str, view: dict, timeout: float) -> dict:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        from urllib.parse import quote

        page.goto(f"{url}index.html?view={quote(json.dumps(view))}#{kind}")
        try:
            page.wait_for_function(
                "() => window.bench.first > 0 || window.bench.error", timeout=timeout * 1000
            )
        except Exception:  # noqa: BLE001 - a peer that never draws is reported as such
            return {"first_frame_ms": None, "frame_ms": None, "error": f"no frame within {timeout:.0f} s"}
        error = page.evaluate("() => window.bench.error")
        if error:
            return {"first_frame_ms": None, "frame_ms": None, "error": error}
        first = page.evaluate("() => window.bench.first")
        page.wait_for_timeout(1000)
        frame = page.evaluate(ORBIT, [FRAMES, "peer"])
        return {"first_frame_ms": round(first), "frame_ms": round(frame, 1)}
    finally:
        page.close()


def server_memory(data: dict[str, Path], folder: Path) -> dict:
    """Peak RSS of the library answering terrain tiles over a 40,000 x 40,000 float32 mosaic (VRT of 10 x 10
    copies of the DSM), in a child process so the peak is its own."""
    import subprocess

    with rasterio.open(data["terrain"]) as src:
        width, height = src.width, src.height
    repeat = 10
    vrt = folder / "mosaic.vrt"
    sources = []
    for r in range(repeat):
        for c in range(repeat):
            sources.append(
                f'<ComplexSource><SourceFilename relativeToVRT="0">{data["terrain"]}</SourceFilename><SourceBand>1</SourceBand>'
                f'<SrcRect xOff="0" yOff="0" xSize="{width}" ySize="{height}"/>'
                f'<DstRect xOff="{c * width}" yOff="{r * height}" xSize="{width}" ySize="{height}"/><NODATA>-9999</NODATA></ComplexSource>'
            )
    vrt.write_text(
        f'<VRTDataset rasterXSize="{width * repeat}" rasterYSize="{height * repeat}"><SRS>EPSG:32631</SRS>'
        f'<GeoTransform>360000, 1, 0, 4840000, 0, -1</GeoTransform><VRTRasterBand dataType="Float32" band="1">'
        f"<NoDataValue>-9999</NoDataValue>{''.join(sources)}</VRTRasterBand></VRTDataset>"
    )
    code = f"""
import resource, time
from ai4geo_kernel import scene3d
service = scene3d.Scene3DService({str(folder)!r})
frame = scene3d.SceneFrame.parse("EPSG:32631", "380000,4820000")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
info = service.info("mosaic.vrt")
start = time.perf_counter()
tiles = 0
for level in range(info["levels"]):
    n = 2 ** level
    for x, y in {{(0, 0), (n // 2, n // 2), (n - 1, n - 1)}}:
        service.terrain("mosaic.vrt", level, x, y, frame)
        tiles += 1
elapsed = time.perf_counter() - start
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, info["levels"], tiles, elapsed)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    base, peak, levels, tiles, elapsed = int(out[0]), int(out[1]), int(out[2]), int(out[3]), float(out[4])
    raster_mib = width * repeat * height * repeat * 4 / 2**20
    return {
        "raster": f"{width * repeat} x {height * repeat} float32",
        "raster_mib": round(raster_mib),
        "peak_rss_mib": round(peak / 1024),
        "import_rss_mib": round(base / 1024),
        "levels": levels,
        "tiles": tiles,
        "seconds": round(elapsed, 1),
        "ratio_peak_to_raster": round(peak / 1024 / raster_mib, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ai4geo-bench-viewer3d"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--cases", default="terrain,buildings,points")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    root = args.dir / f"scale{args.scale:g}"
    bench = root / "lab" / "bench"
    data = make_data(bench, args.scale)
    print("data ready", {k: v.name for k, v in data.items()}, flush=True)
    service = scene3d.Scene3DService(root / "lab")
    infos = {kind: service.info(f"bench/{path.name}") for kind, path in data.items()}
    dsm_info = infos["terrain"]
    west, south, east, north = dsm_info["bounds"]
    frame = scene3d.SceneFrame(
        scene3d.metric_crs(__import__("pyproj").CRS.from_epsg(32631), (west, south, east, north)),
        (round((west + east) / 2), round((south + north) / 2)),
    )
    peer_files(data, root / "peer", frame)
    print("peer files ready", flush=True)
    results: dict[str, dict] = {}
    http_server, http_port = serve(root / "peer")
    port, token = _process.free_port(), secrets.token_hex(16)
    log = root / "lab.log"
    env = {**os.environ}
    for variable, name in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
    ):
        (root / name).mkdir(exist_ok=True)
        env[variable] = str(root / name)  # a fresh Lab: no workspace restored from elsewhere
    lab = _process.start(
        lab_command(port=port, root=root / "lab", token=token, base_url="/"), log=log, env=env
    )
    try:
        _process.wait_http(
            f"http://127.0.0.1:{port}/api/status?token={token}", proc=lab, log=log, name="lab", timeout=120
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            for kind in args.cases.split(","):
                info = infos[kind]
                view = camera(info)
                ox, oy = frame.origin
                view["target"] = [
                    (info["bounds"][0] + info["bounds"][2]) / 2 - ox,
                    (info["bounds"][1] + info["bounds"][3]) / 2 - oy,
                    view["target"][2],
                ]
                ours = measure_ours(
                    browser, f"http://127.0.0.1:{port}/", token, data[kind].name, args.timeout
                )
                print(kind, "ours", json.dumps(ours), flush=True)
                peer = measure_peer(browser, f"http://127.0.0.1:{http_port}/", kind, view, args.timeout)
                results[kind] = {"ours": ours, "peer": peer}
                if peer.get("first_frame_ms"):
                    results[kind]["first_frame_ratio"] = round(
                        ours["first_frame_ms"] / peer["first_frame_ms"], 3
                    )
                    results[kind]["frame_ratio"] = round(ours["frame_ms"] / peer["frame_ms"], 3)
                print(kind, json.dumps(results[kind]), flush=True)
            browser.close()
    finally:
        _process.stop(lab)
        http_server.shutdown()
    results["server_memory"] = server_memory(data, root / "lab" / "bench")
    print("server_memory", json.dumps(results["server_memory"]), flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"viewer3d_scale{args.scale:g}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
