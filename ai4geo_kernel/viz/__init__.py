"""Maps in notebooks: the notebook side of the 2D viewer.

:func:`show` puts a GeoTIFF/COG (path or local URL), a georeferenced DataArray, a STAC item (its visual
or red/green/blue assets) or a GeoDataFrame (a vector layer with its attributes on hover) on an ipyleaflet
map. Tiles come from a small server this kernel starts on first use, bound to 127.0.0.1, which
renders them with rio-tiler; its URLs carry only opaque layer ids.

>>> from ai4geo_kernel import viz
>>> m = viz.show("dsm.tif", colormap="terrain")  # doctest: +SKIP
>>> viz.tile_server().url  # doctest: +SKIP
'http://127.0.0.1:41237'
"""

from __future__ import annotations

from ai4geo_kernel.tiles._geometry import bounds_center, fit_zoom
from ai4geo_kernel.tiles._sources import ArraySource, RasterSource, TileSource, open_source
from ai4geo_kernel.tiles._style import TileStyle
from ai4geo_kernel.viz._inspector import ValueInspector, inspector_for
from ai4geo_kernel.viz._layers import Layer, LayerRegistry
from ai4geo_kernel.viz._map import basemap_layer, show
from ai4geo_kernel.viz._pydeck import pydeck_html, show_pydeck
from ai4geo_kernel.viz._server import TileServer, tile_server
from ai4geo_kernel.viz._show3d import SCENE3D_MIME_TYPE, Scene3D, show3d

__all__ = [
    "show",
    "show3d",
    "Scene3D",
    "SCENE3D_MIME_TYPE",
    "pydeck_html",
    "show_pydeck",
    "tile_server",
    "TileServer",
    "Layer",
    "ValueInspector",
    "inspector_for",
    "LayerRegistry",
    "TileStyle",
    "TileSource",
    "RasterSource",
    "ArraySource",
    "open_source",
    "basemap_layer",
    "fit_zoom",
    "bounds_center",
]
