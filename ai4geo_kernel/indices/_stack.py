"""The building segmentation tensor: R, G, B, NIR, DHM, NDVI, C3 on the image grid, one ``channel`` axis."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ai4geo_kernel.errors import MissingCRSError
from ai4geo_kernel.indices._bands import BandMap, as_reflectance, band
from ai4geo_kernel.indices._spectral import c3, ndvi

__all__ = ["CHANNELS", "stack_channels", "match_grid"]

#: Channels of the segmentation tensor, in order.
CHANNELS = ("red", "green", "blue", "nir", "dhm", "ndvi", "c3")


def _same_grid(raster: xr.DataArray, like: xr.DataArray) -> bool:
    if raster.rio.crs != like.rio.crs or raster.shape[-2:] != like.shape[-2:]:
        return False
    ta, tb = raster.rio.transform(recalc=True), like.rio.transform(recalc=True)
    return ta.almost_equals(tb, precision=1e-6 * abs(tb.a))


def match_grid(raster: xr.DataArray, like: xr.DataArray, *, resampling: str = "bilinear") -> xr.DataArray:
    """``raster`` on the grid of ``like`` (CRS, transform, shape), NaN outside its footprint.

    Already on that grid: returned as is (a lazy raster stays lazy). Otherwise resampled with
    rioxarray's ``reproject_match`` (GDAL warp), which computes a Dask-backed raster.

    Parameters
    ----------
    raster
        2D raster with a CRS (nodata as NaN or as its rio nodata).
    like
        Raster whose grid is wanted (its last two dimensions are y, x).
    resampling
        GDAL resampling name: ``bilinear`` for heights (default), ``nearest``, ``cubic``, ``average``...
    """
    from rasterio.enums import Resampling

    if raster.rio.crs is None:
        raise MissingCRSError(f"{raster.name or 'the raster'} has no CRS: it cannot be put on the image grid")
    if like.rio.crs is None:
        raise MissingCRSError("the image has no CRS: set one with .rio.write_crs(...)")
    source = as_reflectance(raster).rio.write_nodata(np.nan, encoded=False)
    if _same_grid(source, like):
        return source.assign_coords(
            {source.rio.x_dim: like[like.rio.x_dim].values, source.rio.y_dim: like[like.rio.y_dim].values}
        )
    template = like if like.ndim == 2 else like.isel({like.dims[0]: 0})
    return source.rio.reproject_match(template, resampling=Resampling[resampling], nodata=np.nan)


def stack_channels(
    image: xr.DataArray,
    dhm: xr.DataArray,
    *,
    bands: BandMap | None = None,
    resampling: str = "bilinear",
) -> xr.DataArray:
    """The input tensor of building segmentation: R, G, B, NIR, DHM, NDVI, C3 on the image's grid.

    Parameters
    ----------
    image
        Multispectral image ``(band, y, x)`` with ``red``, ``green``, ``blue`` and ``nir`` bands (named by
        its band coordinate or ``long_name``, or located by ``bands``) and a CRS.
    dhm
        Height above the terrain (:func:`ai4geo_kernel.terrain.dhm`), in any CRS and resolution: it is
        put on the image grid by :func:`match_grid` (rioxarray ``reproject_match``; no resampling when it
        is already on that grid).
    bands
        Where the bands are when the image does not name them (``{"blue": 1, "green": 2, ...}``).
    resampling
        Resampling of the DHM (``bilinear``: heights are continuous).

    Returns
    -------
    xarray.DataArray
        ``(channel, y, x)`` float32 with ``channel`` = ``red, green, blue, nir, dhm, ndvi, c3``, the image's
        coordinates and CRS, NaN for nodata; lazy when the image is Dask-backed and the DHM needs no
        resampling.
    """
    import rioxarray  # noqa: F401

    if image.rio.crs is None:
        raise MissingCRSError("the image has no CRS: set one with .rio.write_crs(...)")
    spectral = {name: band(image, name, bands=bands) for name in ("red", "green", "blue", "nir")}
    template = spectral["red"]
    height = match_grid(dhm, template, resampling=resampling)
    layers: dict[str, Any] = dict(spectral)
    layers["dhm"] = height
    layers["ndvi"] = ndvi(spectral["red"], spectral["nir"])
    layers["c3"] = c3(spectral["red"], spectral["green"], spectral["blue"])
    y, x = template.rio.y_dim, template.rio.x_dim
    arrays = []
    for name in CHANNELS:
        layer = layers[name].astype(np.float32)
        layer = layer.drop_vars([c for c in layer.coords if c not in (y, x)])
        arrays.append(layer.assign_coords({y: template[y].values, x: template[x].values}))
    tensor = xr.concat(arrays, dim="channel", coords="minimal", compat="override", join="override")
    tensor = tensor.assign_coords(channel=list(CHANNELS))
    tensor.name = "channels"
    tensor.attrs = {"long_name": "segmentation channels", "units": "reflectance, m (dhm), 1 (ndvi), rad (c3)"}
    tensor = tensor.rio.write_crs(image.rio.crs).rio.write_transform(image.rio.transform(recalc=True))
    return tensor.rio.write_nodata(np.nan, encoded=False)
