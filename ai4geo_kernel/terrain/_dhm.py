"""DHM = DSM - DTM: the height of what stands on the terrain."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ai4geo_kernel.errors import GridMismatchError
from ai4geo_kernel.terrain._surface import SurfaceInput, as_surface

__all__ = ["dhm", "check_same_grid"]


def check_same_grid(
    first: xr.DataArray, second: xr.DataArray, *, names: tuple[str, str] = ("dsm", "dtm")
) -> None:
    """Raise :class:`GridMismatchError` unless both rasters have the same CRS, shape and transform."""
    a, b = names
    if first.rio.crs != second.rio.crs:
        raise GridMismatchError(
            f"the {a} is in CRS {first.rio.crs} but the {b} in {second.rio.crs}: reproject one "
            f"onto the other (rioxarray's .rio.reproject_match)"
        )
    if first.shape != second.shape:
        raise GridMismatchError(
            f"the {a} is {first.shape[0]} x {first.shape[1]} pixels but the {b} "
            f"{second.shape[0]} x {second.shape[1]}: resample one onto the other's grid "
            f"(rioxarray's .rio.reproject_match)"
        )
    ta, tb = first.rio.transform(recalc=True), second.rio.transform(recalc=True)
    pixel = min(abs(ta.a), abs(ta.e))
    if not ta.almost_equals(tb, precision=1e-6 * pixel if pixel else 1e-9):
        raise GridMismatchError(
            f"the {a} and the {b} have the same size but different geotransforms "
            f"({tuple(ta)[:6]} and {tuple(tb)[:6]}): resample one onto the other's grid"
        )


def dhm(dsm: SurfaceInput, dtm: SurfaceInput, *, clip_negative: bool = True) -> xr.DataArray:
    """Digital height model: DSM - DTM, the height of buildings and vegetation above the terrain.

    Parameters
    ----------
    dsm, dtm
        Rasters on the same grid (DataArrays with a CRS, or paths); a Dask-backed input gives a lazy
        DHM (nothing is computed here).
    clip_negative
        Set to 0 the cells where the DSM lies below the DTM (noise: nothing stands below the terrain).

    Returns
    -------
    xarray.DataArray
        ``dhm`` in metres on the DSM's grid, NaN where either input is nodata, CRS kept.

    Raises
    ------
    GridMismatchError
        When the two rasters differ in CRS, shape or transform.
    MissingCRSError
        When either has no CRS.
    """
    surface = as_surface(dsm, name="dsm")
    terrain = as_surface(dtm, name="dtm")
    check_same_grid(surface, terrain)
    # Same grid checked above: align by position, not by floating-point coordinate labels.
    height = surface - terrain.data
    if clip_negative:
        height = xr.where(height < 0, np.float32(0), height, keep_attrs=True)
    height = height.astype(np.float32)
    height.name = "dhm"
    height = height.rio.write_crs(surface.rio.crs).rio.write_transform(surface.rio.transform())
    height = height.rio.write_nodata(np.nan, encoded=False)
    height.attrs.update(units="m", long_name="digital height model (DSM - DTM)")
    return height
