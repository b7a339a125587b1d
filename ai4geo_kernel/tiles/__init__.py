"""Tile rendering for the 2D viewers, on rio-tiler: XYZ tiles, point values, bounds, statistics.

The Jupyter server extension (``extensions/viewer2d``) and :mod:`ai4geo_kernel.viz` both render through
this module: :class:`TileService` answers for files under a root folder (paths checked with
:func:`resolve_path`), :class:`RasterSource` / :class:`ArraySource` cut Web Mercator tiles from a file or
an xarray DataArray, :class:`ItemSource` draws assets of a STAC item as one layer (:class:`AssetRef` names
an item's asset in a server request), :func:`render_image` turns a tile into PNG/WebP.

>>> from ai4geo_kernel import tiles
>>> service = tiles.TileService("/data")  # doctest: +SKIP
>>> terrain = tiles.TileStyle(bands=(1,), colormap="terrain")
>>> png = service.tile("dsm.tif", 14, 8230, 5950, style=terrain)  # doctest: +SKIP
"""

from __future__ import annotations

from ai4geo_kernel.tiles._cog import CogJob, cog_path_for, start_cog_conversion
from ai4geo_kernel.tiles._paths import resolve_path
from ai4geo_kernel.tiles._rendering import FORMATS, render_image, render_png
from ai4geo_kernel.tiles._service import TileService, parse_categories
from ai4geo_kernel.tiles._sources import ArraySource, RasterSource, TileSource, open_source
from ai4geo_kernel.tiles._stac import AssetRef, ItemSource, choose_assets, raster_asset_keys
from ai4geo_kernel.tiles._statistics import percentile_ranges
from ai4geo_kernel.tiles._style import TileStyle

__all__ = [
    "TileService",
    "TileStyle",
    "TileSource",
    "RasterSource",
    "ArraySource",
    "ItemSource",
    "AssetRef",
    "choose_assets",
    "raster_asset_keys",
    "open_source",
    "resolve_path",
    "render_image",
    "render_png",
    "percentile_ranges",
    "parse_categories",
    "start_cog_conversion",
    "cog_path_for",
    "CogJob",
    "FORMATS",
]
