"""Spectral indices: NDVI and the C3 shadow invariant, lazily and nodata-safe."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ai4geo_kernel.errors import RasterError
from ai4geo_kernel.indices._bands import BandMap, as_reflectance, band

__all__ = ["ndvi", "c3"]


def _keep_grid(result: xr.DataArray, like: xr.DataArray, name: str, long_name: str) -> xr.DataArray:
    result = result.astype(np.float32)
    result.name = name
    result.attrs = {"long_name": long_name}
    if like.rio.crs is not None:
        result = result.rio.write_crs(like.rio.crs)
    return result.rio.write_nodata(np.nan, encoded=False)


def _pair(
    first: xr.DataArray, second: xr.DataArray, names: tuple[str, str]
) -> tuple[xr.DataArray, xr.DataArray]:
    if first.shape != second.shape:
        raise RasterError(
            f"the {names[0]} and {names[1]} bands differ in shape: {first.shape} and {second.shape}"
        )
    return first, second


def ndvi(red: xr.DataArray, nir: xr.DataArray | None = None, *, bands: BandMap | None = None) -> xr.DataArray:
    """Normalised difference vegetation index, (NIR - red) / (NIR + red).

    Parameters
    ----------
    red
        The red band, or a multi-band image holding ``red`` and ``nir`` bands when ``nir`` is not given.
    nir
        The near-infrared band, on the same grid as ``red``.
    bands
        Where the bands are in a multi-band image that does not name them (``{"red": 3, "nir": 4}``).

    Returns
    -------
    xarray.DataArray
        ``ndvi`` in [-1, 1] for non-negative inputs, float32, NaN where an input is nodata or NIR + red is 0;
        lazy (nothing computed) when the inputs are Dask-backed; CRS kept.
    """
    if nir is None:
        red_band, nir_band = band(red, "red", bands=bands), band(red, "nir", bands=bands)
    else:
        red_band, nir_band = _pair(as_reflectance(red), as_reflectance(nir), ("red", "nir"))
    total = nir_band + red_band
    # Division only where the sum is not 0: no 0/0 warning, NaN there (and wherever an input is NaN).
    index = xr.where(total != 0, (nir_band - red_band) / total.where(total != 0), np.nan)
    return _keep_grid(index, red_band, "ndvi", "normalised difference vegetation index")


def c3(
    red: xr.DataArray,
    green: xr.DataArray | None = None,
    blue: xr.DataArray | None = None,
    *,
    bands: BandMap | None = None,
) -> xr.DataArray:
    """The C3 colour invariant, arctan(B / max(R, G)), high in cast shadows (Gevers & Smeulders 1999).

    Shadows are lit only by the sky, which is blue: the blue band's share rises there while the
    invariant ignores the overall brightness.

    Parameters
    ----------
    red
        The red band, or a multi-band image with ``red``, ``green`` and ``blue`` bands when the other two
        are not given.
    green, blue
        The green and blue bands, on the same grid as ``red``.
    bands
        Where the bands are in a multi-band image that does not name them.

    Returns
    -------
    xarray.DataArray
        ``c3`` in radians, in [0, pi/2] for non-negative inputs, float32, NaN where an input is nodata or
        max(R, G) is 0; lazy for Dask-backed inputs; CRS kept.
    """
    if green is None and blue is None:
        r, g, b = (band(red, name, bands=bands) for name in ("red", "green", "blue"))
    elif green is None or blue is None:
        raise RasterError("give green and blue with red, or a single multi-band image")
    else:
        r, g = _pair(as_reflectance(red), as_reflectance(green), ("red", "green"))
        r, b = _pair(r, as_reflectance(blue), ("red", "blue"))
    # xarray's maximum of two arrays propagates NaN (np.fmax would hide a nodata red behind a valid green).
    brightest = np.maximum(r, g)
    index = np.arctan(b / brightest.where(brightest != 0))
    return _keep_grid(index, r, "c3", "C3 colour invariant arctan(B / max(R, G))")
