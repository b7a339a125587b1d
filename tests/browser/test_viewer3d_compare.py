"""Two dates of the demo place in the 3D viewer (``dsm_before.tif`` left, ``dsm.tif`` right): the before/after
slider (each side of the divider draws its date exactly as that layer alone does under the same camera; the
divider drags with the mouse and the arrow keys; picking follows it) and side by side (two views, one camera);
the same comparison from a notebook with ``viz.show3d(before, after, compare="slider")``."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ai4geo_kernel import scene3d
from tests.browser.conftest import VIEWER3D as VIEWER
from tests.browser.conftest import (
    VIEWER3D_BACKGROUND,
    drawn_mask,
    open_in_viewer3d,
    open_lab,
    run_notebook,
    write_notebook,
)
from tests.browser.conftest import (
    VIEWER3D_SETTLED as SETTLED,
)

pytestmark = pytest.mark.browser


def _terrain_loaded(page, count: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the viewer holds ``count`` terrain layers, every tile the camera wants loaded."""
    page.wait_for_function(
        "() => { const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        f" return v && v.a4gViewer.layers.length === {count}"
        " && v.a4gViewer.layers.every(l => l.tiles.size); }",
        timeout=120_000,
    )
    page.wait_for_function(SETTLED, timeout=120_000)


def _frame(page, path: Path, settled: bool = True) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The WebGL canvas itself (no DOM overlay: panel, divider), read back once the scene is ``settled``."""
    if settled:
        page.wait_for_function(SETTLED, timeout=120_000)
        page.wait_for_timeout(600)
        page.wait_for_function(SETTLED, timeout=120_000)
    url = page.locator(VIEWER).first.evaluate(
        "v => { v.a4gViewer._deck.redraw('test'); return v.querySelector('canvas').toDataURL('image/png'); }"
    )
    png = base64.b64decode(url.split(",", 1)[1])
    path.write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGBA")  # the canvas is transparent where nothing is drawn
    behind = Image.new(
        "RGBA", image.size, (*VIEWER3D_BACKGROUND.tolist(), 255)
    )  # the host's background colour
    return np.asarray(Image.alpha_composite(behind, image).convert("RGB")).astype(int)


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b).sum(axis=2) > 30


def _set_visible(page, viewer, index: int, visible: bool) -> None:  # type: ignore[no-untyped-def]
    box = viewer.locator(".a4g-v3d-layer .a4g-v3d-visible").nth(index)
    if viewer.evaluate(f"v => v.a4gViewer.layers[{index}].visible") != visible:
        box.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent)"
        f".a4gViewer.layers[{index}].visible === {str(visible).lower()}",
        timeout=30_000,
    )


def test_slider_and_side_by_side_compare_two_dates(lab_factory, demo_area, page, tmp_path: Path) -> None:
    page.set_default_timeout(120_000)  # the machine is shared: actions wait long
    root = tmp_path / "root"
    demo = scene3d.write_demo_scene(demo_area, root / "scene")
    lab = lab_factory(root=root, base_url="/user/alice/")
    open_lab(page, lab)
    page.locator(".jp-DirListing-item[title^='Name: scene']").first.dblclick()
    open_in_viewer3d(page, "dsm_before.tif")
    viewer = page.locator(VIEWER).first
    viewer.locator(".a4g-v3d-add-path").fill("scene/dsm.tif")
    viewer.locator(".a4g-v3d-add-button").click()
    _terrain_loaded(page, 2)
    sides = viewer.locator(".a4g-v3d-layer .a4g-v3d-side")
    sides.nth(0).select_option("left")
    sides.nth(1).select_option("right")

    # each date alone, same camera: the references
    _set_visible(page, viewer, 1, False)
    before = _frame(page, tmp_path / "1-before-alone.png")
    _set_visible(page, viewer, 1, True)
    _set_visible(page, viewer, 0, False)
    after = _frame(page, tmp_path / "2-after-alone.png")
    _set_visible(page, viewer, 0, True)
    height, width = before.shape[:2]
    new = _differs(before, after)  # the buildings of the second date (every third demo building)
    assert 0.01 < new.mean() < 0.5
    assert new[:, : width // 2 - 10].mean() > 0.005 and new[:, width // 2 + 10 :].mean() > 0.005

    # the slider: left of the divider the first date, right of it the second, pixel for pixel
    viewer.locator(".a4g-v3d-compare").select_option("slider")
    assert viewer.evaluate("v => v.a4gViewer.compare") == "slider"
    divider = viewer.locator(".a4g-v3d-divider")
    divider.wait_for(state="visible", timeout=10_000)
    slider = _frame(page, tmp_path / "3-slider-50.png")
    page.screenshot(path=str(tmp_path / "3-slider-50-page.png"))
    x = width // 2
    assert _differs(slider[:, : x - 1], before[:, : x - 1]).mean() < 0.002
    assert _differs(slider[:, x + 1 :], after[:, x + 1 :]).mean() < 0.002
    assert _differs(slider[:, : x - 1], after[:, : x - 1]).mean() > 0.005  # the left half is not the after
    assert _differs(slider[:, x + 1 :], before[:, x + 1 :]).mean() > 0.005

    # drag the divider to 30 % of the canvas: the band between 30 % and 50 % now shows the second date
    canvas = viewer.locator("canvas").first.bounding_box()
    handle = viewer.locator(".a4g-v3d-divider-handle").bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 3)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 0.4 * canvas["width"], handle["y"] + handle["height"] / 3, steps=5)
    page.mouse.move(canvas["x"] + 0.3 * canvas["width"], handle["y"] + handle["height"] / 3, steps=5)
    page.mouse.up()
    split = viewer.evaluate("v => v.a4gViewer.split")
    assert split == pytest.approx(0.3, abs=0.01)
    camera = viewer.evaluate("v => JSON.stringify(v.a4gViewer._viewState)")
    moved = _frame(page, tmp_path / "4-slider-30.png")
    page.screenshot(path=str(tmp_path / "4-slider-30-page.png"))
    x30 = round(split * width)
    assert _differs(moved[:, : x30 - 1], before[:, : x30 - 1]).mean() < 0.002
    assert _differs(moved[:, x30 + 1 :], after[:, x30 + 1 :]).mean() < 0.002
    band = slice(x30 + 2, x - 2)
    assert _differs(moved[:, band], slider[:, band]).mean() > 0.005  # the boundary moved: this band changed
    assert viewer.evaluate("v => JSON.stringify(v.a4gViewer._viewState)") == camera  # not a camera drag

    # the arrow keys move the focused divider (and are not fly keys there)
    divider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    assert viewer.evaluate("v => v.a4gViewer.split") == pytest.approx(split + 0.1, abs=1e-6)
    assert viewer.evaluate("v => JSON.stringify(v.a4gViewer._viewState)") == camera

    # picking follows the divider: a new building (second date, right side) picks only right of the divider
    row, col = np.argwhere(new[:, x30 + 40 : x30 + 200])[len(np.argwhere(new[:, x30 + 40 : x30 + 200])) // 2]
    px, py = int(col) + x30 + 40, int(row)
    picked = (
        "([x, y]) => { const o = document.querySelector('.a4g-viewer3d').a4gViewer._deck.pickObject({x, y});"
        " return o ? o.layer.id : null; }"
    )
    viewer.evaluate("v => v.a4gViewer.setSplit(0.3)")
    _frame(page, tmp_path / "5-divider-30.png")
    assert ":right:" in page.evaluate(picked, [px, py])
    viewer.evaluate(f"v => v.a4gViewer.setSplit({(px + 30) / width})")
    _frame(page, tmp_path / "5-divider-past-building.png")
    assert ":left:" in page.evaluate(picked, [px, py])

    # a camera move keeps both sides drawn under the one camera
    viewer.evaluate("v => v.a4gViewer.setSplit(0.5)")
    page.mouse.move(canvas["x"] + 0.7 * width, canvas["y"] + 0.6 * height)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 0.7 * width + 120, canvas["y"] + 0.6 * height, steps=8)
    page.mouse.up()
    turned = _frame(page, tmp_path / "6-slider-orbited.png")
    assert viewer.evaluate("v => JSON.stringify(v.a4gViewer._viewState)") != camera
    assert drawn_mask(turned[:, : x - 1]).mean() > 0.15 and drawn_mask(turned[:, x + 1 :]).mean() > 0.15

    # side by side: two views with equal view states, each half its own date
    viewer.locator(".a4g-v3d-compare").select_option("side")
    pair = _frame(page, tmp_path / "7-side-by-side.png")
    states = viewer.evaluate(
        "v => v.a4gViewer._deck.getViewports().map(p => [p.id, p.width, Math.round(p.zoom * 1e6),"
        " Array.from(p.center, t => Math.round(t * 1000))])"
    )
    assert [s[0] for s in states] == ["left", "right"] and states[0][1:] == states[1][1:]
    assert drawn_mask(pair[:, : x - 1]).mean() > 0.15 and drawn_mask(pair[:, x + 1 :]).mean() > 0.15
    _set_visible(page, viewer, 1, False)  # hide the second date: only the right half empties
    lone = _frame(page, tmp_path / "8-side-by-side-after-hidden.png")
    assert _differs(lone[:, : x - 1], pair[:, : x - 1]).mean() < 0.002
    assert drawn_mask(lone[:, x + 1 :]).mean() < 0.01
    _set_visible(page, viewer, 1, True)
    pair = _frame(page, tmp_path / "9-side-by-side.png")
    left_view = viewer.evaluate("v => v.a4gViewer._deck.getViewports()[0].width")
    rotation = viewer.evaluate(
        "v => [v.a4gViewer._viewState.rotationOrbit, v.a4gViewer._viewState.rotationX]"
    )
    page.mouse.move(canvas["x"] + 0.25 * width, canvas["y"] + 0.5 * height)
    page.mouse.down()
    page.mouse.move(canvas["x"] + 0.25 * width - 150, canvas["y"] + 0.5 * height - 60, steps=8)
    page.mouse.up()
    orbited = _frame(page, tmp_path / "10-side-by-side-orbited.png")
    matrices = viewer.evaluate(
        "v => v.a4gViewer._deck.getViewports().map(p => Array.from(p.viewMatrix, m => Math.round(m * 1e6)))"
    )
    assert matrices[0] == matrices[1]  # one camera for the two views
    turned = viewer.evaluate("v => [v.a4gViewer._viewState.rotationOrbit, v.a4gViewer._viewState.rotationX]")
    assert turned[0] != pytest.approx(rotation[0], abs=1) and turned[1] != pytest.approx(rotation[1], abs=1)
    assert _differs(orbited[:, : left_view - 1], pair[:, : left_view - 1]).mean() > 0.1
    assert _differs(orbited[:, left_view + 1 :], pair[:, left_view + 1 :]).mean() > 0.1
    assert demo.dsm_before.exists() and not page.errors, page.errors


CELL_COMPARE = """
import rioxarray
from ai4geo_kernel import viz
before = rioxarray.open_rasterio({before!r}).squeeze(drop=True).rename("dsm before")
after = rioxarray.open_rasterio({after!r}).squeeze(drop=True).rename("dsm after")
viz.show3d(before, after, compare="slider", height=480)
"""


def test_show3d_compare_slider_in_notebook(lab_factory, demo_area, page, tmp_path: Path) -> None:
    page.set_default_timeout(120_000)
    root = tmp_path / "root"
    demo = scene3d.write_demo_scene(demo_area, root / "scene")
    write_notebook(
        root / "compare.ipynb", [CELL_COMPARE.format(before=str(demo.dsm_before), after=str(demo.dsm))]
    )
    lab = lab_factory(root=root, base_url="/user/alice/", extra_args=["--LabApp.expose_app_in_browser=True"])
    requests = run_notebook(page, lab, "compare.ipynb")
    output = ".jp-OutputArea-output .a4g-viewer3d"
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('{output}');"
        " return v && v.a4gViewer && v.a4gViewer.layers.length === 2"
        " && v.a4gViewer.layers.every(l => l.tiles.size); }",
        timeout=180_000,
    )
    viewer = page.locator(output).first
    viewer.scroll_into_view_if_needed()
    state = viewer.evaluate("v => [v.a4gViewer.compare, v.a4gViewer.layers.map(l => l.side)]")
    assert state == ["slider", ["left", "right"]]
    assert viewer.locator(".a4g-v3d-divider").is_visible()

    slider = _frame(page, tmp_path / "1-notebook-slider.png")
    show = "(v, [i, on]) => { v.a4gViewer.layers[i].visible = on; v.a4gViewer.render(); }"
    viewer.evaluate(show, [1, False])
    before = _frame(page, tmp_path / "2-notebook-before.png")
    viewer.evaluate(show, [1, True])
    viewer.evaluate(show, [0, False])
    after = _frame(page, tmp_path / "3-notebook-after.png")
    width = slider.shape[1]
    x = width // 2
    assert _differs(before, after).mean() > 0.005  # the buildings of the second date
    assert _differs(slider[:, : x - 1], before[:, : x - 1]).mean() < 0.002
    assert _differs(slider[:, x + 1 :], after[:, x + 1 :]).mean() < 0.002
    outside = [
        u
        for u in requests
        if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:"))
    ]
    assert not outside, outside[:5]
    assert not page.errors, page.errors
