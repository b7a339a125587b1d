"""LOD2 buildings in the 3D viewer: a CityJSON of gabled houses (written by ``write_cityjson`` with
``roof_type``) opened from the file browser is drawn with its pitched roofs, not as blocks: looking along
the ridge, the gable end is hit under the ridge and not above the eaves, and the silhouette's top is higher
at the ridge than at the eaves; clicking the house shows its attributes; the class filter hides it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from ai4geo_kernel.io import write_cityjson
from tests.browser.conftest import VIEWER3D as VIEWER
from tests.browser.conftest import canvas_pixels, drawn_mask, open_in_viewer3d, open_lab

pytestmark = pytest.mark.browser
X, Y = 374000.0, 4828000.0
GROUND, EAVES, RIDGE = 100.0, 6.0, 12.0  # the gabled house: 20 m along x, 10 m wide, ridge along x


def _city(path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {
            "id": ["house", "villa", "garage"],
            "height": [RIDGE, 11.0, 3.0],
            "eaves_height": [EAVES, 7.0, 3.0],
            "roof_type": ["gable", "hip", "flat"],
            "owner": ["Ada", "Bea", "Cy"],
        },
        geometry=[
            box(X, Y, X + 20, Y + 10),
            box(X + 120, Y + 80, X + 134, Y + 94),
            box(X + 120, Y - 80, X + 126, Y - 74),
        ],
        crs="EPSG:32631",
    )
    write_cityjson(
        frame,
        path,
        ground=GROUND,
        lods=("0", "1", "2"),
        identifier="id",
        roof_type="roof_type",
        eaves_height="eaves_height",
    )


# the house's centre and points of its west gable end, in scene coordinates, and where they fall on screen
_PROJECT = """(v, view) => {
  const viewer = v.a4gViewer;
  if (view) {
    viewer._viewState = { ...viewer._viewState, ...view };
    viewer._deck.setProps({ viewState: viewer._viewStates() });
    viewer.render();
  }
  const house = viewer.layers[0].buildings.features.find(f => f.id === 'house');
  const ring = house.polygons[0][0].slice(0, -1);
  const xs = ring.map(p => p[0]), ys = ring.map(p => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const viewport = viewer._deck.getViewports()[0];
  const box = v.querySelector('canvas').getBoundingClientRect();
  const at = (x, y, z) => { const [px, py] = viewport.project([x, y, z]); return [px, py]; };
  const yc = (y0 + y1) / 2;
  return {
    centre: [(x0 + x1) / 2, yc], base: house.base, top: house.top, lod: house.lod, corner: [x0, y0, yc],
    canvas: [box.left, box.top, box.width, box.height],
    ridgeWest: at(x0, yc, house.top), ridgeEast: at(x1, yc, house.top),
    underRidge: at(x0, yc, house.top - 1.5), eaveCorner: at(x0, y0, house.base + 6),
    aboveEave: at(x0, y0 + 0.6, house.top - 1.5), groundWest: at(x0, yc, house.base),
    widthWest: Math.hypot(...[0, 1].map(i => at(x0, y0, house.base)[i] - at(x0, y1, house.base)[i])),
    widthEast: Math.hypot(...[0, 1].map(i => at(x1, y0, house.base)[i] - at(x1, y1, house.base)[i]))
  };
}"""

_PICK = """(v, [x, y]) => { const o = v.a4gViewer._deck.pickObject({ x, y, radius: 0 });
  return o && o.object && o.object.feature ? o.object.feature.id : null; }"""


def test_lod2_gabled_house_has_a_pitched_roof(lab_factory, page, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _city(root / "houses.city.json")
    lab = lab_factory(root=root)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab)
    open_in_viewer3d(page, "houses.city.json")
    viewer = page.locator(VIEWER).first
    page.wait_for_function(
        "() => { const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        " return v && v.a4gViewer.layers.length === 1 && v.a4gViewer.layers[0].buildings; }",
        timeout=90_000,
    )
    drawn = viewer.evaluate("v => v.a4gViewer.layers[0].buildings.drawn")
    assert drawn == {"2": 3}  # every house at its highest LOD, the file has LOD 0, 1 and 2
    assert "LOD 0, 1, 2" in viewer.locator(".a4g-v3d-lods").inner_text()
    layer_ids = viewer.evaluate("v => v.a4gViewer._deck.props.layers.map(l => l.id)")
    assert any(i.endswith(":buildings-lod2") for i in layer_ids)

    # look along the ridge (x), nearly level, at the west gable end: the orbit where both ridge ends fall
    # on one screen column and the west end is the nearer (wider on screen)
    centre = viewer.evaluate(_PROJECT, None)["centre"]
    view = {"rotationX": 1.5, "target": [centre[0], centre[1], GROUND + EAVES], "zoom": 4.2}
    views = [viewer.evaluate(_PROJECT, {**view, "rotationOrbit": orbit}) for orbit in range(0, 360, 90)]
    orbit = min(
        range(4),
        key=lambda i: (
            abs(views[i]["ridgeWest"][0] - views[i]["ridgeEast"][0]) > 5,
            views[i]["widthEast"] - views[i]["widthWest"],
        ),
    )
    seen = viewer.evaluate(_PROJECT, {**view, "rotationOrbit": orbit * 90})
    assert seen["lod"] == 2 and seen["top"] == pytest.approx(GROUND + RIDGE)
    # the projected ridge is well above the eave's corner on screen (a side view)
    assert seen["ridgeWest"][1] < seen["eaveCorner"][1] - 40
    page.wait_for_function(
        f"() => {{ const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        f" return ({_PICK})(v, {seen['underRidge']}) === 'house'; }}",
        timeout=60_000,
    )
    # just under the ridge, at the gable end: the house; as high but above the eaves, near the corner: nothing
    # (a block extruded to the ridge height would be hit there)
    assert viewer.evaluate(_PICK, seen["underRidge"]) == "house"
    assert viewer.evaluate(_PICK, seen["aboveEave"]) is None
    pixels = canvas_pixels(page, tmp_path / "1-along-the-ridge.png")
    # the silhouette: in the column under the ridge its top is higher than in the column over the eave corner
    mask = drawn_mask(pixels)

    def top_row(x: float) -> int:
        column = mask[:, int(round(x))]
        return int(np.argmax(column)) if column.any() else mask.shape[0]

    inwards = np.sign(seen["ridgeWest"][0] - seen["eaveCorner"][0])  # from the eave corner towards the ridge
    ridge_top, eave_top = top_row(seen["ridgeWest"][0]), top_row(seen["eaveCorner"][0] + 3 * inwards)
    ground_row = seen["groundWest"][1]
    assert ridge_top < eave_top - 15, (ridge_top, eave_top)
    # the heights on screen match the model: ridge 12 m, eaves 6 m above the ground (within 20 %)
    assert (ground_row - eave_top) / (ground_row - ridge_top) == pytest.approx(EAVES / RIDGE, rel=0.2)

    # click the gable end: the attribute table
    left, top = seen["canvas"][:2]
    page.mouse.click(left + seen["underRidge"][0], top + seen["underRidge"][1])
    attributes = viewer.locator(".a4g-v3d-attributes")
    attributes.wait_for(state="visible", timeout=10_000)
    assert attributes.get_attribute("data-id") == "house"
    text = attributes.inner_text()
    assert "Ada" in text and "gable" in text and "0,1,2" in text
    page.screenshot(path=str(tmp_path / "2-clicked.png"))

    # vertical exaggeration x2 (heights scaled above the scene's lowest point, the ground here): the gable end
    # is hit at twice its height under the ridge, still not above the eaves
    viewer.evaluate(
        "v => { const e = v.querySelector('.a4g-v3d-exaggeration'); e.value = '2';"
        " e.dispatchEvent(new Event('input')); }"
    )
    x0, y0, yc = seen["corner"]
    z = GROUND + 2 * (RIDGE - 1.5)
    under, above = viewer.evaluate(
        "(v, points) => { const viewport = v.a4gViewer._deck.getViewports()[0];"
        " return points.map(p => viewport.project(p).slice(0, 2)); }",
        [[x0, yc, z], [x0, y0 + 0.6, z]],
    )
    page.wait_for_function(
        f"() => {{ const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        f" return ({_PICK})(v, {under}) === 'house'; }}",
        timeout=60_000,
    )
    assert viewer.evaluate(_PICK, above) is None
    canvas_pixels(page, tmp_path / "3-exaggerated.png")

    # the class filter (roof_type): hide the gabled houses, the gable end is no longer hit
    viewer.locator(".a4g-v3d-class input[value='gable']").uncheck()
    page.wait_for_function(
        f"() => {{ const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        f" return ({_PICK})(v, {seen['underRidge']}) === null; }}",
        timeout=60_000,
    )
    canvas_pixels(page, tmp_path / "4-gable-hidden.png")
    assert all(url.startswith("http://127.0.0.1") or url.startswith("data:") for url in requests)
    assert not page.errors
