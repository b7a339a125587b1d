"""The synthetic stereo pair: RPC models that reproduce the known projection, views that see the DSM."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import RPCTransformer

from ai4geo_kernel.demo import COLLECTION_STEREO, DemoArea, generate
from ai4geo_kernel.demo._grid import area_grid
from ai4geo_kernel.demo._stereo import B_OVER_H, GEOID_UNDULATION, STEREO_MAX_SIZE, stereo_views

SCALE = 0.25


@pytest.fixture(scope="module")
def area(tmp_path_factory: pytest.TempPathFactory) -> DemoArea:
    return generate(tmp_path_factory.mktemp("demo-stereo") / "area", seed=0, scale=SCALE, progress=False)


def _views(area: DemoArea):  # type: ignore[no-untyped-def]
    with rasterio.open(area.dsm) as src:
        dsm = src.read(1).astype(np.float64)
    return stereo_views(area_grid(area.scale), dsm), dsm


def test_pair_files_are_single_band_sensor_images_with_rpc_tags(area: DemoArea) -> None:
    (left, _), _ = _views(area)
    for path in (area.stereo_left, area.stereo_right):
        with rasterio.open(path) as src:
            assert src.count == 1 and src.dtypes[0] == "uint16"
            assert src.crs is None and src.rpcs is not None  # sensor geometry, located by its RPC model
            assert src.shape == (left.size, left.size) and left.size <= STEREO_MAX_SIZE
            image = src.read(1)
        assert image.min() > 0 and image.std() > 100  # textured, no nodata


def test_rpc_tags_reproduce_the_exact_projection_through_gdal(area: DemoArea) -> None:
    """GDAL reads the tags (pixel-centre convention: it adds 0.5) and lands where the exact model does."""
    views, dsm = _views(area)
    to_lonlat = Transformer.from_crs(area.crs, "EPSG:4326", always_xy=True)
    rng = np.random.default_rng(1)
    for view, path in zip(views, (area.stereo_left, area.stereo_right), strict=True):
        rows = rng.uniform(0, view.size - 1, 200)
        cols = rng.uniform(0, view.size - 1, 200)
        heights = rng.uniform(dsm.min() - 10, dsm.max() + 10, 200)
        east, north = view.locate(rows, cols, heights)
        lon, lat = to_lonlat.transform(east, north)
        with rasterio.open(path) as src, RPCTransformer(src.rpcs) as rpc:
            gdal_rows, gdal_cols = rpc.rowcol(lon, lat, zs=heights + GEOID_UNDULATION, op=lambda v: v)
        error = np.hypot(np.asarray(gdal_rows) - 0.5 - rows, np.asarray(gdal_cols) - 0.5 - cols)
        assert error.max() < 1e-3, error.max()


def test_views_form_an_along_track_pair_with_the_stated_base_to_height(area: DemoArea) -> None:
    (left, right), _ = _views(area)
    # one metre of height moves a point by B/H pixels between the views, along the rows
    r0l, c0l = left.project(np.array([left.east]), np.array([left.north]), np.array([left.h0]))
    r1l, c1l = left.project(np.array([left.east]), np.array([left.north]), np.array([left.h0 + 10.0]))
    r0r, c0r = right.project(np.array([left.east]), np.array([left.north]), np.array([left.h0]))
    r1r, c1r = right.project(np.array([left.east]), np.array([left.north]), np.array([left.h0 + 10.0]))
    parallax = ((r1l - r0l) - (r1r - r0r))[0] / 10.0
    assert abs(abs(parallax) - B_OVER_H) < 0.02
    assert abs(((c1l - c0l) - (c1r - c0r))[0]) / 10.0 < 0.05  # little cross-track parallax


def test_a_rooftop_appears_where_the_projection_puts_it(area: DemoArea) -> None:
    """The rendered pixel at the projection of a roof centre is the roof's brightness in the orthoimage."""
    (left, right), dsm = _views(area)
    with rasterio.open(area.building_ids) as src:
        ids = src.read(1)
    with rasterio.open(area.vhr_image) as src:
        pan = src.read().astype(np.float64).mean(axis=0)
    transform = rasterio.open(area.dsm).transform
    from scipy import ndimage

    core = ndimage.binary_erosion(ids > 0, iterations=3)
    rows, cols = np.nonzero(core)
    east, north = rasterio.transform.xy(transform, rows, cols)
    checked = 0
    for view, path in ((left, area.stereo_left), (right, area.stereo_right)):
        image = rasterio.open(path).read(1).astype(np.float64)
        r, c = view.project(np.asarray(east), np.asarray(north), dsm[rows, cols])
        inside = (r > 1) & (r < view.size - 2) & (c > 1) & (c < view.size - 2)
        rendered = image[np.rint(r[inside]).astype(int), np.rint(c[inside]).astype(int)]
        truth = pan[rows[inside], cols[inside]]
        assert np.corrcoef(rendered, truth)[0, 1] > 0.8
        checked += int(inside.sum())
    assert checked > 500


def test_stac_items_describe_the_pair(area: DemoArea) -> None:
    folder = area.root / COLLECTION_STEREO
    collection = json.loads((folder / "collection.json").read_text())
    assert "simulated" in collection["description"].lower()
    views = {}
    for item_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        item = json.loads((item_dir / f"{item_dir.name}.json").read_text())
        views[item["properties"]["ai4geo:stereo_view"]] = item
        assert item["properties"]["proj:code"] is None  # sensor geometry
        assert (item_dir / item["assets"]["image"]["href"]).is_file()
        lon0, lat0, lon1, lat1 = item["bbox"]
        a0, b0, a1, b1 = area.bbox_wgs84
        assert a0 <= lon0 < lon1 <= a1 and b0 <= lat0 < lat1 <= b1
    assert set(views) == {"left", "right"}
    assert (
        views["left"]["properties"]["ai4geo:stereo_pair"]
        == views["right"]["properties"]["ai4geo:stereo_pair"]
    )
    assert views["left"]["properties"]["ai4geo:rpc_fit_error_px"] < 1e-3
    assert views["left"]["properties"]["view:off_nadir"] > 5


def test_geoid_undulation_matches_the_egm96_grid_cars_ships() -> None:
    """The constant linking a.s.l. and ellipsoidal heights is EGM96 at the area centre (CARS's own grid)."""
    spec = importlib.util.find_spec("cars")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("cars is not installed")
    grid = Path(next(iter(spec.submodule_search_locations))) / "conf" / "geoid" / "egm96.grd"
    with rasterio.open(grid) as src:
        data = src.read(1).astype(np.float64)
        row, col = src.index(1.444, 43.604, op=lambda v: v)
    # bilinear interpolation between the 4 nodes around the centre
    r0, c0 = int(np.floor(row - 0.5)), int(np.floor(col - 0.5))
    fr, fc = row - 0.5 - r0, col - 0.5 - c0
    value = (
        data[r0, c0] * (1 - fr) * (1 - fc)
        + data[r0, c0 + 1] * (1 - fr) * fc
        + data[r0 + 1, c0] * fr * (1 - fc)
        + data[r0 + 1, c0 + 1] * fr * fc
    )
    assert abs(value - GEOID_UNDULATION) < 0.3, value
