"""What is added around Bulldozer: DSM noise estimate, pit removal before the cloth, ground refinement after.

Each step is a standard raster operation (``scipy.ndimage`` filters, GDAL's inverse-distance
``FillNodata`` through :func:`rasterio.fill.fillnodata`); the reasons are given beside each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

__all__ = ["noise_sigma", "remove_pits", "refine_ground"]

#: 1 / (sqrt(6) * 0.6745): a second difference of white noise of deviation s has deviation sqrt(6) s,
#: and the median absolute value of a normal variable is 0.6745 of its deviation.
_MAD_SECOND_DIFFERENCE = 1.0 / (np.sqrt(6.0) * 0.6745)


def noise_sigma(dsm: np.ndarray) -> float:
    """Robust estimate of the DSM's height noise (metres, one standard deviation).

    The second difference along rows and columns cancels any plane (sloping terrain, flat roofs), so
    what is left on most cells is the noise; the median of its absolute value ignores the few cells on
    edges (walls, tree crowns). Returns 0 when fewer than 9 cells have their neighbours.
    """
    values = []
    for axis in (0, 1):
        lower = np.take(dsm, np.arange(0, dsm.shape[axis] - 2), axis=axis)
        middle = np.take(dsm, np.arange(1, dsm.shape[axis] - 1), axis=axis)
        upper = np.take(dsm, np.arange(2, dsm.shape[axis]), axis=axis)
        second = (lower - 2 * middle + upper).ravel()
        values.append(second[np.isfinite(second)])
    second = np.concatenate(values)
    if second.size < 9:
        return 0.0
    return float(np.median(np.abs(second)) * _MAD_SECOND_DIFFERENCE)


def remove_pits(dsm: np.ndarray, depth: float, *, size: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Set to NaN the cells lying more than ``depth`` below the median of their ``size`` x ``size`` window.

    A DSM has no real hole narrower than a few cells (a well, a courtyard is wider than the window's
    half), but stereo matching blunders and multipath returns give isolated cells far below their
    neighbours; a cloth draped from below hooks on them and is dragged down around them. Removing them
    lets Bulldozer fill them like any other nodata. The median keeps a cell whose window is mostly at
    its own height (a street between two roofs is kept while it is at least half the window wide).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The DSM with pits set to NaN, and the boolean mask of the pits.
    """
    finite = np.isfinite(dsm)
    # Nodata counts as -inf: it pulls the median down, so cells next to holes are never taken for pits.
    median = ndimage.median_filter(np.where(finite, dsm, -np.inf), size=size, mode="nearest")
    pits = finite & (dsm < median - depth)
    return np.where(pits, np.nan, dsm), pits


def refine_ground(
    dsm: np.ndarray,
    dtm: np.ndarray,
    *,
    tolerance: float,
    iterations: int,
    search_distance: float,
    on_pass: Callable[[], None] | None = None,
) -> np.ndarray:
    """Move the cloth onto the DSM where the DSM is ground, and carry the correction under the objects.

    A cloth draped under a DSM lies below convex terrain (ridges, hill tops, the top of a river bank):
    its tension smooths what the terrain does not. The DSM cells within ``tolerance`` of the cloth are
    taken as ground; there the DSM *is* the terrain, so the residual DSM - cloth is the cloth's error.
    That residual is interpolated under the non-ground cells (GDAL's inverse-distance fill, limited to
    ``search_distance`` pixels, beyond which the cloth is kept) and added to the cloth. Each pass takes
    in the ground cells next to the ground found so far whose height differs from the corrected cloth
    by less than ``tolerance``: ground grows across a terrain edge the cloth blurred, about one cell a
    pass, and stops at walls and tree crowns, whose edges are steps larger than the tolerance (region
    growing, as in classic ground filters). The passes stop when no cell joins the ground. A DTM is
    never above the DSM.

    Parameters
    ----------
    dsm, dtm
        Heights (NaN for nodata), same shape; ``dtm`` is the cloth.
    tolerance
        Largest height of a DSM cell above the terrain for it to still count as ground (metres): the
        DSM's noise and the height of low objects one accepts in the DTM.
    iterations
        Most passes of classification and correction (0: return ``min(dtm, dsm)``).
    search_distance
        Farthest distance (pixels) the correction is carried from ground cells.
    on_pass
        Called after each pass (a progress bar's update).

    Returns
    -------
    numpy.ndarray
        The refined DTM (float32).
    """
    from rasterio.fill import fillnodata

    finite = np.isfinite(dsm) & np.isfinite(dtm)
    result = np.where(finite, np.minimum(dtm, dsm), dtm).astype(np.float32)
    if iterations < 1 or not finite.any():
        return result
    cloth = result.copy()
    distance = max(1.0, float(search_distance))
    ground = np.zeros(dsm.shape, dtype=bool)
    for _ in range(iterations):
        grown = ground | (finite & (dsm - result <= tolerance))
        if not grown.any() or np.array_equal(grown, ground):
            break
        ground = grown
        residual = np.where(ground, dsm - cloth, 0.0).astype(np.float32)
        correction = fillnodata(
            residual, mask=ground.astype(np.uint8), max_search_distance=distance, smoothing_iterations=0
        )
        result = np.where(finite, np.minimum(cloth + correction, dsm), cloth).astype(np.float32)
        if on_pass is not None:
            on_pass()
    return result
