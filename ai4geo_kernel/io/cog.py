"""Write rasters as Cloud-Optimized GeoTIFFs, atomically.

The file is written by GDAL's ``COG`` driver (tiled, internal overviews, overviews after the full
resolution image as the COG layout requires) to a temporary file in the destination folder, then
renamed onto the destination: a failure at any point leaves no file at the destination.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
from affine import Affine
from rasterio.crs import CRS

from ai4geo_kernel.errors import MissingCRSError, RasterError
from ai4geo_kernel.io.atomic import atomic_path

__all__ = ["write_cog", "overview_count"]

#: Largest side (pixels) of the coarsest internal overview.
OVERVIEW_MAX_SIDE = 256

_RESAMPLINGS = {"nearest", "average", "mode", "bilinear", "cubic", "cubicspline", "lanczos", "rms"}
_COMPRESSIONS = {"deflate", "lzw", "zstd", "lzma", "none", "packbits"}


def overview_count(height: int, width: int, *, max_side: int = OVERVIEW_MAX_SIDE) -> int:
    """Number of power-of-two overviews needed until the coarsest one is at most ``max_side`` pixels.

    Parameters
    ----------
    height, width
        Size of the full resolution image, in pixels.
    max_side
        Largest side allowed for the coarsest overview.

    Returns
    -------
    int
        0 when the image already fits in ``max_side``.
    """
    side = max(height, width)
    if side <= max_side:
        return 0
    return math.ceil(math.log2(side / max_side))


def _as_array(
    data: Any,
    transform: Affine | Sequence[float] | None,
    crs: CRS | str | int | None,
    nodata: float | None,
    band_names: Sequence[str] | None,
) -> tuple[np.ndarray, Affine, CRS, float | None, list[str] | None]:
    """Normalise a numpy array or an xarray DataArray into (bands x rows x cols, transform, crs, ...)."""
    if hasattr(data, "dims") and hasattr(data, "values"):  # an xarray.DataArray
        import rioxarray  # noqa: F401  (registers the .rio accessor)

        rio = data.rio
        if crs is None:
            crs = rio.crs
        if crs is None:
            raise MissingCRSError("the DataArray has no CRS: set one with .rio.write_crs(...) or pass crs=")
        if transform is None:
            transform = rio.transform(recalc=True)
        if nodata is None:
            nodata = rio.nodata if rio.nodata is not None else rio.encoded_nodata
        if data.ndim == 3:
            band_dim = next(d for d in data.dims if d not in (rio.y_dim, rio.x_dim))
            if band_names is None and band_dim in data.coords:
                labels = [str(v) for v in data.coords[band_dim].values]
                if any(not label.lstrip("-").isdigit() for label in labels):
                    band_names = labels
            data = data.transpose(band_dim, rio.y_dim, rio.x_dim)
        else:
            data = data.transpose(rio.y_dim, rio.x_dim)
        array = np.asarray(data.values)
    else:
        array = np.asarray(data)
    if crs is None:
        raise MissingCRSError("no CRS given: pass crs= (e.g. 'EPSG:32631')")
    if transform is None:
        raise RasterError("no geotransform given: pass transform= (an affine.Affine)")
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3 or 0 in array.shape:
        raise RasterError(f"expected a 2D or (bands, rows, cols) array, got shape {array.shape}")
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if array.dtype.kind not in "uif":
        raise RasterError(f"cannot write a {array.dtype} array as a GeoTIFF")
    if band_names is not None:
        band_names = [str(name) for name in band_names]
        if len(band_names) != array.shape[0]:
            raise RasterError(f"{len(band_names)} band names for {array.shape[0]} bands")
    affine = transform if isinstance(transform, Affine) else Affine(*list(transform)[:6])
    return array, affine, CRS.from_user_input(crs), nodata, band_names


def _write_bands(dataset: Any, array: np.ndarray, band_names: list[str] | None) -> None:
    """Write the pixels and band descriptions into an open dataset (a separate step so tests can fail it)."""
    dataset.write(array)
    for index, name in enumerate(band_names or [], start=1):
        dataset.set_band_description(index, name)


def write_cog(
    data: Any,
    path: str | os.PathLike[str],
    *,
    transform: Affine | Sequence[float] | None = None,
    crs: CRS | str | int | None = None,
    nodata: float | None = None,
    band_names: Sequence[str] | None = None,
    overview_resampling: str = "average",
    compress: str = "deflate",
    blocksize: int = 256,
) -> Path:
    """Write a raster as a Cloud-Optimized GeoTIFF, atomically.

    Parameters
    ----------
    data
        A numpy array (``rows x cols`` or ``bands x rows x cols``) with ``transform`` and ``crs``, or an
        ``xarray.DataArray`` carrying its CRS and transform through rioxarray (``.rio.crs``); keyword
        arguments given explicitly win over the DataArray's own.
    path
        Destination file; its folder is created when missing. An existing file is replaced only once the
        new one is complete.
    transform
        Affine geotransform of the pixel grid (an ``affine.Affine`` or its 6 coefficients).
    crs
        Coordinate reference system (anything ``rasterio.crs.CRS.from_user_input`` accepts).
    nodata
        Value marking missing pixels (may be ``nan`` for floating point data).
    band_names
        One description per band (``red``, ``nir``, ``dsm``...), stored in the file.
    overview_resampling
        GDAL resampling of the internal overviews: ``average`` for continuous values, ``mode`` or
        ``nearest`` for classes and masks.
    compress
        GDAL compression (``deflate``, ``zstd``, ``lzw``, ``none``...). A predictor suited to the data type
        is used.
    blocksize
        Tile size in pixels: 256 or 512.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    MissingCRSError
        When no CRS is given and the DataArray carries none.
    RasterError
        When the array has an unsupported shape or data type, or GDAL fails to write it.
    """
    if blocksize not in (256, 512):
        raise RasterError(f"blocksize must be 256 or 512, got {blocksize}")
    resampling = overview_resampling.lower()
    if resampling not in _RESAMPLINGS:
        raise RasterError(
            f"unknown overview resampling {overview_resampling!r}; use one of {sorted(_RESAMPLINGS)}"
        )
    compression = compress.lower()
    if compression not in _COMPRESSIONS:
        raise RasterError(f"unknown compression {compress!r}; use one of {sorted(_COMPRESSIONS)}")
    array, affine, crs_obj, nodata, names = _as_array(data, transform, crs, nodata, band_names)
    count, height, width = array.shape
    options: dict[str, Any] = {
        "BLOCKSIZE": blocksize,
        "COMPRESS": compression.upper(),
        "OVERVIEW_RESAMPLING": resampling.upper(),
        "OVERVIEW_COUNT": overview_count(height, width),
        "BIGTIFF": "IF_SAFER",
    }
    if compression in {"deflate", "lzw", "zstd", "lzma"}:
        options["PREDICTOR"] = "YES"
    final = Path(path)
    try:
        with (
            atomic_path(final, suffix=".tif") as tmp,
            rasterio.Env(GDAL_PAM_ENABLED="NO"),
            rasterio.open(
                tmp,
                "w",
                driver="COG",
                width=width,
                height=height,
                count=count,
                dtype=array.dtype,
                crs=crs_obj,
                transform=affine,
                nodata=nodata,
                **options,
            ) as dataset,
        ):
            _write_bands(dataset, array, names)
    except rasterio.errors.RasterioError as error:
        raise RasterError(f"could not write {final}: {error}") from error
    return final
