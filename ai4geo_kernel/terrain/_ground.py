"""What is added around Bulldozer: the DSM's noise and edge sharpness, and ground refinement of the cloth.

Each step is plain numpy or a standard raster operation (GDAL's inverse-distance
``FillNodata`` through :func:`rasterio.fill.fillnodata`); the reasons are given beside each.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["noise_sigma", "edge_sharpness", "refine_ground"]

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


def edge_sharpness(dsm: np.ndarray, *, rise: float = 3.0, span: int = 4) -> float | None:
    """How sharp the DSM's object edges are: 1 for walls, about ``1 / span`` for ramps.

    For every run of ``span`` cells along a row or a column over which the height changes by more than
    ``rise`` metres (the edge of a building or a tree), the share of that change made by its largest
    single step; the median over all of them. A LiDAR or an exact DSM makes a wall one step (0.7-1
    measured on the ISPRS samples and the demo DSM); stereo matching spreads a roof's height over the
    few cells its correlation window straddles (0.45-0.46 measured on CARS's DSMs of the demo pair).

    Returns
    -------
    float or None
        ``None`` when no such edge exists (nothing stands on the terrain, or the DSM is too small).
    """
    shares = []
    for axis in (0, 1):
        heights = np.moveaxis(dsm, axis, 0)
        if heights.shape[0] <= span:
            continue
        steps = np.abs(np.diff(heights, axis=0))
        total = np.abs(heights[span:] - heights[:-span])
        largest = np.max(np.stack([steps[i : i + total.shape[0]] for i in range(span)]), axis=0)
        edges = np.isfinite(total) & np.isfinite(largest) & (total > rise)
        shares.append(largest[edges] / total[edges])
    values = np.concatenate(shares) if shares else np.array([])
    return float(np.median(values)) if values.size else None


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
