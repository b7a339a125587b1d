"""A point cloud in the Lab's 3D viewer is loaded by tiles chosen by the camera: the overview draws coarse
tiles, zooming in (mouse wheel) loads finer tiles where the camera looks and draws more points there, under
the browser's point budget; the class filter applies to every tile. Screenshots in the test's tmp dir."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ai4geo_kernel import io as a4g_io
from ai4geo_kernel import scene3d
from tests.browser.conftest import VIEWER3D as VIEWER
from tests.browser.conftest import canvas_pixels, drawn_mask, open_in_viewer3d, open_lab

pytestmark = pytest.mark.browser
SIZE = 2000.0
POINTS = 600_000


def _cloud(path: Path) -> None:
    """600,000 points over 2 km in random file order: ground (class 2) west, buildings (class 6) east."""
    rng = np.random.default_rng(5)
    x = rng.uniform(0, SIZE, POINTS)
    y = rng.uniform(0, SIZE, POINTS)
    z = 100 + 10 * np.sin(x / 300) + 5 * np.cos(y / 200)
    classes = np.where(x < SIZE / 2, 2, 6).astype(np.uint8)
    a4g_io.write_las(
        path, np.column_stack([374000 + x, 4828000 + y, z]), crs="EPSG:32631", classification=classes
    )


def _drawn(page, path: Path) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Mask of the canvas pixels that are not background; the canvas is saved to ``path``."""
    return drawn_mask(canvas_pixels(page, path))


def _viewer_js(body: str) -> str:
    return (
        "() => { const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        + body
        + "}"
    )


def test_zooming_in_loads_finer_point_tiles(lab_factory, page, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _cloud(root / "cloud.las")
    index = scene3d.point_tile_index(root / "cloud.las")
    assert index.levels >= 3  # 600,000 points, 150,000 at most per tile
    lab = lab_factory(root=root)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab)
    open_in_viewer3d(page, "cloud.las")
    viewer = page.locator(VIEWER).first

    # the overview: coarse tiles only (uniform samples of the file), drawn over the middle of the canvas
    page.wait_for_timeout(1500)  # let a refinement, if any were due, start
    page.wait_for_function(_viewer_js("return v.a4gViewer.layers[0].pending.size === 0;"), timeout=90_000)
    overview_tiles = viewer.evaluate("v => [...v.a4gViewer.layers[0].tiles.keys()]")
    assert "0/0/0" in overview_tiles and not any(key.startswith("2/") for key in overview_tiles)
    overview = _drawn(page, tmp_path / "1-overview.png")
    height, width = overview.shape
    assert overview[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].mean() > 0.3
    assert viewer.evaluate("v => v.a4gViewer.layers[0].info.classes") == [2, 6]

    # zoom in with the mouse wheel at the canvas centre until the camera selects level-2 tiles
    box = page.locator(f"{VIEWER} canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    zoom0 = viewer.evaluate("v => v.a4gViewer._viewState.zoom")
    finer = "v => v.a4gViewer._select(v.a4gViewer.layers[0]).some(k => k.level === 2)"
    for _ in range(60):
        if viewer.evaluate(finer):
            break
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(150)
    assert viewer.evaluate(finer)
    assert viewer.evaluate("v => v.a4gViewer._viewState.zoom") > zoom0  # level 2 came with the zoom only
    # finer tiles arrive: at least one of level 2, and all the selected ones end up loaded
    page.wait_for_function(
        _viewer_js(
            "const l = v.a4gViewer.layers[0]; const keys = [...l.tiles.keys()];"
            " return keys.some(k => k.startsWith('2/')) && l.pending.size === 0"
            " && v.a4gViewer._select(l).every(k => l.tiles.has(`${k.level}/${k.x}/${k.y}`));"
        ),
        timeout=180_000,
    )
    page.wait_for_timeout(800)
    state = viewer.evaluate(
        """v => { const l = v.a4gViewer.layers[0]; const sel = v.a4gViewer._select(l);
          const count = k => l.tiles.get(`${k.level}/${k.x}/${k.y}`).arrays.positions.length / 3;
          return {levels: sel.map(k => k.level), drawn: sel.reduce((s, k) => s + count(k), 0),
                  layers: v.a4gViewer._deck.props.layers.length}; }"""
    )
    assert max(state["levels"]) >= 2 and state["layers"] == len(state["levels"])
    assert state["drawn"] > len(np.arange(0, POINTS, 4 ** (index.levels - 1)))  # more than the root tile
    assert state["drawn"] <= 4_000_000  # the browser's point budget
    zoomed = _drawn(page, tmp_path / "2-zoomed.png")
    assert zoomed[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].mean() > 0.6

    # the class filter applies to every tile: hide the buildings (class 6, the east half)
    boxes = viewer.locator(".a4g-v3d-layer[data-kind='points'] .a4g-v3d-class input")
    assert [boxes.nth(i).get_attribute("value") for i in range(boxes.count())] == ["2", "6"]
    boxes.nth(1).uncheck()
    page.wait_for_function(_viewer_js("return v.a4gViewer.layers[0].classes?.size === 1;"), timeout=30_000)
    page.wait_for_timeout(1000)
    filtered = _drawn(page, tmp_path / "3-ground-only.png")
    assert filtered.mean() < zoomed.mean() - 0.1

    point_requests = [u for u in requests if "/ai4geo/scene3d/points/" in u]
    assert any("/points/2/" in u for u in point_requests)
    assert not any(re.search(r"/points/\d+\?", u) for u in point_requests)  # never a whole level
    assert not page.errors, page.errors
