# ruff: noqa: E501 - the peer page, its JavaScript and the VRT are kept as they are sent
"""3D viewer against plain deck.gl layers (pydeck's own deck.gl bundle) on the same data, in headless Chromium.

Cases: a 4,000 x 4,000 DSM, 10,000 extruded buildings, 5 million points. For each:

- **ours**: the Lab's 3D viewer (``@ai4geo/viewer3d``) opening the file, data streamed by the Jupyter
  server (terrain tiles by level, point levels).
- **peers**: a page with pydeck's deck.gl 9.3 bundle (``pydeck/nbextension/static/index.js``) drawing the
  whole data with plain layers, fetched from a 127.0.0.1 server: for the DSM, ``TerrainLayer`` (a Terrain-RGB
  PNG of the DSM meshed by loaders.gl's worker, served locally, with a stated ``meshMaxError``) and a
  full-resolution ``SimpleMeshLayer`` of the DSM grid; ``SolidPolygonLayer`` extruded for the buildings;
  ``PointCloudLayer`` for the points. Same camera.

Same measurements, same code, for both pages: **first frame** = from the start (ours: the viewer widget's
creation; peer: the page script's start) to the end of drawing the first frame that holds data, the end
being stamped after a 1-pixel ``readPixels`` (WebGL calls return before SwiftShader has drawn, so
deck.gl's ``onAfterRender`` alone only says a frame was issued; that time is kept as
``first_frame_issued_ms``); polled every 100 ms, not per animation frame (a page whose frames take seconds
starves an animation-frame poll). **Frame time** = mean over camera orbit steps of (change the view, wait
for deck.gl's next frame, ``readPixels``): 12 steps, or at least 1 and none started after ``ORBIT_BUDGET_S``.

Server memory: peak RSS of the library answering terrain tiles over a 40,000 x 40,000 float32 VRT mosaic
(6.4 GB if loaded whole) against the size of the raster.

Usage: ``.venv/bin/python benchmarks/bench_viewer3d.py [--dir /tmp/ai4geo-bench-viewer3d] [--scale 1]``
(``--scale 0.25`` for a quick run: 1,000 x 1,000 DSM, 2,500 buildings, 1.25 M points). The TerrainLayer's
worker comes from the npm package ``@loaders.gl/terrain`` of the bundle's version (``npm pack``, once).
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
from rasterio.enums import Resampling
from shapely.geometry import box

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ai4geo_kernel import _process, io, scene3d  # noqa: E402
from ai4geo_kernel.lab import lab_command  # noqa: E402
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path, open_with  # noqa: E402

FRAMES = 12  # camera steps timed per case
ORBIT_BUDGET_S = 90  # at least 1 step, no new one after this (a 5 M point frame takes minutes here)
PYDECK_BUNDLE = Path(__import__("pydeck").__file__).parent / "nbextension" / "static" / "index.js"

PEER_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0;height:100%}
#c{position:absolute;inset:0;background:rgb(20,23,28)}</style></head><body><div id="c"></div>
<script src="deck.js"></script><script>
const t0 = performance.now();
window.bench = {t0, frames: [], issued: 0};
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
  const meta = await (await fetch('peer.json')).json();
  let layer;
  const C = deck.COORDINATE_SYSTEM.CARTESIAN;
  if (kind === 'buildings') {
    const data = await (await fetch('buildings.json')).json();
    const rows = [];
    for (const f of data.features) for (const p of f.polygons) rows.push({p: p.map(r => r.map(q => [q[0], q[1], f.base])), h: f.top - f.base});
    layer = new deck.SolidPolygonLayer({id: 'b', data: rows, coordinateSystem: C, extruded: true, getPolygon: d => d.p,
      getElevation: d => d.h, getFillColor: [200, 160, 120]});
  } else if (kind === 'terrain') {
    // what a pydeck user does with a DSM: a Terrain-RGB image meshed in the browser by loaders.gl's
    // TerrainLoader (martini for a 2^n square, else delatin) in its worker, served here instead of from a CDN
    layer = new deck.TerrainLayer({id: 't', coordinateSystem: C, elevationData: 'terrain.png', bounds: meta.terrain.bounds,
      elevationDecoder: {rScaler: 6553.6, gScaler: 25.6, bScaler: 0.1, offset: -10000}, meshMaxError: meta.terrain.meshMaxError,
      color: [200, 200, 200], loadOptions: {terrain: {workerUrl: new URL('terrain-worker.js', location.href).href}},
      onError: e => { window.bench.error = String(e); }});
  } else {
    const {arrays} = unpack(await (await fetch(kind + '.bin')).arrayBuffer());
    if (kind === 'terrain-mesh') {
      layer = new deck.SimpleMeshLayer({id: 'm', data: [0], coordinateSystem: C, getPosition: [0, 0, 0], getColor: [200, 200, 200],
        mesh: {attributes: {positions: {value: arrays.positions, size: 3}}, indices: {value: arrays.indices, size: 1}}});
    } else {
      layer = new deck.PointCloudLayer({id: 'p', coordinateSystem: C, pointSize: 2,
        data: {length: arrays.positions.length / 3, attributes: {getPosition: {value: arrays.positions, size: 3}}}, getColor: [255, 160, 0]});
    }
  }
  window.theDeck = new deck.Deck({parent: document.getElementById('c'), views: new deck.OrbitView({orbitAxis: 'Z', fovy: 50}),
    viewState: view, layers: [layer], controller: false,
    deviceProps: {webgl: {preserveDrawingBuffer: true}}, parameters: {clearColor: [0.08, 0.09, 0.11, 1]},  // as ours
    onError: e => { window.bench.error = String(e); },
    onAfterRender: () => { const now = performance.now(); window.bench.frames.push(now);
      if (!window.bench.issued && layer.isLoaded) window.bench.issued = now - t0; }});
}
main().catch(e => { window.bench.error = String(e); });
</script></body></html>"""

# Shared by both pages. WebGL calls return before the GPU (here SwiftShader, in Chromium's GPU process) has
# drawn: deck.gl's onAfterRender only says the commands were issued. A 1-pixel readPixels waits until
# everything issued is drawn, so the harness stamps a frame after it. After the orbit it counts the canvas
# pixels that are neither the clear colour nor transparent (the frame really drew data).
HELPERS = """
window.a4gBench = {
  target(mode) {
    if (mode === 'peer') return {deck: window.theDeck, frames: window.bench.frames, start: 0};
    const v = [...document.querySelectorAll('.a4g-viewer3d')].find(x => x.offsetParent)?.a4gViewer;
    return v && {deck: v._deck, frames: v._frameTimes, viewer: v};
  },
  issued(mode) {
    if (mode === 'peer') return window.bench.issued > 0 || !!window.bench.error;
    const t = this.target(mode);
    return !!t && t.viewer.stats().firstFrameMs > 0;
  },
  drawn(deckInstance) {
    const canvas = deckInstance.getCanvas ? deckInstance.getCanvas() : deckInstance.canvas;
    const gl = canvas.getContext('webgl2');
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    return performance.now();
  },
  triangles(deckInstance) {  // the peer's terrain mesh as loaders.gl made it
    const mesh = deckInstance.layerManager?.getLayers().find(l => l.id.endsWith('-mesh'))?.props.mesh;
    return mesh && mesh.indices ? mesh.indices.value.length / 3 : null;
  },
  instances(deckInstance) {  // what the last frame drew: instances (points, polygons, meshes) by layer type
    const out = {};
    for (const l of deckInstance.layerManager?.getLayers() || []) {
      if (l.isComposite || !l.props.visible) continue;
      const name = l.constructor.layerName;
      out[name] = (out[name] || 0) + l.getNumInstances();
    }
    return out;
  },
  coverage(deckInstance) {
    const canvas = deckInstance.getCanvas ? deckInstance.getCanvas() : deckInstance.canvas;
    const gl = canvas.getContext('webgl2');
    const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight, px = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    let n = 0;
    // neither the clear colour (ours) nor transparent (the peer's deck.gl 9.3 clears to transparent black)
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] && Math.abs(px[i] - 20) + Math.abs(px[i + 1] - 23) + Math.abs(px[i + 2] - 28) > 12) n++;
    return n / (w * h);
  },
};
"""

# polled every 100 ms (not per animation frame: a page whose frames take seconds would starve that poll)
FIRST_FRAME = """mode => {
  if (!window.a4gBench.issued(mode)) return false;
  if (mode === 'peer' && window.bench.error) return {error: window.bench.error};
  const t = window.a4gBench.target(mode);
  const done = window.a4gBench.drawn(t.deck);
  const issued = mode === 'peer' ? window.bench.issued : t.viewer.stats().firstFrameMs;
  const start = mode === 'peer' ? window.bench.t0 : t.viewer._started;
  return {issued, drawn: done - start, triangles: window.a4gBench.triangles(t.deck)};
}"""

# one camera step after the other: change the view, wait for the frame deck.gl draws for it, wait until the
# GPU has drawn it; frame time = mean of those step times (12 steps, fewer past the time budget)
ORBIT = """async ([n, mode, budget]) => {
  const t = window.a4gBench.target(mode);
  const ours = mode === 'ours';
  let view = ours ? {...t.viewer._viewState} : {...t.deck.props.viewState};
  const steps = [];
  const begin = performance.now();
  for (let i = 0; i < n && (i < 1 || performance.now() - begin < budget); i++) {
    view = {...view, rotationOrbit: view.rotationOrbit + 3};
    const count = t.frames.length;
    const start = performance.now();
    if (ours) { t.viewer._viewState = view; t.deck.setProps({viewState: {main: view}}); t.viewer.render(); }
    else t.deck.setProps({viewState: view});
    const deadline = start + 120000;
    await new Promise(resolve => { const wait = () => t.frames.length > count || performance.now() > deadline
      ? resolve() : setTimeout(wait, 2); wait(); });
    steps.push(window.a4gBench.drawn(t.deck) - start);
  }
  steps.sort((a, b) => a - b);
  return {mean: steps.reduce((a, b) => a + b, 0) / steps.length, median: steps[Math.floor(steps.length / 2)], steps: steps.length,
    coverage: window.a4gBench.coverage(t.deck), instances: window.a4gBench.instances(t.deck)};
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


def terrain_rgb(heights: np.ndarray) -> np.ndarray:
    """Mapbox Terrain-RGB of a height grid (0.1 m steps from -10,000 m), the encoding deck.gl's TerrainLayer
    decodes with ``elevationDecoder = {rScaler: 6553.6, gScaler: 25.6, bScaler: 0.1, offset: -10000}``."""
    code = np.round((np.nan_to_num(heights, nan=0.0).astype("float64") + 10_000) * 10).astype(np.uint32)
    return np.dstack([(code >> 16) & 255, (code >> 8) & 255, code & 255]).astype(np.uint8)


def terrain_worker(web: Path) -> None:
    """loaders.gl's terrain worker of the version inside pydeck's bundle, from its npm package (``npm pack``):
    the bundle's TerrainLayer has no main-thread parser and fetches that worker from a CDN, which is unreachable
    offline; a pydeck user serves it locally the same way."""
    import subprocess
    import tarfile

    found = re.search(
        r'"([0-9.]+)";var \w+=\{dataType:null,batchType:null,name:"Terrain"', PYDECK_BUNDLE.read_text()
    )
    if not found:
        raise RuntimeError("no TerrainLoader version found in pydeck's bundle")
    package = f"@loaders.gl/terrain@{found.group(1)}"
    out = subprocess.run(
        ["npm", "pack", package, "--pack-destination", str(web)], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    with tarfile.open(web / out) as tar:
        member = tar.extractfile("package/dist/terrain-worker.js")
        assert member is not None
        (web / "terrain-worker.js").write_bytes(member.read())
    (web / out).unlink()


def footprints_json(path: Path, frame: scene3d.SceneFrame) -> dict:
    """The buildings our server sends (:func:`scene3d.buildings_payload`: footprints at ``base``, extruded
    to ``top``), as the plain JSON a deck.gl user would fetch: one feature per building, its footprint rings
    of [x, y] in the scene frame."""
    _, arrays = scene3d.buildings_payload(scene3d.read_buildings(str(path)), frame)
    rings, polygons = arrays["ring_offsets"], arrays["polygon_offsets"]
    xy = arrays["positions"][:, :2].round(3).tolist()
    features = [
        {"polygons": [], "base": float(b), "top": float(t)}
        for b, t in zip(arrays["base"], arrays["top"], strict=True)
    ]
    for p in np.flatnonzero(arrays["polygon_type"] == 0):  # footprints (this bench writes LOD0/1 buildings)
        polygon = [xy[rings[r] : rings[r + 1]] for r in range(polygons[p], polygons[p + 1])]
        features[arrays["polygon_building"][p]]["polygons"].append(polygon)
    return {"features": features}


def peer_files(
    data: dict[str, Path], web: Path, frame: scene3d.SceneFrame, peers: list[str], mesh_error: float
) -> None:
    """The peer's inputs, whole: the DSM as a Terrain-RGB PNG (and the full-resolution grid mesh when the
    ``terrain-mesh`` peer runs), all buildings as JSON, all points as one binary array."""
    from PIL import Image

    web.mkdir(parents=True, exist_ok=True)
    shutil.copy(PYDECK_BUNDLE, web / "deck.js")
    (web / "index.html").write_text(PEER_PAGE)
    if "terrain" in peers and not (web / "terrain-worker.js").exists():
        terrain_worker(web)
    with rasterio.open(data["terrain"]) as src:
        west, south, east, north = src.bounds
        ox, oy = frame.origin
        meta = {
            "terrain": {"bounds": [west - ox, south - oy, east - ox, north - oy], "meshMaxError": mesh_error}
        }
        if not (web / "terrain.png").exists():
            # a 2^n square, resampled over the same bounds: loaders.gl meshes it with martini; any other size
            # goes to its delatin path, which leaves the image's extra last row and column at 0 m (a wall
            # down to 0 at two edges of the mesh)
            side = 2 ** math.ceil(math.log2(max(src.width, src.height)))
            heights = src.read(1, out_shape=(side, side), resampling=Resampling.bilinear, masked=True)
            Image.fromarray(terrain_rgb(heights.filled(np.nan).astype("float32"))).save(web / "terrain.png")
        if "terrain-mesh" in peers and not (web / "terrain-mesh.bin").exists():
            heights = src.read(1).astype("float32")
            xs = src.transform.c + (np.arange(src.width) + 0.5) * src.transform.a
            ys = src.transform.f + (np.arange(src.height) + 0.5) * src.transform.e
            mesh = scene3d.grid_mesh(heights, xs, ys, frame, "EPSG:32631")
            (web / "terrain-mesh.bin").write_bytes(
                scene3d.pack_arrays({}, {"positions": mesh["positions"], "indices": mesh["indices"]})
            )
    (web / "peer.json").write_text(json.dumps(meta))
    if "points" in peers and not (web / "points.bin").exists():
        import laspy

        cloud = laspy.read(data["points"])
        x, y = frame.local(cloud.header.parse_crs(), np.asarray(cloud.x), np.asarray(cloud.y))
        positions = np.column_stack([x, y, np.asarray(cloud.z, dtype="float32")])
        (web / "points.bin").write_bytes(scene3d.pack_arrays({}, {"positions": positions}))
    if "buildings" in peers and not (web / "buildings.json").exists():
        (web / "buildings.json").write_text(json.dumps(footprints_json(data["buildings"], frame)))


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


def start_lab(root: Path) -> tuple[object, int, str]:
    """A fresh Lab (its own config, settings and workspaces: nothing restored from elsewhere) serving
    ``root / "lab"`` on 127.0.0.1, started and answering; its log is ``root / "lab.log"``."""
    port, token = _process.free_port(), secrets.token_hex(16)
    log = root / "lab.log"
    env = {**os.environ}
    for variable, name in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
    ):
        (root / name).mkdir(exist_ok=True)
        env[variable] = str(root / name)
    lab = _process.start(
        lab_command(port=port, root=root / "lab", token=token, base_url="/"), log=log, env=env
    )
    try:
        _process.wait_http(
            f"http://127.0.0.1:{port}/api/status?token={token}", proc=lab, log=log, name="lab", timeout=120
        )
    except BaseException:
        _process.stop(lab)
        raise
    return lab, port, token


def open_with_3d_viewer(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Open With > 3D Viewer, as the browser tests do (the viewer's own first frame is waited for apart)."""
    open_with(page, name, "3D Viewer")


def _bench_page(browser) -> tuple[object, list[str]]:  # type: ignore[no-untyped-def]
    """A page with the measuring helpers installed, and the list its console errors go to."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text[:300]) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)[:300]))
    page.add_init_script(HELPERS)
    return page, errors


def _first_and_orbit(page, mode: str, timeout: float, errors: list[str], settle_ms: int, shot: Path) -> dict:  # type: ignore[no-untyped-def]
    """First frame (issued and drawn) then the orbit's frame time, the same code for both pages; a screenshot
    of the last frame in ``shot``."""
    try:
        first = page.wait_for_function(
            FIRST_FRAME, arg=mode, polling=100, timeout=timeout * 1000
        ).json_value()
    except Exception:  # noqa: BLE001 - a page that never draws is reported as such, with its errors
        return {"error": f"no frame within {timeout:.0f} s", "console_errors": errors[-5:]}
    if "error" in first:
        return {"error": first["error"], "console_errors": errors[-5:]}
    page.wait_for_timeout(settle_ms)
    orbit = page.evaluate(ORBIT, [FRAMES, mode, ORBIT_BUDGET_S * 1000])
    try:
        page.screenshot(path=shot, timeout=300_000)
    except Exception as error:  # noqa: BLE001 - the figures stand without it
        print(f"  no screenshot {shot.name}: {error}", flush=True)
    return {
        "first_frame_ms": round(first["drawn"]),
        "first_frame_issued_ms": round(first["issued"]),
        "frame_ms": round(orbit["mean"], 1),
        "frame_median_ms": round(orbit["median"], 1),
        "frame_steps": orbit["steps"],
        "orbit_coverage": round(orbit["coverage"], 3),
        "orbit_instances": orbit["instances"],
        **({"mesh_triangles": first["triangles"]} if first.get("triangles") else {}),
    }


def measure_ours(browser, lab_url: str, token: str, name: str, timeout: float, shot: Path) -> dict:  # type: ignore[no-untyped-def]
    page, errors = _bench_page(browser)
    try:
        page.goto(f"{lab_url}lab/tree/bench?token={token}")
        page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
        page.wait_for_timeout(1500)
        open_with_3d_viewer(page, name)
        print(f"  ours: {name} opened", flush=True)
        # let the next levels arrive, as a user would, before orbiting
        return _first_and_orbit(page, "ours", timeout, errors, settle_ms=3000, shot=shot)
    finally:
        page.close()


def measure_peer(browser, url: str, kind: str, view: dict, timeout: float, shot: Path) -> dict:  # type: ignore[no-untyped-def]
    from urllib.parse import quote

    page, errors = _bench_page(browser)
    try:
        page.goto(f"{url}index.html?view={quote(json.dumps(view))}#{kind}")
        return _first_and_orbit(page, "peer", timeout, errors, settle_ms=1000, shot=shot)
    finally:
        page.close()


#: the child process that serves tiles of every level: ``KIND`` (terrain / points), ``PATH`` relative to ``ROOT``
_SERVE_TILES = """
import re, sys, time
from ai4geo_kernel import scene3d
def hwm():  # VmHWM, this process's own peak (ru_maxrss keeps the parent's peak across fork and exec)
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
kind, root, path = sys.argv[1:4]
service = scene3d.Scene3DService(root)
frame = scene3d.SceneFrame.parse("EPSG:32631", "380000,4820000")
base = hwm()
start = time.perf_counter()
info = service.info(path)
tiles = 0
for level in range(info["levels"]):
    n = 2 ** level
    for x, y in {(0, 0), (n // 2, n // 2), (n - 1, n - 1)}:
        getattr(service, kind)(path, level, x, y, frame)
        tiles += 1
elapsed = time.perf_counter() - start
print(base, hwm(), info["levels"], tiles, elapsed)
"""


def _serve_tiles(kind: str, folder: Path, name: str) -> dict:
    """Peak RSS of :class:`scene3d.Scene3DService` opening ``name`` and answering 3 tiles of each level, in a
    child process so that the peak is its own."""
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", _SERVE_TILES, kind, str(folder), name],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.split()
    base, peak, levels, tiles, elapsed = int(out[0]), int(out[1]), int(out[2]), int(out[3]), float(out[4])
    return {
        "peak_rss_mib": round(peak / 1024),
        "import_rss_mib": round(base / 1024),
        "levels": levels,
        "tiles": tiles,
        "seconds": round(elapsed, 1),
    }


def terrain_memory(data: dict[str, Path], folder: Path) -> dict:
    """Terrain tiles over a 40,000 x 40,000 float32 mosaic (VRT of 10 x 10 copies of the DSM)."""
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
    result = _serve_tiles("terrain", folder, vrt.name)
    raster_mib = width * repeat * height * repeat * 4 / 2**20
    return {
        "raster": f"{width * repeat} x {height * repeat} float32",
        "raster_mib": round(raster_mib),
        **result,
        "ratio_peak_to_raster": round(result["peak_rss_mib"] / raster_mib, 4),
    }


def points_memory(folder: Path, count: int, side: float) -> dict:
    """Point tiles of every level of a LAS cloud of ``count`` points over ``side`` x ``side`` m, written in
    chunks with laspy (never whole in memory) and deleted afterwards."""
    import laspy
    from pyproj import CRS

    from ai4geo_kernel.io import atomic_path

    folder.mkdir(parents=True, exist_ok=True)
    cloud = folder / f"points_big_{count}.las"
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.offsets = np.array([360_000.0, 4_840_000.0 - side, 0.0])
    header.scales = np.array([0.01, 0.01, 0.01])
    header.add_crs(CRS.from_epsg(32631))
    rng = np.random.default_rng(2)
    chunk = 2_000_000
    try:
        with atomic_path(cloud, suffix=".las") as tmp, laspy.open(tmp, mode="w", header=header) as writer:
            for start in range(0, count, chunk):
                n = min(chunk, count - start)
                x, y = rng.uniform(0, side, n), rng.uniform(0, side, n)
                points = laspy.ScaleAwarePointRecord.zeros(n, header=header)
                points.x, points.y = 360_000 + x, 4_840_000 - y
                points.z = 150 + 20 * np.sin(y / 300) * np.cos(x / 400)
                points.classification = rng.integers(1, 7, n).astype(np.uint8)
                writer.write_points(points)
        size_mib = cloud.stat().st_size / 2**20
        result = _serve_tiles("points", folder, cloud.name)
    finally:
        cloud.unlink(missing_ok=True)
    whole_mib = count * 3 * 8 / 2**20  # x, y, z as float64, what loading the cloud whole holds at least
    return {
        "points": count,
        "file_mib": round(size_mib),
        "xyz_float64_mib": round(whole_mib),
        **result,
        "ratio_peak_to_file": round(result["peak_rss_mib"] / size_mib, 4),
    }


#: the peers of each case, by the page's kind
PEERS = {"terrain": ["terrain", "terrain-mesh"], "buildings": ["buildings"], "points": ["points"]}
PEER_NAMES = {
    "terrain": "deck.gl TerrainLayer (Terrain-RGB PNG of the DSM, loaders.gl mesh, meshMaxError {error} m)",
    "terrain-mesh": "deck.gl SimpleMeshLayer (full-resolution grid mesh)",
    "buildings": "deck.gl SolidPolygonLayer extruded (pre-built JSON)",
    "points": "deck.gl PointCloudLayer (all points, one binary fetch)",
}


def measure_cases(
    root: Path,
    data: dict[str, Path],
    infos: dict,
    frame: scene3d.SceneFrame,
    cases: list[str],
    peers: list[str],
    args: argparse.Namespace,
) -> dict:
    """Start a Lab and the peers' file server, measure each case in Chromium: ours then its peers."""
    from playwright.sync_api import sync_playwright

    shots = root / "screenshots"
    shots.mkdir(exist_ok=True)
    results: dict = {"load_average": {"start": os.getloadavg()}}
    http_server, http_port = serve(root / "peer")
    lab, port, token = start_lab(root)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            for case in cases:
                info = infos[case]
                view = camera(info)
                ox, oy = frame.origin
                view["target"] = [
                    (info["bounds"][0] + info["bounds"][2]) / 2 - ox,
                    (info["bounds"][1] + info["bounds"][3]) / 2 - oy,
                    view["target"][2],
                ]
                ours = measure_ours(
                    browser,
                    f"http://127.0.0.1:{port}/",
                    token,
                    data[case].name,
                    args.timeout,
                    shots / f"{case}-ours.png",
                )
                print(case, "ours", json.dumps(ours), flush=True)
                row: dict = {"ours": ours, "peers": {}}
                for kind in PEERS[case]:
                    if kind not in peers:
                        continue
                    peer = measure_peer(
                        browser,
                        f"http://127.0.0.1:{http_port}/",
                        kind,
                        view,
                        args.timeout,
                        shots / f"{case}-peer-{kind}.png",
                    )
                    peer["name"] = PEER_NAMES[kind].format(error=args.mesh_error)
                    if peer.get("first_frame_ms") and ours.get("first_frame_ms"):
                        peer["first_frame_ratio"] = round(ours["first_frame_ms"] / peer["first_frame_ms"], 3)
                        peer["frame_ratio"] = round(ours["frame_ms"] / peer["frame_ms"], 3)
                    row["peers"][kind] = peer
                    print(case, kind, json.dumps(peer), flush=True)
                results[case] = row
                results["load_average"][case] = os.getloadavg()
            browser.close()
    finally:
        _process.stop(lab)
        http_server.shutdown()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ai4geo-bench-viewer3d"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--cases", default="terrain,buildings,points")
    parser.add_argument(
        "--peers",
        default="terrain,terrain-mesh,buildings,points",
        help="peer pages to run (of the chosen cases)",
    )
    parser.add_argument("--mesh-error", type=float, default=1.0, help="the TerrainLayer's meshMaxError (m)")
    parser.add_argument("--no-memory", action="store_true", help="skip the server memory measurement")
    parser.add_argument(
        "--memory-points",
        type=int,
        default=40_000_000,
        help="points of the cloud served for the memory figure",
    )
    args = parser.parse_args()

    cases = [case for case in args.cases.split(",") if case]  # none: the server memory alone
    peers = [k for case in cases for k in PEERS[case] if k in args.peers.split(",")]
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
    peer_files(data, root / "peer", frame, peers, args.mesh_error)
    print("peer files ready", flush=True)
    out = ROOT / "benchmarks" / "results" / f"viewer3d_scale{args.scale:g}.json"
    results: dict = json.loads(out.read_text()) if out.exists() and not cases else {}
    if cases:
        results = {
            "command": " ".join(sys.argv),
            **measure_cases(root, data, infos, frame, cases, peers, args),
        }
    if not args.no_memory:
        results["memory_command"] = " ".join(sys.argv)
        results["server_memory"] = {"terrain": terrain_memory(data, root / "lab" / "bench")}
        print("server_memory terrain", json.dumps(results["server_memory"]["terrain"]), flush=True)
        count = int(args.memory_points * args.scale)
        results["server_memory"]["points"] = points_memory(root / "memory", count, 4000 * args.scale)
        print("server_memory points", json.dumps(results["server_memory"]["points"]), flush=True)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
