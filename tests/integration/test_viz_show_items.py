"""``viz.show()`` of STAC items (their RGB assets, a visual-like multi-band asset, named assets) and of
GeoDataFrames (a GeoJSON vector layer whose attributes show on hover), on the demo area.

Item tiles are fetched from the kernel's tile server (127.0.0.1) and compared, pixel by pixel, with direct
rio-tiler reads of the asset files stretched by the layer's ranges."""

from __future__ import annotations

import io
import re
import urllib.request
from pathlib import Path

import ipyleaflet
import morecantile
import numpy as np
import pystac
import pytest
import shapely
from PIL import Image
from rio_tiler.io import Reader

from ai4geo_kernel import viz
from ai4geo_kernel.errors import ConfigurationError, MissingCRSError

pytestmark = pytest.mark.integration
TMS = morecantile.tms.get("WebMercatorQuad")
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _item(asset_file: Path) -> pystac.Item:
    return pystac.Item.from_file(asset_file.parent / f"{asset_file.parent.name}.json")


def _raster_layer(m: ipyleaflet.Map) -> ipyleaflet.TileLayer:
    return [layer for layer in m.layers if isinstance(layer, ipyleaflet.TileLayer)][-1]


def _ranges(url: str) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in part.split(",")) for part in re.findall(r"rescale=([^&]+)", url)]


def _tile_in_middle(path: Path, zoom: int) -> morecantile.Tile:
    with Reader(str(path)) as reader:
        west, south, east, north = reader.get_geographic_bounds("EPSG:4326")
    return TMS.tile((west + east) / 2, (south + north) / 2, zoom)


def _fetch_tile(layer: ipyleaflet.TileLayer, tile: morecantile.Tile) -> np.ndarray:
    url = layer.url.replace("{z}", str(tile.z)).replace("{x}", str(tile.x)).replace("{y}", str(tile.y))
    assert url.startswith("http://127.0.0.1:")
    with OPENER.open(url, timeout=60) as answer:
        return np.asarray(Image.open(io.BytesIO(answer.read())).convert("RGBA"))


def _expected(files: list[tuple[Path, int]], tile: morecantile.Tile, ranges) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Direct rio-tiler reads of (file, band) per channel, stretched like the layer; and their validity."""
    channels, valid = [], None
    for (path, band), (low, high) in zip(files, ranges, strict=True):
        with Reader(str(path)) as reader:
            data = reader.tile(tile.x, tile.y, tile.z, indexes=(band,), tilesize=256).array[0]
        scaled = np.clip((np.ma.getdata(data).astype("float64") - low) / (high - low) * 255.0, 0, 255)
        channels.append(scaled)
        ok = ~np.ma.getmaskarray(data)
        valid = ok if valid is None else valid & ok
    return np.stack(channels, axis=-1), valid


def test_item_without_visual_asset_shows_its_red_green_blue_assets(demo_area) -> None:
    red = demo_area.s2_asset(3, "red")
    item = _item(red)
    m = viz.show(item)
    layer = _raster_layer(m)
    assert layer.name == f"{item.id} red/green/blue"
    tile = _tile_in_middle(red, 16)
    got = _fetch_tile(layer, tile)
    files = [(demo_area.s2_asset(3, band), 1) for band in ("red", "green", "blue")]
    expected, valid = _expected(files, tile, _ranges(layer.url))
    assert valid.mean() > 0.5
    assert np.abs(got[..., :3].astype(float) - expected)[valid].max() <= 1.0
    assert (got[..., 3][valid] == 255).all()


def test_item_bands_name_assets_by_key_or_common_name(demo_area) -> None:
    nir = demo_area.s2_asset(5, "nir")
    item = _item(nir)
    m = viz.show(item, bands=("nir", "red", "green"), rescale=(0, 4000))
    layer = _raster_layer(m)
    assert layer.name == f"{item.id} nir/red/green"
    tile = _tile_in_middle(nir, 15)
    got = _fetch_tile(layer, tile)
    files = [(demo_area.s2_asset(5, band), 1) for band in ("nir", "red", "green")]
    expected, valid = _expected(files, tile, [(0.0, 4000.0)] * 3)
    assert np.abs(got[..., :3].astype(float) - expected)[valid].max() <= 1.0
    viz.show(item, bands="nir", colormap="viridis", m=m)  # one asset, colormapped
    assert _raster_layer(m).name == f"{item.id} nir" and "colormap=viridis" in _raster_layer(m).url
    with pytest.raises(ConfigurationError, match="no single-band raster asset 'coastal'"):
        viz.show(item, bands=("coastal", "red", "green"))
    with pytest.raises(ConfigurationError, match="several assets"):
        viz.show(item, bands=(1, 2, 3))


def test_item_with_one_multiband_asset_draws_its_bands_named_red_green_blue(demo_area) -> None:
    image = demo_area.vhr_image
    item = _item(image)
    m = viz.show(item)
    layer = _raster_layer(m)
    assert "bands=3,2,1" in layer.url  # blue, green, red, nir in the file
    tile = _tile_in_middle(image, 18)
    got = _fetch_tile(layer, tile)
    expected, valid = _expected([(image, 3), (image, 2), (image, 1)], tile, _ranges(layer.url))
    assert valid.mean() > 0.5
    assert np.abs(got[..., :3].astype(float) - expected)[valid].max() <= 1.0
    viz.show(item, bands=(4,), m=m, rescale=(0, 5000))
    assert "bands=4" in _raster_layer(m).url


def test_geodataframe_is_a_geojson_layer_in_wgs84_with_its_attributes_on_hover(demo_area) -> None:
    import geopandas

    buildings = geopandas.read_file(demo_area.buildings_gpkg)
    assert buildings.crs is not None and buildings.crs.to_epsg() != 4326 and len(buildings) > 3
    m = viz.show(buildings, name="buildings", style={"color": "#d62728"}, fields=list(buildings.columns[:2]))
    layer = [layer for layer in m.layers if isinstance(layer, ipyleaflet.GeoJSON)][-1]
    features = layer.data["features"]
    assert layer.name == "buildings" and len(features) == len(buildings)
    wgs84 = buildings.to_crs("EPSG:4326")
    for feature, (_, row) in zip(features, wgs84.iterrows(), strict=True):
        assert shapely.geometry.shape(feature["geometry"]).equals_exact(row.geometry, tolerance=1e-9)
        for column in buildings.columns.drop(buildings.geometry.name):
            assert column in feature["properties"]
    assert layer.style["color"] == "#d62728" and layer.hover_style["weight"] == 4
    west, south, east, north = wgs84.total_bounds
    assert south < m.center[0] < north and west < m.center[1] < east
    # hovering a feature (the message Leaflet sends) fills the attribute box with its values
    box = next(c for c in m.controls if isinstance(c, ipyleaflet.WidgetControl)).widget
    assert box.layout.display == "none"
    first = features[0]
    layer._handle_mouse_events(
        None, {"event": "mouseover", "feature": first, "properties": first["properties"]}, None
    )
    assert box.layout.display is None
    shown = list(buildings.columns[:2])
    for column in shown:
        assert f">{column}<" in box.value and str(first["properties"][column]) in box.value
    hidden = [c for c in buildings.columns.drop(buildings.geometry.name) if c not in shown]
    assert all(f">{column}<" not in box.value for column in hidden)
    # a raster on the same map, under the vector layer's control
    viz.show(demo_area.dsm, colormap="terrain", m=m)
    assert sum(isinstance(c, ipyleaflet.LayersControl) for c in m.controls) == 1


def test_geodataframe_without_crs_or_with_unknown_fields_is_refused(demo_area) -> None:
    import geopandas

    frame = geopandas.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(MissingCRSError, match="set_crs"):
        viz.show(frame)
    with pytest.raises(ConfigurationError, match="not columns"):
        viz.show(frame.set_crs(4326), fields=["nope"])
    with pytest.raises(ConfigurationError, match="GeoDataFrames"):
        viz.show(demo_area.dsm, style={"color": "red"})


def _value_at(path: Path, lon: float, lat: float, band: int = 1) -> float:
    import rasterio
    from rasterio.warp import transform as warp_transform

    with rasterio.open(path) as src:
        (x,), (y,) = warp_transform("EPSG:4326", src.crs, [lon], [lat])
        row, col = src.index(x, y)
        return float(src.read(band, window=((row, row + 1), (col, col + 1)))[0, 0])


def test_clicking_the_map_reads_every_band_of_every_raster_layer(demo_area) -> None:
    import rioxarray

    dsm = demo_area.dsm
    red = demo_area.s2_asset(7, "red")
    array = rioxarray.open_rasterio(demo_area.dtm, chunks=256).squeeze("band", drop=True).rename("dtm")
    m = viz.show(dsm, colormap="terrain")
    viz.show(_item(red), m=m)
    viz.show(array, m=m, opacity=0.5)
    inspectors = [
        c for c in m.controls if isinstance(c, ipyleaflet.WidgetControl) and "click the map" in c.widget.value
    ]
    assert len(inspectors) == 1  # one inspector for the three layers
    with Reader(str(dsm)) as reader:
        west, south, east, north = reader.get_geographic_bounds("EPSG:4326")
    lon, lat = west + (east - west) * 0.37, south + (north - south) * 0.61
    # the message ipyleaflet's front-end sends on a click
    m._handle_leaflet_event(None, {"event": "interaction", "type": "click", "coordinates": [lat, lon]}, None)
    lon_read, lat_read, readings = m._ai4geo_inspector.last
    assert (lon_read, lat_read) == pytest.approx((lon, lat))
    by_layer = dict(readings)
    assert by_layer["dsm"][0][1] == pytest.approx(_value_at(dsm, lon, lat))
    item_values = dict(by_layer[f"{_item(red).id} red/green/blue"])
    for band in ("red", "green", "blue"):
        assert item_values[band] == _value_at(demo_area.s2_asset(7, band), lon, lat)
    assert by_layer["dtm"] == [("dtm", pytest.approx(_value_at(demo_area.dtm, lon, lat)))]
    html_text = inspectors[0].widget.value
    assert f"lon {lon:.6f}" in html_text and "dsm" in html_text and ">red<" in html_text
    # off every layer: said so, no error
    m._handle_leaflet_event(None, {"event": "interaction", "type": "click", "coordinates": [0.0, 0.0]}, None)
    assert all(values == [] for _, values in m._ai4geo_inspector.last[2])
    assert "outside the layer" in inspectors[0].widget.value
