"""First mesh frame of a 2 M-triangle GLB in the Lab's 3D viewer: level 0 first against the whole mesh.

Both cases are the same viewer (``@ai4geo/viewer3d``, opened with Open With > 3D Viewer) in headless
Chromium, on the same file, in one Lab:

- **whole** (the peer): the viewer's first mesh request is rewritten (Playwright route) to ask for the
  whole mesh, as the viewer did before levels of detail: one answer of every triangle.
- **level 0, cold**: the viewer as shipped, first open of the file version (the server decimates it to
  the levels of :data:`ai4geo_kernel.scene3d.LEVEL_TRIANGLES` on this first request).
- **level 0, warm**: the same, opened again (levels cached per file version).

First frame = the viewer's widget creation to the end of drawing the first frame that holds data (the
``FIRST_FRAME`` probe of ``bench_viewer3d.py``: a 1-pixel ``readPixels`` after deck.gl's frame). For the
level cases, also the time until the full level replaced level 0.

Usage: ``.venv/bin/python benchmarks/bench_mesh_levels.py [--dir /tmp/ai4geo-bench-mesh] [--side 1000]``
(a ``side`` x ``side`` vertex grid: 1,000 gives 1,996,002 triangles).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ai4geo_kernel import _process, io, scene3d  # noqa: E402
from benchmarks.bench_viewer3d import FIRST_FRAME, _bench_page, open_with_3d_viewer, start_lab  # noqa: E402
from tests.browser.conftest import CHROMIUM_FLAGS, chromium_path  # noqa: E402

VIEWER = "[...document.querySelectorAll('.a4g-viewer3d')].find(x => x.offsetParent)?.a4gViewer"
LEVELS_DONE = f"""() => {{ const v = {VIEWER};
  const l = v && v.layers[0]; return !!l && !!l.meshLevels && l.meshLevels.length === l.info.levels
  && performance.now() - v._started; }}"""


def write_mesh(path: Path, side: int) -> int:
    """A wavy ``side`` x ``side`` vertex sheet, 2 km wide, in UTM 31N, coloured by height, with normals."""
    x, y = np.meshgrid(np.linspace(0, 2000, side), np.linspace(0, 2000, side))
    z = 40 * np.sin(x / 150) * np.cos(y / 210) + 15 * np.sin((x + y) / 37)
    positions = np.column_stack([x.ravel() + 374000, y.ravel() + 4828000, z.ravel() + 200])
    i = np.arange(side * side).reshape(side, side)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, 1:].ravel(), i[1:, :-1].ravel()
    triangles = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])]).astype(np.uint32)
    t = ((z.ravel() - z.min()) / np.ptp(z)).astype(np.float32)
    colors = np.column_stack([t, 0.4 + 0.2 * t, 1 - t]).astype(np.float32)
    normals = np.tile(np.float32([0, 0, 1]), (len(positions), 1))
    io.write_glb(
        io.TriangleMesh(positions, triangles, colors=colors, normals=normals), path, crs="EPSG:32631"
    )
    return len(triangles)


def measure(browser, lab_url: str, token: str, whole: bool, timeout: float, shot: Path) -> dict:  # type: ignore[no-untyped-def]
    page, errors = _bench_page(browser)
    asked: list[str] = []
    if whole:  # the viewer before levels: its first mesh request asks for every triangle

        def rewrite(route) -> None:  # type: ignore[no-untyped-def]
            url = route.request.url.replace("&level=0", "").replace("level=0&", "")
            asked.append(url)
            route.continue_(url=url)

        page.route(lambda url: "/ai4geo/scene3d/mesh?" in url and "level=0" in url, rewrite)
        # and no finer level asked after it (it would decimate the file before the cold case)
        page.route(lambda url: "/ai4geo/scene3d/mesh?" in url and "level=0" not in url, lambda r: r.abort())
    try:
        page.goto(f"{lab_url}lab/tree/bench?token={token}")
        page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
        page.wait_for_timeout(1500)
        open_with_3d_viewer(page, "mesh.glb")
        first = page.wait_for_function(
            FIRST_FRAME, arg="ours", polling=100, timeout=timeout * 1000
        ).json_value()
        # the mesh the first frame drew is the first one shown (meshLevels[0]); finer ones may follow by now
        drawn = page.evaluate(
            f"() => {{ const l = {VIEWER}.layers[0]; return {{levels: l.meshLevels, info: l.info}}; }}"
        )
        page.screenshot(path=shot)
        first_level = drawn["levels"][0] if not whole else drawn["info"]["levels"] - 1
        row = {
            "first_frame_ms": round(first["drawn"]),
            "first_level": first_level,
            "first_level_max_triangles": drawn["info"]["level_triangles"][first_level],
        }
        if not whole:
            row["all_levels_ms"] = round(
                page.wait_for_function(LEVELS_DONE, polling=200, timeout=timeout * 1000).json_value()
            )
        if errors:
            row["console_errors"] = errors[-3:]
        return row
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ai4geo-bench-mesh"))
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    root = args.dir
    (root / "lab" / "bench").mkdir(parents=True, exist_ok=True)
    triangles = write_mesh(root / "lab" / "bench" / "mesh.glb", args.side)
    print(f"mesh.glb: {triangles} triangles, levels {scene3d.mesh_levels(triangles)}", flush=True)
    lab, port, token = start_lab(root)
    results: dict = {"triangles": triangles, "load_average_start": os.getloadavg()}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
            for case, whole in (("whole", True), ("level0_cold", False), ("level0_warm", False)):
                results[case] = measure(
                    browser, f"http://127.0.0.1:{port}/", token, whole, args.timeout, root / f"{case}.png"
                )
                print(case, json.dumps(results[case]), flush=True)
            browser.close()
    finally:
        _process.stop(lab)
    for case in ("level0_cold", "level0_warm"):
        results[case]["first_frame_ratio_to_whole"] = round(
            results[case]["first_frame_ms"] / results["whole"]["first_frame_ms"], 3
        )
    results["load_average_end"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    (root / "results.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
