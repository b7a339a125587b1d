"""``show()``: a raster, a STAC item or a GeoDataFrame on an ipyleaflet map (raster tiles from the kernel's
own tile server)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from ai4geo_kernel.errors import ConfigurationError
from ai4geo_kernel.tiles._geometry import MAX_ZOOM, Bounds, bounds_center, fit_zoom
from ai4geo_kernel.tiles._sources import RasterSource, open_source
from ai4geo_kernel.tiles._stac import ItemSource, asset_href, choose_assets
from ai4geo_kernel.tiles._style import Range, TileStyle, check_bands, check_colormap, check_rescale
from ai4geo_kernel.viz._inspector import inspector_for
from ai4geo_kernel.viz._layers import Layer
from ai4geo_kernel.viz._legend import colorbar_control
from ai4geo_kernel.viz._server import tile_server
from ai4geo_kernel.viz._vector import vector_layer

__all__ = ["show", "basemap_layer"]


def basemap_layer(basemap: Any) -> Any:
    """An ipyleaflet base layer from a TileLayer, an xyzservices provider (``ipyleaflet.basemaps.*``)
    or a URL template the user chooses (``https://.../{z}/{x}/{y}.png``)."""
    import ipyleaflet

    if isinstance(basemap, ipyleaflet.TileLayer):
        layer = basemap
    elif isinstance(basemap, str):
        if not all(part in basemap for part in ("{z}", "{x}", "{y}")):
            raise ConfigurationError(f"a basemap URL needs {{z}}, {{x}} and {{y}} placeholders: {basemap!r}")
        layer = ipyleaflet.TileLayer(url=basemap, name="basemap", max_zoom=MAX_ZOOM)
    elif isinstance(basemap, dict):  # xyzservices.TileProvider is a dict
        layer = ipyleaflet.basemap_to_tiles(basemap)
    else:
        raise ConfigurationError(
            f"basemap must be a TileLayer, an xyzservices provider or a URL, not {basemap!r}"
        )
    layer.base = True
    return layer


def _leaflet_bounds(bounds: Bounds) -> list[list[float]]:
    west, south, east, north = bounds
    return [[south, west], [north, east]]


def _tile_layer(layer: Layer, url: str, opacity: float) -> Any:
    import ipyleaflet

    return ipyleaflet.TileLayer(
        url=url,
        name=layer.name,
        opacity=opacity,
        min_zoom=0,
        # Tiles of every zoom come from the server (max_native_zoom = max_zoom). Capping it at the source's
        # "native" zoom made Leaflet stretch those tiles: rio-tiler's maxzoom is the deepest zoom *coarser*
        # than the data (z13, 13.8 m pixels, for a 10 m Sentinel-2 image at 43.6 N), so the map showed a
        # resampled image enlarged 8x with smoothing: blurred pixels and stair steps of 8 screen pixels
        # along the raster's edges (tests/browser/test_notebook_map.py measures it).
        max_zoom=MAX_ZOOM,
        max_native_zoom=MAX_ZOOM,
        bounds=_leaflet_bounds(layer.source.bounds),
        no_wrap=True,
        attribution="",
    )


def _new_map(bounds: Bounds, basemap: Any | None) -> Any:
    import ipyleaflet

    latitude, longitude = bounds_center(bounds)
    layers = (basemap_layer(basemap),) if basemap is not None else ()
    return ipyleaflet.Map(
        center=[latitude, longitude], zoom=fit_zoom(bounds), layers=layers, scroll_wheel_zoom=True
    )


def _add_layers_control(m: Any) -> None:
    import ipyleaflet

    if not any(isinstance(control, ipyleaflet.LayersControl) for control in m.controls):
        m.add(ipyleaflet.LayersControl(position="topright"))


def _is_geodataframe(obj: Any) -> bool:
    geopandas = sys.modules.get("geopandas")
    return geopandas is not None and isinstance(obj, geopandas.GeoDataFrame)


def _is_stac_item(obj: Any) -> bool:
    pystac = sys.modules.get("pystac")
    return pystac is not None and isinstance(obj, pystac.Item)


def _item_source(item: Any, bands: Any, name: str | None) -> tuple[ItemSource, tuple[int, ...] | None]:
    """The assets of ``item`` that ``bands`` names (or the visual / red-green-blue ones) as one source."""
    keys, numbers = choose_assets(item, bands)
    sources: list[RasterSource] = []
    try:
        for key in keys:
            sources.append(RasterSource(asset_href(item, key)))
    except BaseException:
        for opened in sources:
            opened.close()
        raise
    return ItemSource(sources, name=name or f"{item.id} {'/'.join(keys)}", asset_keys=keys), numbers


def _show_vector(
    frame: Any, *, name: str | None, style: Any, hover_style: Any, fields: Any, m: Any, basemap: Any
) -> Any:
    layer, attributes = vector_layer(
        frame, name=name or "features", style=style, hover_style=hover_style, fields=fields
    )
    if m is None:
        west, south, east, north = (float(v) for v in frame.to_crs("EPSG:4326").total_bounds)
        m = _new_map((west, south, east, north), basemap)
    m.add(layer)
    m.add(attributes)
    _add_layers_control(m)
    return m


def show(
    obj: str | os.PathLike[str] | Any,
    *,
    bands: int | str | Sequence[int] | Sequence[str] | None = None,
    rescale: Range | Sequence[Range] | None = None,
    colormap: str | None = None,
    name: str | None = None,
    opacity: float = 1.0,
    m: Any | None = None,
    basemap: Any | None = None,
    style: Mapping[str, Any] | None = None,
    hover_style: Mapping[str, Any] | None = None,
    fields: Sequence[str] | None = None,
) -> Any:
    """Show a raster on an interactive 2D map, tiled by this kernel.

    The raster is registered with the kernel's tile server (started on first use, bound to
    127.0.0.1) under an opaque id; the map's tile layer fetches
    ``http://127.0.0.1:PORT/tiles/<id>/{z}/{x}/{y}.png?bands=...&rescale=...``. No internet basemap
    is added unless asked for, so the map works offline.

    Parameters
    ----------
    obj : str, os.PathLike, xarray.DataArray, pystac.Item or geopandas.GeoDataFrame
        A GeoTIFF/COG path, an ``http(s)://`` URL of a COG (served with HTTP Range support, read
        through GDAL /vsicurl), a DataArray with a CRS (2D, or ``band x y x``; Dask-backed
        arrays compute only what each tile needs), a STAC item (its ``visual`` asset, else its red,
        green and blue assets, else its first raster asset), or a GeoDataFrame (a vector layer whose
        attributes show under the pointer).
    bands : int, str or sequence of int / str, optional
        1-based band indices: one (grey or colormapped) or three (red, green, blue). Default:
        bands 1, 2, 3 of a multi-band raster, else band 1. For a STAC item: asset keys or band common
        names (``("nir", "red", "green")``), or band numbers inside its one drawn asset.
    rescale : (min, max) or sequence of (min, max), optional
        Value range mapped to 0..255, for all bands or one per band. Default: the 2nd-98th
        percentiles of each band, from the overviews or a decimated read (computed once).
    colormap : str, optional
        rio-tiler colormap name (``"viridis"``, ``"terrain"``, ``"rdylgn"``...), single band
        only; the map then shows a colorbar.
    name : str, optional
        Layer name in the layers control (default: file stem or array name).
    opacity : float
        Layer opacity, 0 to 1.
    m : ipyleaflet.Map, optional
        Add the layer to this map (its view is kept) instead of creating one.
    basemap : TileLayer, xyzservices provider or str, optional
        Base layer for a new map, e.g. ``ipyleaflet.basemaps.OpenStreetMap.Mapnik`` or a URL
        template; default none.
    style, hover_style : mapping, optional
        GeoDataFrame only: Leaflet path options (``color``, ``weight``, ``fillColor``,
        ``fillOpacity``...) of the features and of the feature under the pointer.
    fields : sequence of str, optional
        GeoDataFrame only: the attribute columns shown on hover or click (default: all).

    Returns
    -------
    ipyleaflet.Map
        Centred and zoomed on the raster, with a layers control, a colorbar for a colormapped band and
        a value inspector (click the map: every band of every raster layer at that point).

    Raises
    ------
    MissingCRSError
        If the array or file has no CRS.
    ConfigurationError
        For bands, rescale, colormap or basemap values that cannot be used.
    FileNotFoundError, RasterError
        If the raster cannot be found or opened.

    Examples
    --------
    >>> m = viz.show("dsm.tif", colormap="terrain")  # doctest: +SKIP
    >>> viz.show("ortho.tif", bands=(3, 2, 1), rescale=(0, 3000), m=m)  # doctest: +SKIP
    >>> viz.show(results.items[0], bands=("nir", "red", "green"), m=m)  # doctest: +SKIP
    >>> viz.show(buildings, style={"color": "red"}, fields=["height", "roof"], m=m)  # doctest: +SKIP
    """
    if not 0.0 <= float(opacity) <= 1.0:
        raise ConfigurationError(f"opacity must lie in [0, 1], got {opacity!r}")
    if _is_geodataframe(obj):
        return _show_vector(
            obj, name=name, style=style, hover_style=hover_style, fields=fields, m=m, basemap=basemap
        )
    if style is not None or hover_style is not None or fields is not None:
        raise ConfigurationError("style, hover_style and fields apply to GeoDataFrames (vector layers)")
    if _is_stac_item(obj):
        source, numbers = _item_source(obj, bands, name)
        bands = numbers
    else:
        source = open_source(obj)
    try:
        chosen = check_bands(bands, source.count)
        style = TileStyle(
            bands=chosen,
            rescale=check_rescale(rescale, len(chosen)),
            colormap=check_colormap(colormap, len(chosen)),
        )
        server = tile_server()
        layer = server.add_layer(source, style, name=name)
    except BaseException:
        source.close()
        raise
    url = server.tile_url(layer)  # computes the automatic range now, once
    tiles = _tile_layer(layer, url, float(opacity))

    if m is None:
        m = _new_map(source.bounds, basemap)
    m.add(tiles)
    _add_layers_control(m)
    inspector_for(m).add(layer)
    if style.colormap is not None:
        m.add(colorbar_control(layer.name, style.colormap, layer.rescale_for(style)[0]))
    return m
