"""The 3D viewer in a real Lab behind a JupyterHub-like prefix: a demo DSM opened from the file browser,
draped with the land-cover class raster (class filter), a CityJSON of the demo buildings (click shows
attributes), a point cloud sampled from the DSM, two dates side by side; nothing requested off 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ai4geo_kernel import scene3d
from tests.browser.conftest import VIEWER3D as VIEWER
from tests.browser.conftest import (
    canvas_pixels,
    drawn_mask,
    open_in_viewer3d,
    open_lab,
    wait_layers_loaded,
    wait_settled,
)

pytestmark = pytest.mark.browser


def _toggle(page, viewer, kind: str, control: str = ".a4g-v3d-visible") -> None:  # type: ignore[no-untyped-def]
    """Click a layer's checkbox and wait until the viewer's state follows (the panel may be redrawn)."""
    before = viewer.evaluate(f"v => v.a4gViewer.layers.find(l => l.info.kind === '{kind}').visible")
    viewer.locator(f".a4g-v3d-layer[data-kind='{kind}'] {control}").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent).a4gViewer.layers"
        f".find(l => l.info.kind === '{kind}').visible === {str(not before).lower()}",
        timeout=60_000,
    )
    page.wait_for_timeout(800)


def test_viewer3d_dsm_buildings_points_filter_and_click(lab_factory, demo_area, page, tmp_path: Path) -> None:
    root = tmp_path / "root"
    scene3d.write_demo_scene(demo_area, root / "scene")
    lab = lab_factory(root=root, base_url="/user/alice/")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab)
    page.locator(".jp-DirListing-item[title^='Name: scene']").first.dblclick()
    open_in_viewer3d(page, "dsm.tif")
    wait_layers_loaded(page, 1)
    page.wait_for_timeout(1500)
    drawn = drawn_mask(canvas_pixels(page, tmp_path / "1-dsm.png"))
    height, width = drawn.shape
    # the terrain fills the middle of the canvas (the camera is fitted on it), the top-right corner is sky
    assert drawn[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].mean() > 0.9
    assert drawn[: height // 10, -width // 10 :].mean() < 0.05
    viewer = page.locator(VIEWER).first
    assert viewer.evaluate("v => v.a4gViewer.stats().firstFrameMs") > 0

    # drape the land-cover class raster, then show only class 5 (water): the rest turns grey
    viewer.locator(".a4g-v3d-drape").fill("scene/landcover.tif")
    viewer.locator(".a4g-v3d-drape").press("Enter")
    viewer.locator(".a4g-v3d-class input[value='5']").wait_for(timeout=60_000)
    wait_settled(page)  # the draped tiles replace the height-coloured ones: all of them, not the first
    draped = canvas_pixels(page, tmp_path / "2-landcover.png")
    for value in ("1", "2", "3", "4", "6"):
        viewer.locator(f".a4g-v3d-class input[value='{value}']").uncheck()
    wait_settled(page)
    filtered = canvas_pixels(page, tmp_path / "3-only-water.png")
    changed = np.abs(filtered - draped).sum(axis=2) > 30
    assert changed.mean() > 0.2  # most of the terrain changed colour
    red = lambda rgb: ((rgb[..., 0] > rgb[..., 1] + 60) & (rgb[..., 0] > rgb[..., 2] + 60)).mean()  # noqa: E731
    blue = lambda rgb: ((rgb[..., 2] > rgb[..., 0] + 50) & (rgb[..., 2] > rgb[..., 1] + 20)).mean()  # noqa: E731
    assert red(draped) > 0.03 and red(filtered) < 0.002  # class 1 (buildings, red) is filtered out
    assert 0.8 < blue(filtered) / blue(draped) < 1.25  # class 5 (water, blue) is kept

    # buildings from CityJSON over the terrain; hide the terrain, click the tallest building near the centre
    viewer.locator(".a4g-v3d-add-path").fill("scene/buildings.city.json")
    viewer.locator(".a4g-v3d-add-button").click()
    wait_layers_loaded(page, 2)
    _toggle(page, viewer, "terrain")
    buildings = drawn_mask(canvas_pixels(page, tmp_path / "4-buildings.png"))
    assert 0.02 < buildings.mean() < 0.6
    target = viewer.evaluate(
        """v => {
          const viewer = v.a4gViewer;
          const features = viewer.layers[1].buildings.features;
          const viewport = viewer._deck.getViewports()[0];
          const centre = f => { const ring = f.polygons[0][0].slice(0, -1); let x = 0, y = 0;
            ring.forEach(p => { x += p[0]; y += p[1]; }); return [x / ring.length, y / ring.length]; };
          const near = features.filter(f => { const [x, y] = centre(f); return Math.hypot(x, y) < 250; });
          const f = near.sort((a, b) => (b.top - b.base) - (a.top - a.base))[0];
          const [x, y] = centre(f);
          const [px, py] = viewport.project([x, y, f.top]);
          const box = v.querySelector('canvas').getBoundingClientRect();
          return {id: f.id, x: box.left + px, y: box.top + py, height: f.attributes.height};
        }"""
    )
    page.mouse.click(target["x"], target["y"])
    attributes = viewer.locator(".a4g-v3d-attributes")
    attributes.wait_for(state="visible", timeout=10_000)
    assert attributes.get_attribute("data-id") == target["id"]
    assert f"{target['height']}" in attributes.inner_text() and "roof_type" in attributes.inner_text()
    page.screenshot(path=str(tmp_path / "5-clicked.png"))

    # the point cloud sampled from the DSM, classes from the land cover; hide the buildings
    viewer.locator(".a4g-v3d-add-path").fill("scene/points.laz")
    viewer.locator(".a4g-v3d-add-button").click()
    wait_layers_loaded(page, 3)
    _toggle(page, viewer, "buildings")
    points = drawn_mask(canvas_pixels(page, tmp_path / "6-points.png"))
    assert points[height // 3 : 2 * height // 3, width // 3 : 2 * width // 3].mean() > 0.5
    tiles = viewer.evaluate("v => [...v.a4gViewer.layers[2].tiles.keys()]")
    assert "0/0/0" in tiles  # the root tile of the cloud's quadtree, then finer ones chosen by the camera

    # two layers side by side with one camera: buildings left, points right
    _toggle(page, viewer, "buildings")
    viewer.locator(".a4g-v3d-layer[data-kind='buildings'] .a4g-v3d-side").select_option("left")
    viewer.locator(".a4g-v3d-layer[data-kind='points'] .a4g-v3d-side").select_option("right")
    viewer.locator(".a4g-v3d-compare").select_option("side")
    page.wait_for_timeout(1500)
    split = canvas_pixels(page, tmp_path / "7-side-by-side.png")
    left, right = drawn_mask(split[:, : width // 2]), drawn_mask(split[:, width // 2 :])
    assert left.mean() > 0.02 and right.mean() > 0.2  # sparse buildings left, dense points right
    views = viewer.evaluate(
        "v => v.a4gViewer._deck.getViewports().map(p => [p.id, Math.round(p.zoom * 1000)])"
    )
    single = viewer.evaluate("v => Math.round(v.a4gViewer._viewState.zoom * 1000)")
    assert [name for name, _ in views] == ["left", "right"] and views[0][1] == views[1][1] == single

    scene_requests = [u for u in requests if "/ai4geo/scene3d/" in u]
    assert any("/terrain/" in u for u in scene_requests) and any("/points/" in u for u in scene_requests)
    assert all(u.startswith(f"{lab.url}ai4geo/scene3d/") for u in scene_requests)
    outside = [
        u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
    ]
    assert not outside, outside[:5]
    assert not page.errors, page.errors
