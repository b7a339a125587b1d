"""The 2D viewer's tile endpoints (``/ai4geo/tiles/...``) in a real Jupyter server, through pytest-jupyter.

Every tile is decoded and compared, pixel by pixel, with a direct rio-tiler / rasterio read of the same
area: band combinations, explicit and automatic stretches, continuous and categorical colormaps, nodata,
a UTM (EPSG:32631) raster, a file without overviews, PNG and WebP.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from urllib.parse import urlencode

import morecantile
import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.transform import from_origin
from tornado.httpclient import HTTPClientError

from tests.conftest import ESCAPING_PATHS

pytest_plugins = ["pytest_jupyter.jupyter_server"]
pytestmark = pytest.mark.integration
TMS = morecantile.tms.get("WebMercatorQuad")

WIDTH = HEIGHT = 1024
ORIGIN = (360_000.0, 4_830_000.0)  # UTM 31N, over Toulouse
PIXEL = 10.0


def _write(path: Path, data: np.ndarray, *, nodata: float | None, overviews: bool) -> Path:
    profile = {
        "driver": "GTiff",
        "width": data.shape[2],
        "height": data.shape[1],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": "EPSG:32631",
        "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "nodata": nodata,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if overviews:
            dst.build_overviews([2, 4, 8], rasterio.enums.Resampling.average)
    return path


@pytest.fixture
def jp_server_config():  # type: ignore[no-untyped-def]
    return {"ServerApp": {"jpserver_extensions": {"ai4geo_viewer2d": True}}}


@pytest.fixture
def rasters(jp_root_dir: Path) -> dict[str, Path]:
    rng = np.random.default_rng(4)
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    bands = np.stack(
        [
            (rows * 3 + cols) % 4000,
            (cols * 4) % 3000 + 200,
            (rows * 2) % 2500 + 100,
            rng.integers(0, 4000, (HEIGHT, WIDTH)),
        ]
    ).astype("uint16")
    bands[:, :100, :100] = 0  # nodata corner
    classes = ((rows // 128 + cols // 128) % 4 + 1).astype("uint8")
    classes[900:, 900:] = 0
    data_dir = jp_root_dir / "data"
    data_dir.mkdir()
    return {
        "cog": _write(data_dir / "utm_4band.tif", bands, nodata=0, overviews=True),
        "flat": _write(data_dir / "utm_no_overviews.tif", bands, nodata=0, overviews=False),
        "classes": _write(data_dir / "classes.tif", classes[np.newaxis], nodata=0, overviews=True),
    }


def _tile_inside(path: Path, zoom: int, *, offset: tuple[int, int] = (0, 0)) -> morecantile.Tile:
    """A tile fully inside the raster, near its centre."""
    from rasterio.warp import transform_bounds

    with rasterio.open(path) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    tile = TMS.tile((west + east) / 2, (south + north) / 2, zoom)
    return morecantile.Tile(tile.x + offset[0], tile.y + offset[1], zoom)


async def _get(jp_fetch, route: str, **params):  # type: ignore[no-untyped-def]
    return await jp_fetch("ai4geo", "tiles", *route.split("/"), params=params, method="GET")


def _decode(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))


def _direct(path: Path, tile: morecantile.Tile, bands: tuple[int, ...]) -> np.ma.MaskedArray:
    from rio_tiler.io import Reader

    with Reader(str(path)) as reader:
        return reader.tile(tile.x, tile.y, tile.z, indexes=bands, tilesize=256).array


def _stretch(data: np.ma.MaskedArray, low: float, high: float) -> np.ndarray:
    scaled = (np.ma.getdata(data).astype("float64") - low) / (high - low) * 255.0
    return np.clip(scaled, 0, 255)


async def test_rgb_band_combination_with_explicit_stretch_matches_a_direct_read(jp_fetch, rasters) -> None:
    tile = _tile_inside(rasters["cog"], 15)
    response = await _get(
        jp_fetch,
        f"tile/{tile.z}/{tile.x}/{tile.y}.png",
        path="data/utm_4band.tif",
        bands="3,2,1",
        rescale="0,3000",
    )
    assert response.headers["Content-Type"] == "image/png"
    got = _decode(response.body)
    direct = _direct(rasters["cog"], tile, (3, 2, 1))
    expected = _stretch(direct, 0, 3000)
    valid = ~np.ma.getmaskarray(direct).any(axis=0)
    assert valid.mean() > 0.9
    difference = np.abs(got[..., :3].transpose(2, 0, 1).astype(float) - expected)[:, valid]
    assert difference.max() <= 1.0
    assert (got[..., 3][valid] == 255).all()


async def test_nodata_is_transparent(jp_fetch, rasters) -> None:
    # the tile over the raster's north-west corner, on the edge of the 100 x 100 nodata pixels
    from rasterio.warp import transform as warp_transform

    with rasterio.open(rasters["cog"]) as src:
        x, y = src.xy(100, 100)  # the corner of the nodata square
    (lon,), (lat,) = warp_transform("EPSG:32631", "EPSG:4326", [x], [y])
    tile = TMS.tile(lon, lat, 16)
    response = await _get(
        jp_fetch,
        f"tile/{tile.z}/{tile.x}/{tile.y}.png",
        path="data/utm_4band.tif",
        bands="1,2,3",
        rescale="0,4000",
    )
    got = _decode(response.body)
    direct = _direct(rasters["cog"], tile, (1, 2, 3))
    masked = np.ma.getmaskarray(direct).all(axis=0)
    assert masked.any() and (~masked).any()
    assert (got[..., 3][masked] == 0).all()
    assert (got[..., 3][~masked] == 255).all()


async def test_automatic_stretch_uses_percentiles_of_the_overviews(jp_fetch, rasters) -> None:
    stats = json.loads((await _get(jp_fetch, "statistics", path="data/utm_4band.tif", bands="2")).body)
    band = stats["bands"]["2"]
    assert band["p2"] < band["p98"] and sum(band["histogram"]["counts"]) == band["valid"]
    tile = _tile_inside(rasters["cog"], 15)
    got = _decode(
        (
            await _get(jp_fetch, f"tile/{tile.z}/{tile.x}/{tile.y}.png", path="data/utm_4band.tif", bands="2")
        ).body
    )
    direct = _direct(rasters["cog"], tile, (2,))
    expected = _stretch(direct[0], band["p2"], band["p98"])
    valid = ~np.ma.getmaskarray(direct[0])
    assert np.abs(got[..., 0][valid] - expected[valid]).max() <= 1.0


async def test_continuous_colormap(jp_fetch, rasters) -> None:
    from rio_tiler.colormap import cmap

    table = cmap.get("viridis")
    tile = _tile_inside(rasters["cog"], 15, offset=(1, 0))
    got = _decode(
        (
            await _get(
                jp_fetch,
                f"tile/{tile.z}/{tile.x}/{tile.y}.png",
                path="data/utm_4band.tif",
                bands="1",
                rescale="0,4000",
                colormap="viridis",
            )
        ).body
    )
    direct = _direct(rasters["cog"], tile, (1,))[0]
    index = _stretch(direct, 0, 4000).astype("uint8")
    expected = np.array([table[i] for i in range(256)], dtype="uint8")[index]
    valid = ~np.ma.getmaskarray(direct)
    close = (np.abs(got[..., :3].astype(int) - expected[..., :3].astype(int)) <= 3).all(axis=-1)
    assert close[valid].mean() > 0.98


async def test_categorical_colormap_and_webp(jp_fetch, rasters) -> None:
    colours = {"1": "#ff0000", "2": "#00ff00", "3": "#0000ff", "4": "#ffff00"}
    tile = _tile_inside(rasters["classes"], 14)
    response = await _get(
        jp_fetch,
        f"tile/{tile.z}/{tile.x}/{tile.y}.webp",
        path="data/classes.tif",
        bands="1",
        categories=json.dumps(colours),
    )
    assert response.headers["Content-Type"] == "image/webp"
    got = _decode(response.body)
    direct = _direct(rasters["classes"], tile, (1,))[0]
    lookup = {int(k): tuple(int(v.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)) for k, v in colours.items()}
    values = np.ma.getdata(direct)
    for value, rgb in lookup.items():
        hit = (values == value) & ~np.ma.getmaskarray(direct)
        assert hit.any()
        assert (got[hit][:, :3] == rgb).all() and (got[hit][:, 3] == 255).all()
    assert (got[..., 3][np.ma.getmaskarray(direct)] == 0).all()


async def test_file_without_overviews_matches_a_rasterio_warp_of_the_same_area(jp_fetch, rasters) -> None:
    from rasterio.warp import Resampling, reproject

    for zoom in (12, 16):  # zoomed out (decimated read of the full-resolution file) and in
        tile = _tile_inside(rasters["flat"], zoom)
        got = _decode(
            (
                await _get(
                    jp_fetch,
                    f"tile/{tile.z}/{tile.x}/{tile.y}.png",
                    path="data/utm_no_overviews.tif",
                    bands="1",
                    rescale="0,4000",
                )
            ).body
        )
        left, bottom, right, top = TMS.xy_bounds(tile)
        warped = np.zeros((256, 256), dtype="uint16")
        with rasterio.open(rasters["flat"]) as src:
            reproject(
                rasterio.band(src, 1),
                warped,
                dst_crs="EPSG:3857",
                resampling=Resampling.nearest,
                dst_transform=rasterio.transform.from_bounds(left, bottom, right, top, 256, 256),
                dst_nodata=0,
            )
        valid = (warped != 0) & (got[..., 3] == 255)
        assert valid.mean() > 0.5
        expected = _stretch(np.ma.asarray(warped), 0, 4000)
        # nearest resampling on both sides: allow pixels that fall on the other side of a source pixel edge
        assert (np.abs(got[..., 0][valid] - expected[valid]) <= 1).mean() > 0.9


async def test_point_values_of_every_band_with_raster_crs_coordinates(jp_fetch, rasters) -> None:
    from rasterio.warp import transform as warp_transform

    with rasterio.open(rasters["cog"]) as src:
        x, y = src.xy(500, 700)
        expected = src.read(window=((500, 501), (700, 701)))[:, 0, 0].tolist()
    (lon,), (lat,) = warp_transform("EPSG:32631", "EPSG:4326", [x], [y])
    answer = json.loads((await _get(jp_fetch, "point", path="data/utm_4band.tif", lon=lon, lat=lat)).body)
    assert answer["values"] == expected
    assert answer["crs"] == "EPSG:32631" and (answer["row"], answer["col"]) == (500, 700)
    assert abs(answer["x"] - x) < 0.01 and abs(answer["y"] - y) < 0.01
    lon, lat = _lonlat_of(rasters["cog"], 10, 10)
    nodata = json.loads((await _get(jp_fetch, "point", path="data/utm_4band.tif", lon=lon, lat=lat)).body)
    assert nodata["inside"] and nodata["values"] == [None] * 4


def _lonlat_of(path: Path, row: int, col: int) -> tuple[float, float]:
    from rasterio.warp import transform as warp_transform

    with rasterio.open(path) as src:
        x, y = src.xy(row, col)
    (lon,), (lat,) = warp_transform(src.crs, "EPSG:4326", [x], [y])
    return lon, lat


async def test_info_reports_crs_bounds_and_overviews(jp_fetch, rasters) -> None:
    info = json.loads((await _get(jp_fetch, "info", path="data/utm_4band.tif")).body)
    assert info["crs"] == "EPSG:32631" and info["count"] == 4 and info["overviews"] == [2, 4, 8]
    assert info["bounds"] == [ORIGIN[0], ORIGIN[1] - HEIGHT * PIXEL, ORIGIN[0] + WIDTH * PIXEL, ORIGIN[1]]
    flat = json.loads((await _get(jp_fetch, "info", path="data/utm_no_overviews.tif")).body)
    assert flat["overviews"] == []


async def test_cog_conversion_job_reports_progress_and_writes_overviews(jp_fetch, rasters) -> None:
    import asyncio

    started = await jp_fetch(
        "ai4geo", "tiles", "cog", method="POST", body=json.dumps({"path": "data/utm_no_overviews.tif"})
    )
    job = json.loads(started.body)
    assert started.code == 202 and job["destination"] == "data/utm_no_overviews.cog.tif"
    for _ in range(200):
        job = json.loads((await jp_fetch("ai4geo", "tiles", "cog", job["id"], method="GET")).body)
        if job["state"] != "running":
            break
        await asyncio.sleep(0.1)
    assert job["state"] == "done" and job["progress"] == 1.0, job
    with (
        rasterio.open(rasters["flat"].with_name("utm_no_overviews.cog.tif")) as cog,
        rasterio.open(rasters["flat"]) as original,
    ):
        assert cog.overviews(1) and (cog.read(2) == original.read(2)).all()


@pytest.mark.parametrize("route", ["info", "point", "statistics", "tile/10/520/370.png"])
@pytest.mark.parametrize("path", ESCAPING_PATHS)
async def test_paths_outside_the_root_are_refused(jp_fetch, rasters, jp_root_dir, route, path) -> None:
    secret = jp_root_dir.parent / "secret.tif"
    secret.write_bytes(rasters["cog"].read_bytes())
    (jp_root_dir / "link_out.tif").symlink_to(secret)
    with pytest.raises(HTTPClientError) as refused:
        await _get(jp_fetch, route, path=path, lon=1.4, lat=43.6)
    assert refused.value.code in (403, 404)
    assert refused.value.code == 403 or not os.path.exists(jp_root_dir / path)


async def test_missing_file_is_404_and_bad_parameters_400(jp_fetch, rasters) -> None:
    with pytest.raises(HTTPClientError) as missing:
        await _get(jp_fetch, "info", path="data/nothing.tif")
    assert missing.value.code == 404
    for params in ({"bands": "9"}, {"rescale": "5,1"}, {"colormap": "nope"}, {"categories": "{bad"}):
        with pytest.raises(HTTPClientError) as bad:
            await _get(jp_fetch, "tile/10/520/370.png", path="data/utm_4band.tif", **params)
        assert bad.value.code == 400, params


async def test_requests_without_the_token_are_refused(jp_fetch, jp_http_port, jp_base_url, rasters) -> None:
    from tornado.httpclient import AsyncHTTPClient

    for route in ("info", "point", "statistics", "tile/15/16415/11918.png", "vector"):
        url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}ai4geo/tiles/{route}?" + urlencode(
            {"path": "data/utm_4band.tif", "lon": 1.4, "lat": 43.6}
        )
        with pytest.raises(HTTPClientError) as refused:
            await AsyncHTTPClient().fetch(url, headers={"Authorization": ""})
        assert refused.value.code == 403, route


async def test_vector_files_come_back_as_geojson_in_wgs84(jp_fetch, jp_root_dir) -> None:
    import geopandas
    from shapely.geometry import box

    frame = geopandas.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[box(360_000, 4_820_000, 361_000, 4_821_000), box(362_000, 4_822_000, 363_000, 4_823_000)],
        crs="EPSG:32631",
    )
    for suffix, driver in ((".gpkg", "GPKG"), (".fgb", "FlatGeobuf"), (".geojson", "GeoJSON")):
        frame.to_file(jp_root_dir / f"shapes{suffix}", driver=driver)
        answer = json.loads((await _get(jp_fetch, "vector", path=f"shapes{suffix}")).body)
        assert answer["type"] == "FeatureCollection" and len(answer["features"]) == 2
        lon, lat = answer["features"][0]["geometry"]["coordinates"][0][0]
        assert 1.0 < lon < 2.0 and 43.0 < lat < 44.0


@pytest.fixture
def bad_files(jp_root_dir: Path, rasters) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Files that are not what their names say: JSON with no geometries, text as a GeoTIFF, a cut COG."""
    (jp_root_dir / "settings.json").write_text(json.dumps({"theme": "dark", "size": 3}))
    (jp_root_dir / "list.json").write_text("[1, 2, 3]")
    (jp_root_dir / "broken.gpkg").write_text("not a GeoPackage")
    (jp_root_dir / "text.tif").write_text("hello, not a GeoTIFF")
    data = rasters["flat"].read_bytes()
    (jp_root_dir / "truncated.tif").write_bytes(data[: len(data) // 3])
    return {
        "json": "settings.json",
        "list": "list.json",
        "gpkg": "broken.gpkg",
        "text": "text.tif",
        "truncated": "truncated.tif",
    }


@pytest.mark.parametrize("name", ["json", "list", "gpkg"])
async def test_vector_endpoint_answers_400_naming_the_problem_for_non_geographic_files(
    jp_fetch, jp_root_dir, bad_files, name: str
) -> None:
    with pytest.raises(HTTPClientError) as bad:
        await _get(jp_fetch, "vector", path=bad_files[name])
    assert bad.value.code == 400
    reason = bad.value.response.reason
    assert bad_files[name] in reason and "not a vector file" in reason, reason
    assert str(jp_root_dir) not in reason, reason  # the client's path, never the server's absolute one


TILE, COG = "tile/15/16415/11918.png", "data/utm_4band.tif"


@pytest.mark.parametrize(
    ("route", "params", "code", "words"),
    [
        ("statistics", {"path": COG, "bands": "9"}, 400, "band 9 does not exist"),
        ("statistics", {"path": COG, "bands": "0"}, 400, "band 0 does not exist"),
        ("statistics", {"path": COG, "bands": "x"}, 400, "integers"),
        ("statistics", {"path": COG, "bins": "1"}, 400, "bins"),
        (TILE, {"path": COG, "bands": "1,2"}, 400, "1 band or 3"),
        (TILE, {"path": COG, "bands": "5"}, 400, "band 5 does not exist"),
        (TILE, {"path": COG, "bands": "1", "colormap": "rainbowz"}, 400, "unknown colormap"),
        (TILE, {"path": COG, "colormap": "viridis"}, 400, "single band"),
        (TILE, {"path": COG, "rescale": "1"}, 400, "rescale"),
        (TILE, {"path": COG, "rescale": "a,b"}, 400, "rescale"),
        (TILE, {"path": COG, "rescale": "nan,3"}, 400, "finite"),
        (TILE, {"path": COG, "rescale": "0,1&rescale=0,2"}, 400, "rescale"),
        (TILE, {"path": COG, "bands": "1,2,3", "categories": '{"1": "#ff0000"}'}, 400, "single band"),
        ("tile/30/1/1.png", {"path": COG}, 400, "no tile"),
        ("tile/3/9/1.png", {"path": COG}, 400, "no tile"),
        ("point", {"path": COG, "lon": "200", "lat": "43"}, 400, "out of range"),
        ("point", {"path": COG, "lon": "nan", "lat": "43"}, 400, "out of range"),
        ("point", {"path": COG, "lon": "east", "lat": "43"}, 400, "numbers"),
        ("info", {}, 400, "path"),
        ("info", {"path": "data/missing.tif"}, 404, "no such file"),
        ("tile/15/16415/11918.png", {"path": "nowhere/missing.tif"}, 404, "no such file"),
        ("vector", {"path": "missing.geojson"}, 404, "no such file"),
        ("vector", {"path": COG}, 400, "not a vector file"),
        ("info", {"path": "text.tif"}, 422, "text.tif cannot be read"),
        ("tile/15/16415/11918.png", {"path": "text.tif"}, 422, "text.tif cannot be read"),
        ("point", {"path": "text.tif", "lon": "1.4", "lat": "43.6"}, 422, "text.tif cannot be read"),
        ("statistics", {"path": "truncated.tif"}, 422, "truncated.tif cannot be read"),
    ],
)
async def test_bad_input_answers_a_clear_4xx_on_every_endpoint(
    jp_fetch, rasters, bad_files, route: str, params: dict, code: int, words: str
) -> None:
    with pytest.raises(HTTPClientError) as bad:
        await _get(jp_fetch, route, **params)
    assert bad.value.code == code, (route, params, bad.value.code, bad.value.response.reason)
    assert words in bad.value.response.reason, bad.value.response.reason


async def test_truncated_raster_tiles_answer_422_not_500(jp_fetch, bad_files, rasters) -> None:
    for zoom in (12, 14):  # zoomed out (many blocks) and in
        tile = _tile_inside(rasters["flat"], zoom)
        with pytest.raises(HTTPClientError) as bad:
            route = f"tile/{tile.z}/{tile.x}/{tile.y}.png"
            await _get(jp_fetch, route, path="truncated.tif", rescale="0,4000")
        assert bad.value.code == 422 and "truncated.tif cannot be read" in bad.value.response.reason


async def test_cog_conversion_of_a_file_that_is_no_raster_is_refused_at_once(jp_fetch, bad_files) -> None:
    with pytest.raises(HTTPClientError) as bad:
        await jp_fetch("ai4geo", "tiles", "cog", method="POST", body=json.dumps({"path": "text.tif"}))
    assert bad.value.code == 422 and "text.tif" in bad.value.response.reason
    with pytest.raises(HTTPClientError) as missing:
        await jp_fetch("ai4geo", "tiles", "cog", "nosuchjob", method="GET")
    assert missing.value.code == 404


@pytest.fixture
def item_under_root(jp_root_dir: Path, demo_area) -> tuple[str, Path]:  # type: ignore[no-untyped-def]
    """A demo Sentinel-2 item folder copied under the root: its JSON with relative asset hrefs, its COGs."""
    import shutil

    folder = demo_area.s2_asset(2, "red").parent
    shutil.copytree(folder, jp_root_dir / "items" / folder.name)
    return f"items/{folder.name}/{folder.name}.json", jp_root_dir / "items" / folder.name


async def test_item_asset_under_the_root_is_a_tile_source(jp_fetch, item_under_root) -> None:
    item, folder = item_under_root
    tile = _tile_inside(folder / "red.tif", 16)
    route = f"tile/{tile.z}/{tile.x}/{tile.y}.png"
    got = _decode((await _get(jp_fetch, route, item=item, asset="red", rescale="0,3000")).body)
    direct = _direct(folder / "red.tif", tile, (1,))[0]
    valid = ~np.ma.getmaskarray(direct)
    assert valid.mean() > 0.5
    assert np.abs(got[..., 0][valid] - _stretch(direct, 0, 3000)[valid]).max() <= 1.0
    info = json.loads((await _get(jp_fetch, "info", item=item, asset="nir")).body)
    assert info["path"] == f"{item}#nir" and info["crs"] == "EPSG:32631"
    with rasterio.open(folder / "nir.tif") as src:
        x, y = src.xy(5, 7)
        expected = int(src.read(1, window=((5, 6), (7, 8)))[0, 0])
    from rasterio.warp import transform as warp_transform

    (lon,), (lat,) = warp_transform("EPSG:32631", "EPSG:4326", [x], [y])
    point = json.loads((await _get(jp_fetch, "point", item=item, asset="nir", lon=lon, lat=lat)).body)
    assert point["values"] == [expected]
    stats = json.loads((await _get(jp_fetch, "statistics", item=item, asset="nir")).body)
    assert stats["bands"]["1"]["valid"] > 0


async def test_item_asset_of_the_demo_catalog_is_a_tile_source(jp_fetch, demo_services, demo_area) -> None:
    red = demo_area.s2_asset(4, "red")
    item_id = red.parent.name
    tile = _tile_inside(red, 16)
    route = f"tile/{tile.z}/{tile.x}/{tile.y}.png"
    answer = await _get(jp_fetch, route, item=f"demo-s2/{item_id}", asset="red", rescale="0,3000")
    got = _decode(answer.body)
    direct = _direct(red, tile, (1,))[0]
    valid = ~np.ma.getmaskarray(direct)
    assert valid.mean() > 0.5
    assert np.abs(got[..., 0][valid] - _stretch(direct, 0, 3000)[valid]).max() <= 1.0
    with pytest.raises(HTTPClientError) as missing:
        await _get(jp_fetch, "info", item="demo-s2/demo-s2-19000101", asset="red")
    assert missing.value.code == 404
    with pytest.raises(HTTPClientError) as bad:
        await _get(jp_fetch, "info", item="demo-s2/../../etc", asset="red")
    assert bad.value.code == 400


@pytest.mark.parametrize(
    ("href", "code"),
    [
        ("../../../outside.tif", 403),
        ("/etc/passwd", 403),
        ("http://127.0.0.1:1/remote.tif", 403),
        ("file:///etc/passwd", 403),
        ("/vsicurl/http://127.0.0.1:1/x.tif", 403),
        ("missing.tif", 404),
    ],
)
async def test_item_asset_hrefs_outside_the_root_or_the_allow_list_are_refused(
    jp_fetch, jp_root_dir, item_under_root, href: str, code: int
) -> None:
    item, folder = item_under_root
    document = json.loads((jp_root_dir / item).read_text())
    document["assets"]["red"]["href"] = href
    (folder / "tampered.json").write_text(json.dumps(document))
    (jp_root_dir.parent / "outside.tif").write_bytes((folder / "red.tif").read_bytes())
    with pytest.raises(HTTPClientError) as refused:
        await _get(jp_fetch, "info", item=str(Path(item).parent / "tampered.json"), asset="red")
    assert refused.value.code == code, refused.value.response.reason


async def test_item_asset_errors_name_the_problem(jp_fetch, item_under_root, monkeypatch) -> None:
    item, _ = item_under_root
    for params, code, words in [
        ({"item": item, "asset": "coastal"}, 400, "no raster asset 'coastal'"),
        ({"item": item, "asset": "thumbnail"}, 400, "no raster asset 'thumbnail'"),
        ({"item": item}, 400, "needs 'item' and 'asset'"),
        ({"item": "data/../../x.json", "asset": "red"}, 403, "not allowed"),
        ({"item": "items/none.json", "asset": "red"}, 404, "no such file"),
    ]:
        with pytest.raises(HTTPClientError) as bad:
            await _get(jp_fetch, "info", **params)
        reason = bad.value.response.reason
        assert bad.value.code == code and words in reason, (params, reason)
    monkeypatch.delenv("AI4GEO_DEMO_STAC_URL", raising=False)
    with pytest.raises(HTTPClientError) as no_demo:
        await _get(jp_fetch, "info", item="demo-s2/demo-s2-20240106", asset="red")
    assert no_demo.value.code == 400 and "no demo catalog runs" in no_demo.value.response.reason


@pytest.mark.parametrize(
    ("suffix", "driver", "options"),
    [
        (".vrt", "VRT", {}),
        (".jp2", "JP2OpenJPEG", {"REVERSIBLE": "YES", "QUALITY": "100", "RESOLUTIONS": "4"}),
    ],
)
async def test_vrt_and_jpeg2000_tiles_match_the_geotiff_they_copy(
    jp_fetch, rasters, jp_root_dir, suffix: str, driver: str, options: dict
) -> None:
    import rasterio.shutil

    copy = jp_root_dir / "data" / f"copy{suffix}"
    rasterio.shutil.copy(rasters["cog"], copy, driver=driver, **options)
    tile = _tile_inside(rasters["cog"], 15)
    route = f"tile/{tile.z}/{tile.x}/{tile.y}.png"
    got = _decode(
        (await _get(jp_fetch, route, path=f"data/copy{suffix}", bands="3,2,1", rescale="0,3000")).body
    )
    direct = _direct(rasters["cog"], tile, (3, 2, 1))
    valid = ~np.ma.getmaskarray(direct).any(axis=0)
    assert valid.mean() > 0.9
    difference = np.abs(got[..., :3].transpose(2, 0, 1).astype(float) - _stretch(direct, 0, 3000))[:, valid]
    assert difference.max() <= 1.0
    info = json.loads((await _get(jp_fetch, "info", path=f"data/copy{suffix}")).body)
    assert info["crs"] == "EPSG:32631" and info["count"] == 4
