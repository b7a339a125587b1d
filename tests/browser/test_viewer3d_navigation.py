"""Navigation in the 3D viewer on the demo DSM: orbit by mouse drag, wheel zoom (finer terrain tiles load),
fly with the keyboard (W/S along the camera's bearing, A/D sideways, Q/E down and up, checked numerically
against the camera's own projection), and the viewer keeps the keyboard focus. Two tests, each in its own Lab,
so that each stays well inside the 600 s limit on a loaded machine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ai4geo_kernel import scene3d
from tests.browser.conftest import VIEWER3D as VIEWER
from tests.browser.conftest import open_in_viewer3d, open_lab
from tests.browser.test_viewer3d_compare import _differs, _frame, _terrain_loaded

pytestmark = pytest.mark.browser

STATE = "v => { const s = v.a4gViewer._viewState; return {target: s.target, zoom: s.zoom,"
STATE += " rotationOrbit: s.rotationOrbit, rotationX: s.rotationX}; }"
# tiles drawn now: their count and finest level
TILES = "v => { const w = v.a4gViewer; const l = w.layers[0];"
TILES += " const d = w._drawnTiles(l).map(([id]) => +id.split('/')[0]);"
TILES += " return {loaded: l.tiles.size, drawn: d.length, finest: Math.max(...d)}; }"


def _drag(page, box, start: tuple[float, float], delta: tuple[float, float]) -> None:  # type: ignore[no-untyped-def]
    x, y = box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"]
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + delta[0], y + delta[1], steps=10)
    page.mouse.up()


def _hold(page, viewer, key: str) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Hold ``key`` until the camera target moved 30 m (about 16 px at the opening zoom), then release it; the
    target's move, and the same move on screen under the camera it moved under (view-projection)."""
    start = viewer.evaluate(STATE)
    page.keyboard.down(key)
    page.wait_for_function(
        f"() => {{ const t = document.querySelector('{VIEWER.split(':')[0]}').a4gViewer._viewState.target;"
        f" const s = {start['target']}; return Math.hypot(t[0] - s[0], t[1] - s[1], t[2] - s[2]) > 30; }}",
        timeout=90_000,
    )
    page.keyboard.up(key)
    page.wait_for_timeout(200)
    end = viewer.evaluate(STATE)
    screen = viewer.evaluate(
        "(v, [a, b]) => { const p = v.a4gViewer._deck.getViewports()[0];"
        " return [p.project(a), p.project([b[0], b[1], a[2]])]; }",
        [start["target"], end["target"]],
    )
    return np.array(end["target"]) - np.array(start["target"]), np.array(screen[1]) - np.array(screen[0])


def _open_demo_dsm(lab_factory, demo_area, page, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A Lab on the demo scene, its DSM open in the 3D viewer and loaded: the viewer and its canvas box."""
    page.set_default_timeout(120_000)  # the machine is shared: actions wait long
    root = tmp_path / "root"
    scene3d.write_demo_scene(demo_area, root / "scene")
    lab = lab_factory(root=root, base_url="/user/alice/")
    open_lab(page, lab)
    page.locator(".jp-DirListing-item[title^='Name: scene']").first.dblclick()
    open_in_viewer3d(page, "dsm.tif")
    _terrain_loaded(page, 1)
    viewer = page.locator(VIEWER).first
    return viewer, viewer.locator("canvas").first.bounding_box()


def test_orbit_and_wheel_zoom(lab_factory, demo_area, page, tmp_path: Path) -> None:
    viewer, box = _open_demo_dsm(lab_factory, demo_area, page, tmp_path)
    first = _frame(page, tmp_path / "1-start.png")
    start = viewer.evaluate(STATE)

    # orbit: a horizontal drag turns around the vertical axis, a vertical one tilts
    _drag(page, box, (0.6, 0.6), (160, 0))
    turned = viewer.evaluate(STATE)
    assert abs(turned["rotationOrbit"] - start["rotationOrbit"]) > 10
    assert turned["rotationX"] == pytest.approx(start["rotationX"], abs=0.5)
    assert turned["target"] == start["target"] and turned["zoom"] == start["zoom"]
    _drag(page, box, (0.6, 0.6), (0, -80))
    tilted = viewer.evaluate(STATE)
    assert abs(tilted["rotationX"] - turned["rotationX"]) > 5
    orbited = _frame(page, tmp_path / "2-orbited.png")
    assert _differs(orbited, first).mean() > 0.2

    # wheel zoom on the middle: closer camera, finer tiles loaded and drawn
    coarse = viewer.evaluate(TILES)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(2):
        page.mouse.wheel(0, -200)
        page.wait_for_timeout(150)
    zoomed = viewer.evaluate(STATE)
    assert zoomed["zoom"] > tilted["zoom"] + 0.5
    # finer tiles arrive and are drawn (the camera wants more than the machine may load in time: no settle)
    page.wait_for_function(
        f"() => {{ const f = ({TILES})(document.querySelector('.a4g-viewer3d'));"
        f" return f.loaded > {coarse['loaded']} && f.finest > {coarse['finest']}; }}",
        timeout=120_000,
    )
    page.wait_for_timeout(500)
    closer = _frame(page, tmp_path / "3-zoomed.png", settled=False)
    assert _differs(closer, orbited).mean() > 0.2
    assert not page.errors, page.errors


def test_fly_keys_and_focus(lab_factory, demo_area, page, tmp_path: Path) -> None:
    viewer, box = _open_demo_dsm(lab_factory, demo_area, page, tmp_path)
    start = _frame(page, tmp_path / "1-start.png")

    # fly mode from the panel, a click on the scene: the viewer has the keyboard focus, keys move the target
    viewer.locator(".a4g-v3d-mode").select_option("fly")
    assert viewer.evaluate("v => v.a4gViewer.mode") == "fly"
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.3)
    page.wait_for_function(  # the viewer or its canvas host (deck.gl focuses it): the keys reach the viewer
        "() => document.querySelector('.a4g-viewer3d').contains(document.activeElement)", timeout=30_000
    )
    bearing = viewer.evaluate(STATE)["rotationOrbit"]
    moved, screen = _hold(page, viewer, "w")
    # forward: horizontal, along the bearing, i.e. straight up the screen from the target
    assert moved[2] == pytest.approx(0, abs=1e-6)
    assert screen[1] < -5 and abs(screen[0]) < 0.05 * abs(screen[1]), (bearing, moved, screen)
    moved, screen = _hold(page, viewer, "s")
    assert screen[1] > 5 and abs(screen[0]) < 0.05 * abs(screen[1])
    moved, screen = _hold(page, viewer, "d")
    assert moved[2] == pytest.approx(0, abs=1e-6)
    assert screen[0] > 5 and abs(screen[1]) < 0.05 * abs(screen[0]), (bearing, moved, screen)
    moved, screen = _hold(page, viewer, "a")
    assert screen[0] < -5 and abs(screen[1]) < 0.05 * abs(screen[0])
    moved, _ = _hold(page, viewer, "q")
    assert moved[2] < -5 and np.hypot(moved[0], moved[1]) < 1e-6
    moved, _ = _hold(page, viewer, "e")
    assert moved[2] > 5 and np.hypot(moved[0], moved[1]) < 1e-6
    moved, screen = _hold(page, viewer, "ArrowUp")  # the arrows fly too
    assert screen[1] < -5 and abs(screen[0]) < 0.05 * abs(screen[1])
    flown = _frame(page, tmp_path / "2-flown.png", settled=False)
    assert _differs(flown, start).mean() > 0.05
    # a drag on the scene (orbit in fly mode too) keeps the focus on the viewer: the keys keep flying
    _drag(page, box, (0.7, 0.7), (40, 0))
    assert page.evaluate("() => document.querySelector('.a4g-viewer3d').contains(document.activeElement)")
    moved, _ = _hold(page, viewer, "e")
    assert moved[2] > 5
    assert not page.errors, page.errors
