"""The 3D viewer's endpoints (``/ai4geo/scene3d/...``) in a real Jupyter server (pytest-jupyter): answers
decoded and compared with the library's, refusals for paths outside the root and for missing tokens."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from tornado.httpclient import HTTPClientError

from ai4geo_kernel import io, scene3d
from tests.conftest import ESCAPING_PATHS

pytest_plugins = ["pytest_jupyter.jupyter_server"]
pytestmark = pytest.mark.integration
FRAME = {"crs": "EPSG:32631", "origin": "374100,4828900"}


@pytest.fixture
def jp_server_config():  # type: ignore[no-untyped-def]
    return {"ServerApp": {"jpserver_extensions": {"ai4geo_viewer3d": True}}}


@pytest.fixture
def files(jp_root_dir: Path) -> dict[str, Path]:
    import geopandas as gpd
    from shapely.geometry import box

    data = jp_root_dir / "data"
    data.mkdir()
    rows, cols = np.mgrid[0:256, 0:256]
    profile = {
        "driver": "GTiff",
        "width": 256,
        "height": 256,
        "count": 1,
        "dtype": "float32",
        "nodata": -9999,
        "crs": "EPSG:32631",
        "transform": from_origin(374000, 4829000, 1.0, 1.0),
    }
    with rasterio.open(data / "dsm.tif", "w", **profile) as dst:
        dst.write((150 + rows * 0.05 + cols * 0.1).astype("float32"), 1)
    with rasterio.open(data / "classes.tif", "w", **{**profile, "dtype": "uint8", "nodata": 0}) as dst:
        dst.write(((rows // 64) + 1).astype("uint8"), 1)
    frame = gpd.GeoDataFrame(
        {"height": [12.0, 20.0], "ground_elevation": [150.0, 155.0], "use": ["a", "b"]},
        geometry=[box(374010, 4828800, 374030, 4828820), box(374100, 4828900, 374110, 4828950)],
        crs="EPSG:32631",
    )
    io.write_cityjson(frame, data / "b.city.json", ground="ground_elevation")
    xyz = np.column_stack(
        [np.linspace(374000, 374200, 5000), np.linspace(4828800, 4829000, 5000), np.linspace(150, 170, 5000)]
    )
    io.write_las(data / "p.laz", xyz, crs="EPSG:32631", classification=np.arange(5000) % 3 + 1)
    positions = np.array([[0, 0, 0], [5, 0, 0], [0, 5, 3]], dtype=np.float32)
    io.write_glb(io.TriangleMesh(positions, np.array([[0, 1, 2]], dtype=np.uint32)), data / "m.glb")
    return {"dsm": data / "dsm.tif", "root": jp_root_dir}


async def _get(jp_fetch, route: str, **params):  # type: ignore[no-untyped-def]
    parts = ["ai4geo", "scene3d", *route.split("/")]
    return await jp_fetch(*parts, params={k: str(v) for k, v in params.items()})


async def test_info_terrain_points_buildings_mesh(jp_fetch, files) -> None:
    info = json.loads((await _get(jp_fetch, "info", path="data/dsm.tif")).body)
    assert (info["kind"], info["crs"], info["levels"]) == ("terrain", "EPSG:32631", 3)
    assert info["bounds"] == [374000, 4828744, 374256, 4829000]
    body = (
        await _get(jp_fetch, "terrain/1/1/0", path="data/dsm.tif", drape="data/classes.tif", **FRAME)
    ).body
    meta, arrays = scene3d.unpack_arrays(body)
    frame = scene3d.SceneFrame.parse(FRAME["crs"], FRAME["origin"])
    expected_meta, expected = scene3d.terrain_tile(
        str(files["dsm"]), 1, 1, 0, frame, drape=str(files["dsm"].with_name("classes.tif"))
    )
    assert meta == json.loads(json.dumps(expected_meta))
    for name in ("positions", "normals", "indices", "classes"):
        assert np.array_equal(arrays[name], expected[name]), name
    assert set(np.unique(arrays["classes"])) == {1, 2}  # the north half of the raster: rows 0-127
    points = json.loads((await _get(jp_fetch, "info", path="data/p.laz")).body)
    assert points["classes"] == [1, 2, 3] and points["count"] == 5000 and points["levels"] >= 1
    counts = []
    for level in range(points["levels"]):
        for x in range(2**level):
            for y in range(2**level):
                route = f"points/{level}/{x}/{y}"
                meta, arrays = scene3d.unpack_arrays(
                    (await _get(jp_fetch, route, path="data/p.laz", **FRAME)).body
                )
                counts.append(len(arrays["positions"]))
                assert meta["count"] <= points["tile_points"]
                assert set(np.unique(arrays["classes"])) <= {1, 2, 3}
    assert sum(counts) == 5000  # every point in exactly one tile
    response = await _get(jp_fetch, "buildings", path="data/b.city.json", **FRAME)
    assert response.headers["Content-Type"] == "application/octet-stream"
    meta, arrays = scene3d.unpack_arrays(response.body)
    assert arrays["top"].tolist() == [162.0, 175.0] and meta["ids"] == ["0", "1"]
    second = arrays["polygon_offsets"][np.flatnonzero(arrays["polygon_building"] == 1)[0]]
    first_vertex = arrays["positions"][arrays["ring_offsets"][second]]
    assert first_vertex[:2] == pytest.approx([10.0, 0.0], abs=0.01)  # minus the origin
    assert first_vertex[2] == pytest.approx(155.0)  # a footprint at the base, extruded by the browser
    assert "use" in meta["categorical"] and meta["attributes"]["use"] == ["a", "b"]
    meta, arrays = scene3d.unpack_arrays((await _get(jp_fetch, "mesh", path="data/m.glb", **FRAME)).body)
    assert meta["triangles"] == 1 and np.allclose(arrays["positions"][2], [0, 5, 3])


@pytest.mark.parametrize("route", ["info", "terrain/0/0/0", "points/0/0/0", "buildings", "mesh"])
@pytest.mark.parametrize("path", ESCAPING_PATHS)
async def test_paths_outside_the_root_are_refused(jp_fetch, files, route, path) -> None:
    root = files["root"]
    secret = root.parent / "secret.tif"
    secret.write_bytes(files["dsm"].read_bytes())
    if not (root / "link_out.tif").exists():
        (root / "link_out.tif").symlink_to(secret)
    with pytest.raises(HTTPClientError) as refused:
        await _get(jp_fetch, route, path=path, **FRAME)
    assert refused.value.code == 403


async def test_a_drape_outside_the_root_is_refused_too(jp_fetch, files) -> None:
    with pytest.raises(HTTPClientError) as refused:
        await _get(jp_fetch, "terrain/0/0/0", path="data/dsm.tif", drape="../../etc/passwd", **FRAME)
    assert refused.value.code == 403


async def test_missing_file_404_bad_parameters_and_tiles_400(jp_fetch, files) -> None:
    with pytest.raises(HTTPClientError) as missing:
        await _get(jp_fetch, "info", path="data/nothing.tif")
    assert missing.value.code == 404
    with pytest.raises(HTTPClientError) as bad:
        await _get(jp_fetch, "terrain/0/0/0", path="data/dsm.tif", crs="EPSG:32631", origin="nope")
    assert bad.value.code == 400
    with pytest.raises(HTTPClientError) as outside:
        await _get(jp_fetch, "terrain/1/5/0", path="data/dsm.tif", **FRAME)
    assert outside.value.code == 400  # like the 2D viewer: a tile outside the level is a bad request
    for route in ("points/0/1/0", "points/19/0/0"):  # outside level 0, and a level the cloud does not have
        with pytest.raises(HTTPClientError) as outside:
            await _get(jp_fetch, route, path="data/p.laz", **FRAME)
        assert outside.value.code == 400


async def test_requests_without_the_token_are_refused(jp_fetch, jp_http_port, jp_base_url, files) -> None:
    from tornado.httpclient import AsyncHTTPClient

    for route, path in (
        ("info", "data/dsm.tif"),
        ("terrain/0/0/0", "data/dsm.tif"),
        ("points/0/0/0", "data/p.laz"),
        ("buildings", "data/b.city.json"),
        ("mesh", "data/m.glb"),
    ):
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ai4geo/scene3d/{route}?" + urlencode(
            {"path": path, **FRAME}
        )
        with pytest.raises(HTTPClientError) as refused:
            await AsyncHTTPClient().fetch(url, headers={"Authorization": ""})
        assert refused.value.code == 403, route
