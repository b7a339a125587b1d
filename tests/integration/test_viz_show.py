"""Integration tests of viz.show(): real GeoTIFFs, the real tile server, tiles fetched over HTTP.

Every request goes to 127.0.0.1 (the tile server, and a Range-capable file server for the COG URL
case); nothing reaches beyond it.
"""

from __future__ import annotations

import http.client
import io
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ipyleaflet
import morecantile
import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.transform import from_origin
from rio_tiler.colormap import cmap
from rio_tiler.io import Reader

from ai4geo_kernel import viz
from ai4geo_kernel.errors import MissingCRSError
from ai4geo_kernel.tiles._geometry import bounds_center, fit_zoom

pytestmark = pytest.mark.integration

TMS = morecantile.tms.get("WebMercatorQuad")
#: Never use a proxy, whatever the environment says: every URL here is on 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
ORIGIN = (500_000.0, 4_800_000.0)  # EPSG:32631, near 3E 43.3N
SIZE = 512
PIXEL = 10.0


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def multispectral(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 bands uint16, smooth gradients plus noise, tiled with overviews, nodata 0 in one corner."""
    path = tmp_path_factory.mktemp("viz") / "multispectral.tif"
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    rng = np.random.default_rng(0)
    bands = [
        (rows * 5 + rng.integers(0, 200, rows.shape)),
        (cols * 5 + rng.integers(0, 200, rows.shape)),
        ((rows + cols) * 3 + rng.integers(0, 200, rows.shape)),
        (np.full(rows.shape, 2500) + rng.integers(0, 500, rows.shape)),
    ]
    data = np.stack(bands).astype("uint16") + 1
    data[:, :64, :64] = 0
    profile = dict(
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=4,
        dtype="uint16",
        crs="EPSG:32631",
        transform=from_origin(*ORIGIN, PIXEL, PIXEL),
        nodata=0,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        dst.build_overviews([2, 4], rasterio.enums.Resampling.average)
    return path


@pytest.fixture(scope="module")
def elevation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Single-band float32 with NaN nodata over the north-west quarter."""
    path = tmp_path_factory.mktemp("viz") / "elevation.tif"
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    data = (100 + 0.2 * rows + 0.1 * cols).astype("float32")
    data[: SIZE // 2, : SIZE // 2] = np.nan
    profile = dict(
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=1,
        dtype="float32",
        crs="EPSG:32631",
        transform=from_origin(*ORIGIN, PIXEL, PIXEL),
        nodata=float("nan"),
        tiled=True,
        blockxsize=256,
        blockysize=256,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data[np.newaxis])
    return path


_RANGE_SERVER = """
import sys
from functools import partial
from http.server import ThreadingHTTPServer
from RangeHTTPServer import RangeRequestHandler

class Quiet(RangeRequestHandler):
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture(scope="module")
def range_server(multispectral: Path) -> Iterator[str]:
    """The test rasters' folder served with HTTP Range support on 127.0.0.1 (as the demo assets are).

    In another process: rasterio holds the GIL in some GDAL calls (``dataset.overviews()``), so a
    file server on a thread of the process that reads from it can deadlock.
    """
    process = subprocess.Popen(
        [sys.executable, "-c", _RANGE_SERVER, str(multispectral.parent)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- helpers -------------------------------------------------------------------------------------


def _tile_layer(m: ipyleaflet.Map) -> ipyleaflet.TileLayer:
    return [layer for layer in m.layers if isinstance(layer, ipyleaflet.TileLayer) and not layer.base][-1]


def _tile_url(template: str, tile: morecantile.Tile) -> str:
    return template.replace("{z}", str(tile.z)).replace("{x}", str(tile.x)).replace("{y}", str(tile.y))


def _fetch(url: str) -> tuple[int, bytes, str]:
    assert url.startswith("http://127.0.0.1:")
    try:
        with OPENER.open(url, timeout=30) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("Content-Type", "")


def _png(body: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(body))
    assert image.format == "PNG"
    return np.asarray(image.convert("RGBA"))


def _raw_get(server_url: str, path: str) -> int:
    """GET ``path`` exactly as written (urllib would normalise ``..``)."""
    host, port = server_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _layer_id(m: ipyleaflet.Map) -> str:
    match = re.search(r"/tiles/([^/]+)/\{z\}", _tile_layer(m).url)
    assert match is not None
    return match[1]


def _center_tile(
    path: Path, zoom: int | None = None, *, offset: tuple[float, float] = (0.5, 0.5)
) -> morecantile.Tile:
    with Reader(str(path)) as reader:
        west, south, east, north = reader.get_geographic_bounds("EPSG:4326")
        zoom = reader.maxzoom if zoom is None else zoom
    return TMS.tile(west + offset[0] * (east - west), north - offset[1] * (north - south), zoom)


# --- tiles match a direct rio-tiler read ----------------------------------------------------------


def test_band_combination_and_explicit_rescale_match_rio_tiler(multispectral: Path) -> None:
    m = viz.show(multispectral, bands=(3, 2, 1), rescale=(0, 3000))
    template = _tile_layer(m).url
    assert re.fullmatch(
        r"http://127\.0\.0\.1:\d+/tiles/[A-Za-z0-9_-]{22}/\{z\}/\{x\}/\{y\}\.png\?bands=3,2,1&rescale=0\.0,3000\.0",
        template,
    ), template
    assert str(multispectral) not in template and "multispectral" not in template

    for offset in ((0.5, 0.5), (0.02, 0.02)):  # centre, and the nodata corner on the raster's edge
        tile = _center_tile(multispectral, offset=offset)
        status, body, content_type = _fetch(_tile_url(template, tile))
        assert (status, content_type) == (200, "image/png")
        rgba = _png(body)
        with Reader(str(multispectral)) as reader:
            expected = reader.tile(tile.x, tile.y, tile.z, indexes=(3, 2, 1))
        valid = ~np.ma.getmaskarray(expected.array).any(axis=0)
        expected.rescale(in_range=((0, 3000),))
        assert rgba.shape == (256, 256, 4)
        np.testing.assert_array_equal(rgba[..., 3] == 255, valid)
        np.testing.assert_array_equal(rgba[..., 3][~valid], 0)  # nodata and off-raster: transparent
        np.testing.assert_array_equal(
            np.moveaxis(rgba[..., :3], -1, 0)[:, valid], expected.array.data[:, valid]
        )
    assert (~valid).any() and valid.any()


def test_float_band_with_nan_nodata_is_colormapped_and_transparent(elevation: Path) -> None:
    m = viz.show(elevation, colormap="terrain", rescale=(100, 250), name="dsm")
    template = _tile_layer(m).url
    assert template.endswith("?bands=1&rescale=100.0,250.0&colormap=terrain")
    tile = _center_tile(elevation, offset=(0.45, 0.45))  # straddles the NaN quarter's corner
    status, body, _ = _fetch(_tile_url(template, tile))
    assert status == 200
    rgba = _png(body)
    with Reader(str(elevation)) as reader:
        expected = reader.tile(tile.x, tile.y, tile.z)
    mask = np.ma.getmaskarray(expected.array)[0] | np.isnan(expected.array.data[0])
    assert mask.any() and (~mask).any()
    np.testing.assert_array_equal(rgba[..., 3][mask], 0)
    np.testing.assert_array_equal(rgba[..., 3][~mask], 255)
    expected.rescale(in_range=((100, 250),))
    table = np.array([cmap.get("terrain")[index] for index in range(256)], dtype="uint8")
    np.testing.assert_array_equal(rgba[..., :3][~mask], table[expected.array.data[0][~mask]][:, :3])
    # the colorbar names the layer, the colormap and its range
    legends = [
        control
        for control in m.controls
        if isinstance(control, ipyleaflet.WidgetControl) and "ai4geo-colorbar" in control.widget.value
    ]
    assert len(legends) == 1
    html = legends[0].widget.value
    assert "dsm" in html and "terrain" in html and ">100<" in html and ">250<" in html


def test_automatic_rescale_is_the_2_98_percentiles(multispectral: Path) -> None:
    m = viz.show(multispectral)
    query = _tile_layer(m).url.split("?", 1)[1]
    ranges = [tuple(map(float, part.split(","))) for part in re.findall(r"rescale=([^&]+)", query)]
    assert query.startswith("bands=1,2,3&")
    with Reader(str(multispectral)) as reader:
        preview = reader.preview(indexes=(1, 2, 3), max_size=1024).array
    for band, (low, high) in zip(preview, ranges, strict=True):
        expected = np.percentile(band.compressed().astype("float64"), [2, 98])
        assert (low, high) == pytest.approx(tuple(expected))


# --- the map -------------------------------------------------------------------------------------


def test_map_is_offline_centred_and_layered(multispectral: Path, elevation: Path) -> None:
    m = viz.show(multispectral, rescale=(0, 3000), opacity=0.8)
    assert len(m.layers) == 1  # no internet basemap by default
    layer = _tile_layer(m)
    assert layer.opacity == 0.8 and layer.name == "multispectral" and layer.no_wrap
    source = viz.tile_server().registry.get(_layer_id(m)).source
    assert m.zoom == fit_zoom(source.bounds)
    assert m.center == pytest.approx(list(bounds_center(source.bounds)))
    west, south, east, north = source.bounds
    assert layer.bounds == [[south, west], [north, east]]
    assert any(isinstance(control, ipyleaflet.LayersControl) for control in m.controls)

    same = viz.show(elevation, colormap="viridis", m=m, name="dsm")
    assert same is m
    assert [lay.name for lay in m.layers] == ["multispectral", "dsm"]
    assert sum(isinstance(control, ipyleaflet.LayersControl) for control in m.controls) == 1


def test_basemap_is_opt_in(multispectral: Path) -> None:
    m = viz.show(multispectral, basemap="http://127.0.0.1:1/{z}/{x}/{y}.png")
    assert len(m.layers) == 2 and m.layers[0].base and m.layers[0].url.startswith("http://127.0.0.1:1/")
    provider_map = viz.show(multispectral, basemap=ipyleaflet.basemaps.OpenStreetMap.Mapnik)
    assert provider_map.layers[0].base  # built, not fetched: nothing is downloaded here


# --- security and errors ---------------------------------------------------------------------------


def test_unknown_and_path_like_ids_answer_404(multispectral: Path) -> None:
    m = viz.show(multispectral, rescale=(0, 3000))
    server = viz.tile_server()
    good = _tile_url(_tile_layer(m).url, _center_tile(multispectral))
    assert _fetch(good)[0] == 200
    assert _fetch(good.replace(_layer_id(m), "A" * 22))[0] == 404
    for path in (
        "/tiles/../../etc/passwd/1/2/3.png",
        "/tiles/..%2F..%2Fetc%2Fpasswd/1/2/3.png",
        "/tiles/%2e%2e/%2e%2e/etc/passwd",
        "/../../etc/passwd",
        f"/tiles/{_layer_id(m)}/../../../etc/passwd",
        f"/tiles/{multispectral}/1/2/3.png",
        "/",
    ):
        assert _raw_get(server.url, path) == 404, path
    assert server.url.startswith("http://127.0.0.1:")
    assert server._httpd.server_address[0] == "127.0.0.1"


def test_out_of_bounds_and_malformed_tiles(multispectral: Path) -> None:
    m = viz.show(multispectral, rescale=(0, 3000))
    template = _tile_layer(m).url
    status, body, _ = _fetch(_tile_url(template, morecantile.Tile(0, 0, 10)))  # far north-west
    assert status == 200
    assert (_png(body)[..., 3] == 0).all()
    assert _fetch(_tile_url(template, morecantile.Tile(5, 0, 2)))[0] == 400  # x >= 2**z
    base = _tile_url(template, _center_tile(multispectral)).split("?")[0]
    assert _fetch(base + "?colormap=viridis")[0] == 400  # 3 bands
    assert _fetch(base + "?bands=7")[0] == 400
    assert _fetch(base + "?url=http://example.com/x.tif")[0] == 400
    assert _fetch(base + "?bands=4&rescale=2000,3000")[0] == 200  # the query may restyle the layer


def test_missing_crs_is_refused(tmp_path: Path) -> None:
    xarray = pytest.importorskip("xarray")
    with pytest.raises(MissingCRSError):
        viz.show(xarray.DataArray(np.zeros((4, 4)), dims=("y", "x")))
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8") as dst:
        dst.write(np.ones((1, 4, 4), dtype="uint8"))
    with pytest.raises(MissingCRSError):
        viz.show(path)
    with pytest.raises(FileNotFoundError):
        viz.show(tmp_path / "absent.tif")


# --- other sources -------------------------------------------------------------------------------


def test_cog_url_on_loopback_renders_like_the_file(multispectral: Path, range_server: str) -> None:
    by_url = viz.show(f"{range_server}/{multispectral.name}", rescale=(0, 3000))
    by_path = viz.show(multispectral, rescale=(0, 3000))
    assert range_server not in _tile_layer(by_url).url  # the tile URL never names the source
    tile = _center_tile(multispectral)
    url_tile = _png(_fetch(_tile_url(_tile_layer(by_url).url, tile))[1])
    path_tile = _png(_fetch(_tile_url(_tile_layer(by_path).url, tile))[1])
    np.testing.assert_array_equal(url_tile, path_tile)


def test_dask_backed_array_renders_reading_only_its_window(multispectral: Path) -> None:
    rioxarray = pytest.importorskip("rioxarray")
    array = rioxarray.open_rasterio(multispectral, chunks={"band": 1, "x": 128, "y": 128})
    chunks_read: list[tuple[int, ...]] = []
    lock = threading.Lock()

    def record(block: np.ndarray, block_info: dict | None = None) -> np.ndarray:
        with lock:
            chunks_read.append(tuple(block_info[None]["chunk-location"]))
        return block

    traced = array.copy(data=array.data.map_blocks(record, dtype=array.dtype))
    m = viz.show(traced, bands=(3, 2, 1), rescale=(0, 3000))
    chunks_read.clear()
    with Reader(str(multispectral)) as reader:
        deeper = reader.maxzoom + 2  # a tile of about 90 x 90 source pixels
    tile = _center_tile(multispectral, deeper, offset=(0.3, 0.3))
    status, body, _ = _fetch(_tile_url(_tile_layer(m).url, tile))
    assert status == 200
    rgba = _png(body)
    assert (rgba[..., 3] == 255).mean() > 0.5
    # 3 bands x at most 2 x 2 chunks of 128 px, of the array's 4 x 4 x 4
    assert 0 < len(chunks_read) <= 3 * 4, chunks_read
    # the array layer draws what the file layer draws, give or take resampling at pixel edges
    file_m = viz.show(multispectral, bands=(3, 2, 1), rescale=(0, 3000))
    reference = _png(_fetch(_tile_url(_tile_layer(file_m).url, tile))[1])
    both = (rgba[..., 3] == 255) & (reference[..., 3] == 255)
    agreement = (np.abs(rgba[..., :3].astype(int) - reference[..., :3]) <= 2).all(axis=-1)[both].mean()
    assert agreement > 0.9


def test_concurrent_requests_share_the_reader_pool(multispectral: Path) -> None:
    m = viz.show(multispectral, rescale=(0, 3000))
    template = _tile_layer(m).url
    zoom = _center_tile(multispectral).z
    with Reader(str(multispectral)) as reader:
        tiles = list(TMS.tiles(*reader.get_geographic_bounds("EPSG:4326"), zooms=[zoom]))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda tile: _fetch(_tile_url(template, tile)), tiles * 3))
    assert all(status == 200 for status, _, _ in answers)
    bodies = {tile: {answers[i + k * len(tiles)][1] for k in range(3)} for i, tile in enumerate(tiles)}
    assert all(len(variants) == 1 for variants in bodies.values())  # same tile, same bytes
    source = viz.tile_server().registry.get(_layer_id(m)).source
    assert source._opened <= 4 + 1


def test_a_stopped_server_is_replaced() -> None:
    server = viz.TileServer()
    url = server.url
    assert _raw_get(url, "/") == 404
    server.stop()
    assert not server.running
    with pytest.raises(OSError):
        _raw_get(url, "/")
    current = viz.tile_server()
    assert current.running and current is viz.tile_server()


def test_tile_latency_is_reported(multispectral: Path) -> None:
    """Not a benchmark (see the report): sequential latency of warm tiles on this small file."""
    m = viz.show(multispectral, rescale=(0, 3000))
    template = _tile_layer(m).url
    tile = _center_tile(multispectral)
    _fetch(_tile_url(template, tile))
    durations = []
    for _ in range(20):
        started = time.perf_counter()
        assert _fetch(_tile_url(template, tile))[0] == 200
        durations.append(time.perf_counter() - started)
    print(f"tile latency p50 {1000 * np.median(durations):.1f} ms")
    assert np.median(durations) < 1.0
