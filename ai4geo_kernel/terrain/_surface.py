"""Elevation rasters in, elevation rasters out: one 2D float DataArray with its CRS and NaN as nodata."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import xarray as xr

from ai4geo_kernel.errors import MissingCRSError, RasterError

__all__ = ["SurfaceInput", "as_surface", "resolution_of"]

#: What the terrain functions accept for an elevation raster: a DataArray or the path of a GeoTIFF.
SurfaceInput = xr.DataArray | str | os.PathLike[str]


def as_surface(data: Any, *, name: str = "dsm", chunks: int | None = None) -> xr.DataArray:
    """Normalise an elevation raster to a 2D floating point DataArray with NaN for nodata and a CRS.

    Parameters
    ----------
    data
        An ``xarray.DataArray`` (2D, or 3D with a single band) carrying a CRS through rioxarray, or the
        path of a raster GDAL reads.
    name
        What the raster is (``dsm``, ``dtm``), used in error messages and as the DataArray's name.
    chunks
        When ``data`` is a path: open it lazily in square Dask chunks of this many pixels (``None``:
        read it into memory).

    Returns
    -------
    xarray.DataArray
        ``(y, x)`` float32 (float64 kept), NaN where the input was nodata, CRS and transform kept.

    Raises
    ------
    MissingCRSError
        When the raster carries no CRS.
    RasterError
        When it has several bands or is not 2D.
    """
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{name} {path} does not exist")
        opened = rioxarray.open_rasterio(
            path, masked=True, chunks=(None if chunks is None else {"x": chunks, "y": chunks})
        )
        data = opened if chunks is not None else opened.load()
    if not isinstance(data, xr.DataArray):
        raise RasterError(f"{name} must be an xarray.DataArray or a path, got {type(data).__name__}")
    surface = data
    if surface.ndim == 3:
        band_dim = next((d for d in surface.dims if d not in (surface.rio.y_dim, surface.rio.x_dim)), None)
        if band_dim is None or surface.sizes[band_dim] != 1:
            raise RasterError(f"{name} must have a single band, got dimensions {dict(surface.sizes)}")
        surface = surface.squeeze(band_dim, drop=True)
    if surface.ndim != 2:
        raise RasterError(f"{name} must be a 2D raster, got dimensions {dict(surface.sizes)}")
    if surface.rio.crs is None:
        raise MissingCRSError(
            f"the {name} has no CRS: set one with .rio.write_crs('EPSG:...') (a DTM needs a metric grid)"
        )
    nodata = surface.rio.nodata
    if nodata is None:
        nodata = surface.rio.encoded_nodata
    if surface.dtype.kind != "f":
        surface = surface.astype(np.float32)
    if nodata is not None and not np.isnan(nodata):
        surface = surface.where(surface != nodata)
    surface = surface.transpose(surface.rio.y_dim, surface.rio.x_dim)
    surface = surface.rio.write_nodata(np.nan, encoded=False)
    surface.name = name
    return surface


def resolution_of(surface: xr.DataArray) -> float:
    """Ground sampling distance of a raster (metres for a projected CRS): the mean of its two pixel sides.

    Raises
    ------
    RasterError
        When the pixels are not square within 1 %, or the CRS is geographic (degrees are not metres).
    """
    if surface.rio.crs is not None and surface.rio.crs.is_geographic:
        raise RasterError("the raster is in a geographic CRS: reproject it to a projected one (metres) first")
    xres, yres = (abs(float(v)) for v in surface.rio.resolution(recalc=True))
    if abs(xres - yres) > 0.01 * max(xres, yres):
        raise RasterError(f"pixels must be square, got {xres} x {yres}")
    return (xres + yres) / 2
