"""Bands of a multispectral DataArray by name, as floating point with NaN for nodata (lazily)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ai4geo_kernel.errors import RasterError

__all__ = ["BandMap", "band", "as_reflectance", "band_names"]

#: Where to find a band: its 1-based index or its label, by common name (``{"red": 3, "nir": 4}``).
BandMap = Mapping[str, int | str]

#: Dimension names taken for the band axis, in order.
_BAND_DIMS = ("band", "bands", "channel", "spectral")


def _band_dim(image: xr.DataArray) -> str:
    for dim in _BAND_DIMS:
        if dim in image.dims:
            return dim
    if image.ndim == 3:
        return str(image.dims[0])
    raise RasterError(f"expected a multi-band image (band, y, x), got dimensions {tuple(image.dims)}")


def band_names(image: xr.DataArray) -> list[str]:
    """Names of the bands of ``image``: its band coordinate when it holds names, else its ``long_name`` attr.

    Returns an empty list when the bands are only numbered.
    """
    dim = _band_dim(image)
    if dim in image.coords:
        labels = [str(v) for v in image.coords[dim].values]
        if any(not label.lstrip("-").isdigit() for label in labels):
            return [label.lower() for label in labels]
    long_name = image.attrs.get("long_name")
    if isinstance(long_name, list | tuple) and len(long_name) == image.sizes[dim]:
        return [str(name).lower() for name in long_name]
    return []


def as_reflectance(data: xr.DataArray) -> xr.DataArray:
    """``data`` as float32 (float64 kept) with its nodata value (rioxarray's) turned into NaN; lazy."""
    import rioxarray  # noqa: F401  (registers the .rio accessor)

    nodata = data.rio.nodata if data.rio.nodata is not None else data.rio.encoded_nodata
    out = data.astype(np.float32) if data.dtype != np.float64 else data
    if nodata is not None and not np.isnan(nodata):
        out = out.where(data != nodata)
    return out


def band(image: xr.DataArray, name: str, *, bands: BandMap | None = None) -> xr.DataArray:
    """The band called ``name`` (``red``, ``nir``...) of a multi-band image, as float with NaN for nodata.

    Parameters
    ----------
    image
        ``(band, y, x)`` DataArray whose bands are named by their coordinate (``stackstac``, ``odc``) or by
        a ``long_name`` tuple (``rioxarray.open_rasterio`` of a GeoTIFF with band descriptions).
    name
        Common name of the band.
    bands
        Where each band is when the image does not name them: ``{"red": 3, "nir": 4}`` (1-based
        indices) or coordinate labels.

    Raises
    ------
    RasterError
        When the band cannot be found; the message lists the bands there are.
    """
    dim = _band_dim(image)
    key = name.lower()
    if bands is not None and key in {k.lower() for k in bands}:
        where = next(v for k, v in bands.items() if k.lower() == key)
        if isinstance(where, int) and not isinstance(where, bool):
            if not 1 <= where <= image.sizes[dim]:
                raise RasterError(f"band index {where} for {name!r} is out of 1..{image.sizes[dim]}")
            selected = image.isel({dim: where - 1})
        else:
            selected = image.sel({dim: where})
    else:
        names = band_names(image)
        if key not in names:
            shown = ", ".join(names) if names else f"{image.sizes[dim]} unnamed bands"
            raise RasterError(
                f"no {name!r} band in the image ({shown}): name the bands (band coordinate or "
                f"long_name) or pass bands={{{name!r}: index, ...}}"
            )
        selected = image.isel({dim: names.index(key)})
    selected = selected.drop_vars(dim, errors="ignore")
    selected.attrs = {
        k: v for k, v in image.attrs.items() if k not in ("long_name", "scale_factor", "add_offset")
    }
    return as_reflectance(selected).rename(key)
