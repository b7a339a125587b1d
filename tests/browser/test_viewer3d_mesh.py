"""A georeferenced GLB in the 3D viewer, in a real Lab: a box written with ``write_glb`` (CRS + offset) over
a known spot of the demo DSM is drawn where it belongs (the pixels it adds are around the projection of its
centre through the viewer's own viewport, and ``deck.pickObject`` there hits the mesh layer), a click shows
its name and triangle count, its opacity slider fades it, it shares the terrain's exaggeration, and a GLB
without georeferencing opens with a note in its layer row. Screenshots under the test's tmp dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import from_bounds

from ai4geo_kernel import io
from tests.browser.conftest import VIEWER3D as VIEWER
from tests.browser.conftest import canvas_pixels, open_in_viewer3d, open_lab, wait_layers_loaded
from tests.browser.test_viewer3d import _toggle

pytestmark = pytest.mark.browser
SIZE, HEIGHT = 40.0, 25.0  # the box: 40 m x 40 m, 25 m high
MAGENTA = [1.0, 0.0, 1.0]


def _box(dsm: Path, east: float, north: float) -> tuple[np.ndarray, np.ndarray]:
    """A closed box centred on (east, north), its base on the highest DSM height under it."""
    with rasterio.open(dsm) as dataset:
        window = from_bounds(
            east - SIZE / 2, north - SIZE / 2, east + SIZE / 2, north + SIZE / 2, dataset.transform
        )
        base = float(dataset.read(1, window=window, masked=True).max())
    h = SIZE / 2
    corners = np.array(
        [[east + dx, north + dy, base + dz] for dz in (0, HEIGHT) for dy in (-h, h) for dx in (-h, h)],
        dtype=np.float64,
    )
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    triangles = np.array([t for a, b, c, d in faces for t in ((a, b, c), (a, c, d))], dtype=np.uint32)
    return corners, triangles


def _scene(tmp_path: Path, demo_area) -> tuple[Path, Path, tuple[float, ...], str]:  # type: ignore[no-untyped-def]
    """A server root holding scene/dsm.tif (the demo DSM): the root, the DSM, its bounds and CRS."""
    root = tmp_path / "root"
    (root / "scene").mkdir(parents=True)
    dsm = root / "scene" / "dsm.tif"
    shutil.copy(demo_area.dsm, dsm)
    with rasterio.open(dsm) as dataset:
        return root, dsm, tuple(dataset.bounds), dataset.crs.to_string()


def _viewer_eval(page, body: str):  # type: ignore[no-untyped-def]
    """Evaluate ``body`` with ``viewer`` (the shown SceneViewer) and ``v`` (its node) in the page; a page
    evaluation has no time limit of its own, unlike a locator's (30 s), which a loaded machine can pass."""
    return page.evaluate(
        "() => { const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        f" const viewer = v.a4gViewer; {body} }}"
    )


def test_georeferenced_glb_overlays_the_dsm(lab_factory, demo_area, page, tmp_path: Path) -> None:
    root, dsm, (left, bottom, right, top), crs = _scene(tmp_path, demo_area)
    # off the DSM's centre (a mesh without georeferencing would be drawn at the centre)
    east, north = round((left + right) / 2 + 120), round((bottom + top) / 2 + 80)
    corners, triangles = _box(dsm, east, north)
    colors = np.tile(np.float32(MAGENTA), (len(corners), 1))
    io.write_glb(
        io.TriangleMesh(corners, triangles, colors=colors, name="house"),
        root / "scene" / "house.glb",
        crs=crs,
    )
    io.write_glb(
        io.TriangleMesh(corners - corners.mean(axis=0), triangles, colors=colors),
        root / "scene" / "plain.glb",
    )
    lab = lab_factory(root=root, base_url="/user/alice/")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab)
    page.locator(".jp-DirListing-item[title^='Name: scene']").first.dblclick()
    open_in_viewer3d(page, "dsm.tif")
    wait_layers_loaded(page, 1)
    viewer = page.locator(VIEWER).first
    viewer.locator(".a4g-v3d-add-path").fill("scene/house.glb")
    viewer.locator(".a4g-v3d-add-button").click()
    wait_layers_loaded(page, 2)
    page.wait_for_timeout(1500)

    # the vertices arrive in the scene frame: the box's coordinates minus the frame's origin
    placed = _viewer_eval(
        page,
        "const layer = viewer.layers[1]; return {positions: Array.from(layer.mesh.arrays.positions),"
        " origin: viewer.frame.origin, crs: viewer.frame.crs, info: layer.info};",
    )
    positions = np.reshape(placed["positions"], (-1, 3))
    assert placed["crs"] == crs and placed["info"]["georeferenced"] is True
    origin = np.array([*placed["origin"], 0.0])
    assert np.allclose(positions, corners - origin, atol=0.01)
    assert not viewer.locator(".a4g-v3d-layer[data-kind='mesh'] .a4g-v3d-note").count()

    # the pixels the box adds (shown minus hidden) are around the projection of its centre
    shown = canvas_pixels(page, tmp_path / "1-dsm-and-house.png")
    _toggle(page, viewer, "mesh")
    hidden = canvas_pixels(page, tmp_path / "2-house-hidden.png")
    _toggle(page, viewer, "mesh")
    # the box's pixels: changed by hiding it (the panel over the canvas changes too) and magenta (shaded)
    magenta = lambda rgb: (rgb[..., 0] > rgb[..., 1] + 60) & (rgb[..., 2] > rgb[..., 1] + 60)  # noqa: E731
    added = (np.abs(shown - hidden).sum(axis=2) > 60) & magenta(shown)
    assert magenta(hidden).sum() < 10  # the DSM has no magenta of its own
    centre = (corners.min(axis=0) + corners.max(axis=0)) / 2 - origin
    projected = _viewer_eval(
        page, f"return viewer._deck.getViewports()[0].project([{centre[0]}, {centre[1]}, {centre[2]}]);"
    )
    px, py = projected[0], projected[1]
    rows, cols = np.nonzero(added)
    assert 150 < len(rows) < 0.05 * added.size, len(rows)
    assert abs(cols.mean() - px) < 10 and abs(rows.mean() - py) < 10, (cols.mean(), rows.mean(), px, py)
    assert added[int(py) - 3 : int(py) + 4, int(px) - 3 : int(px) + 4].mean() > 0.5

    # deck.gl picks the mesh layer at that point; a click there shows its name and triangle count
    picked = _viewer_eval(
        page, f"const o = viewer._deck.pickObject({{x: {px}, y: {py}, radius: 1}}); return o && o.layer.id;"
    )
    assert picked and picked.endswith(":mesh"), picked
    canvas = viewer.locator("canvas").first.bounding_box()
    # deck.gl takes a press as a click only if it lasts < 250 ms, and the pick on pointerdown renders every
    # pickable layer (slow on SwiftShader with the terrain tiles): hide the terrain for the click
    _toggle(page, viewer, "terrain")
    page.mouse.click(canvas["x"] + px, canvas["y"] + py)
    attributes = viewer.locator(".a4g-v3d-attributes")
    attributes.wait_for(state="visible", timeout=10_000)
    assert attributes.get_attribute("data-id") == "house"
    assert "triangles" in attributes.inner_text() and "12" in attributes.inner_text()
    page.screenshot(path=str(tmp_path / "3-house-clicked.png"))
    _toggle(page, viewer, "terrain")

    # the layer's opacity slider fades the box towards what lies behind it
    viewer.locator(".a4g-v3d-layer[data-kind='mesh'] .a4g-v3d-opacity").fill("0.3")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent).a4gViewer"
        "._deck.props.layers.some(l => l.id.endsWith(':mesh') && l.props.opacity === 0.3)",
        timeout=30_000,
    )
    page.wait_for_timeout(800)
    faded = canvas_pixels(page, tmp_path / "4-house-faded.png")
    opaque = np.abs(shown - hidden).sum(axis=2)[added].mean()
    assert np.abs(faded - hidden).sum(axis=2)[added].mean() < 0.8 * opaque
    viewer.locator(".a4g-v3d-layer[data-kind='mesh'] .a4g-v3d-opacity").fill("1")

    # the mesh is drawn with the terrain's vertical exaggeration (one model matrix for the scene)
    viewer.locator(".a4g-v3d-exaggeration").fill("3")
    page.wait_for_timeout(800)
    matrices = _viewer_eval(
        page,
        "const layers = viewer._deck.props.layers;"
        " const mesh = layers.find(l => l.id.endsWith(':mesh'));"
        " const tile = layers.find(l => l.id.includes(':tile-'));"
        " return [Array.from(mesh.props.modelMatrix), Array.from(tile.props.modelMatrix)];",
    )
    assert matrices[0] == matrices[1] and matrices[0][10] == 3
    canvas_pixels(page, tmp_path / "5-exaggerated.png")

    # a GLB without georeferencing still opens, at the scene centre, and its row says so; its own heights
    # (around 0) do not move the scene's height range (the base of the exaggeration)
    zrange = _viewer_eval(page, "return viewer._zrange;")
    viewer.locator(".a4g-v3d-add-path").fill("scene/plain.glb")
    viewer.locator(".a4g-v3d-add-button").click()
    wait_layers_loaded(page, 3)
    note = viewer.locator(".a4g-v3d-layer[data-name='plain.glb'] .a4g-v3d-note")
    note.wait_for(timeout=30_000)
    assert note.inner_text() == "not georeferenced: placed at the scene centre"
    assert _viewer_eval(page, "return viewer._zrange;") == zrange
    canvas_pixels(page, tmp_path / "6-plain-mesh.png")

    scene_requests = [u for u in requests if "/ai4geo/scene3d/" in u]
    assert any("/mesh?" in u and "origin=" in u for u in scene_requests)
    outside = [
        u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
    ]
    assert not outside, outside[:5]
    assert not page.errors, page.errors


def test_large_glb_draws_level_0_then_the_full_mesh(lab_factory, demo_area, page, tmp_path: Path) -> None:
    """A mesh above the first triangle budget: the decimated level 0 is drawn first (the full level's
    request is held by the test until level 0 is on screen), then the full mesh replaces it."""
    root, dsm, (left, bottom, right, top), crs = _scene(tmp_path, demo_area)
    with rasterio.open(dsm) as dataset:
        roof = float(dataset.read(1, masked=True).max()) + 30
    n = 290  # 167,042 triangles: two levels (at most 100,000, then the full mesh)
    east, north = (left + right) / 2, (bottom + top) / 2
    x, y = np.meshgrid(np.linspace(east - 150, east + 150, n), np.linspace(north - 150, north + 150, n))
    positions = np.column_stack([x.ravel(), y.ravel(), roof + 3 * np.sin((x.ravel() - east) / 20)])
    i = np.arange(n * n).reshape(n, n)
    a, b, c, d = i[:-1, :-1].ravel(), i[:-1, 1:].ravel(), i[1:, 1:].ravel(), i[1:, :-1].ravel()
    triangles = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])]).astype(np.uint32)
    colors = np.tile(np.float32(MAGENTA), (len(positions), 1))
    io.write_glb(io.TriangleMesh(positions, triangles, colors=colors), root / "scene" / "sheet.glb", crs=crs)

    lab = lab_factory(root=root, base_url="/user/alice/")
    held: list = []
    page.route(
        lambda url: "/ai4geo/scene3d/mesh?" in url and "level=1" in url, lambda route: held.append(route)
    )
    open_lab(page, lab)
    page.locator(".jp-DirListing-item[title^='Name: scene']").first.dblclick()
    open_in_viewer3d(page, "dsm.tif")
    wait_layers_loaded(page, 1)
    viewer = page.locator(VIEWER).first
    viewer.locator(".a4g-v3d-add-path").fill("scene/sheet.glb")
    viewer.locator(".a4g-v3d-add-button").click()
    wait_layers_loaded(page, 2)  # the first decimation takes a few seconds on the server
    info = _viewer_eval(page, "return viewer.layers[1].info;")
    assert (info["levels"], info["level_triangles"]) == (2, [100_000, len(triangles)])
    first = _viewer_eval(
        page, "const l = viewer.layers[1]; return {levels: l.meshLevels, meta: l.mesh.meta};"
    )
    assert first["levels"] == [0] and first["meta"]["level"] == 0
    assert 80_000 < first["meta"]["triangles"] <= 100_000
    page.wait_for_function(
        "() => document.querySelector('.a4g-v3d-status').textContent.includes('mesh level 1/2')",
        timeout=30_000,
    )
    page.wait_for_timeout(1500)
    coarse = canvas_pixels(page, tmp_path / "1-level-0.png")
    magenta = lambda rgb: (rgb[..., 0] > rgb[..., 1] + 60) & (rgb[..., 2] > rgb[..., 1] + 60)  # noqa: E731
    assert magenta(coarse).sum() > 2000  # the sheet is drawn at level 0

    # the full level: its request was held until now; it replaces level 0
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent).a4gViewer"
        ".layers[1].meshLevels.length === 2",
        timeout=120_000,
    )
    final = _viewer_eval(
        page,
        "const l = viewer.layers[1]; return {levels: l.meshLevels, meta: l.mesh.meta,"
        " indices: l.mesh.arrays.indices.length,"
        " drawn: viewer._deck.props.layers.find(x => x.id.endsWith(':mesh'))"
        ".props.mesh.indices.value.length};",
    )
    assert final["levels"] == [0, 1] and final["meta"]["level"] == 1
    assert final["meta"]["triangles"] == len(triangles) and final["indices"] == final["drawn"] == 3 * len(
        triangles
    )
    page.wait_for_function(
        "() => document.querySelector('.a4g-v3d-status').textContent.includes('mesh level 2/2')",
        timeout=30_000,
    )
    page.wait_for_timeout(1500)
    full = canvas_pixels(page, tmp_path / "2-full-level.png")
    # the same sheet: decimation keeps its outline, so about the same magenta pixels
    assert abs(int(magenta(full).sum()) - int(magenta(coarse).sum())) < 0.1 * magenta(full).sum()
    assert not page.errors, page.errors
