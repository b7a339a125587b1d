"""``viz.show3d``: the scene a notebook output carries (decimated terrain, buildings, points in one frame)."""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pytest
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr
from shapely.geometry import box

from ai4geo_kernel import scene3d, viz
from ai4geo_kernel.errors import MissingCRSError, VectorError


def _dsm(size: int = 1000) -> xr.DataArray:
    x = 374_000 + 0.5 + np.arange(size)
    y = 4_829_000 - 0.5 - np.arange(size)
    data = da.from_array(
        (150 + np.add.outer(np.arange(size) * 0.01, np.arange(size) * 0.02)).astype("float32"), chunks=250
    )
    return xr.DataArray(data, dims=("y", "x"), coords={"x": x, "y": y}, name="dsm").rio.write_crs(
        "EPSG:32631"
    )


def _unpack(text: str):  # type: ignore[no-untyped-def]
    import base64

    return scene3d.unpack_arrays(base64.b64decode(text))


def test_show3d_scene_holds_decimated_terrain_buildings_and_points() -> None:
    buildings = gpd.GeoDataFrame(
        {"height": [10.0], "ground_elevation": [150.0], "use": ["school"]},
        geometry=[box(374_100, 4_828_500, 374_120, 4_828_520)],
        crs="EPSG:32631",
    )
    points = np.column_stack([np.full(3000, 374_500.0), np.full(3000, 4_828_500.0), np.arange(3000.0)])
    scene = viz.show3d(_dsm(), buildings, points, max_terrain=128, max_points=1000)
    bundle = scene._repr_mimebundle_()
    assert set(bundle) == {viz.SCENE3D_MIME_TYPE, "text/plain"}
    data = bundle[viz.SCENE3D_MIME_TYPE]
    assert data["frame"] == {"crs": "EPSG:32631", "origin": [374500, 4828500]}
    terrain, houses, cloud = data["layers"]
    assert [layer["info"]["kind"] for layer in data["layers"]] == ["terrain", "buildings", "points"]
    meta, arrays = _unpack(terrain["data"])
    assert arrays["positions"].shape == (125 * 125, 3)  # a stride of 8 over 1000 pixels
    assert arrays["positions"][0].tolist() == pytest.approx([-499.5, 499.5, 150.0])
    assert terrain["info"]["zmin"] == pytest.approx(150.0)
    houses_meta, houses_arrays = _unpack(houses["buildings"])
    assert (houses_meta["count"], houses_meta["attributes"]["use"]) == (1, ["school"])
    assert (houses_arrays["base"][0], houses_arrays["top"][0]) == (150.0, 160.0)
    # the footprint ring, relative to the origin (374500, 4828500)
    assert sorted(map(tuple, houses_arrays["positions"][:, :2].tolist())) == [
        (-400.0, 0.0),
        (-400.0, 20.0),
        (-380.0, 0.0),
        (-380.0, 20.0),
    ]
    _, points_arrays = _unpack(cloud["levels"][0])
    assert len(points_arrays["positions"]) == 1000 and points_arrays["positions"][0].tolist() == [0, 0, 0]
    assert "dsm (terrain)" in bundle["text/plain"]


def test_show3d_errors() -> None:
    with pytest.raises(VectorError):
        viz.show3d()
    with pytest.raises(MissingCRSError):
        viz.show3d(np.zeros((4, 3)))
    with pytest.raises(VectorError, match="no height column"):
        viz.show3d(gpd.GeoDataFrame({"a": [1]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:32631"))


def test_pydeck_html_references_no_remote_url() -> None:
    import pydeck as pdk

    deck = pdk.Deck(
        layers=[pdk.Layer("PointCloudLayer", data=[{"p": [0, 0, 0]}], get_position="p")],
        views=[pdk.View("OrbitView")],
        map_style=None,
        map_provider=None,
    )
    page = viz.pydeck_html(deck)
    head = page[: page.index("<script type='text/javascript'>")]
    assert "https://" not in head and "createDeck" in page and len(page) > 1_000_000
