"""Automatic display ranges: 2nd-98th percentiles of a decimated read, once per layer and bands."""

from __future__ import annotations

import numpy as np

from ai4geo_kernel.tiles._style import Range

__all__ = ["LOW_PERCENTILE", "HIGH_PERCENTILE", "SAMPLE_SIZE", "percentile_ranges"]

LOW_PERCENTILE = 2.0
HIGH_PERCENTILE = 98.0
#: Longest side, in pixels, of the read the statistics come from (overviews when the file has them).
SAMPLE_SIZE = 1024


def percentile_ranges(
    sample: np.ma.MaskedArray, *, low: float = LOW_PERCENTILE, high: float = HIGH_PERCENTILE
) -> tuple[Range, ...]:
    """Per-band ``(low, high)`` percentiles of the valid (unmasked, finite) pixels of ``sample``.

    Parameters
    ----------
    sample : numpy.ma.MaskedArray
        ``(bands, rows, cols)`` or ``(rows, cols)``.
    low, high : float
        Percentiles.

    Returns
    -------
    tuple of (float, float)
        One range per band, always ``min < max`` (a constant band gives ``(v, v + 1)``; a band
        without valid pixels ``(0, 1)``).
    """
    data = np.ma.masked_invalid(np.ma.asarray(sample, dtype="float64"))
    if data.ndim == 2:
        data = data[np.newaxis]
    ranges: list[Range] = []
    for band in data:
        valid = band.compressed()
        if valid.size == 0:
            ranges.append((0.0, 1.0))
            continue
        lo, hi = (float(v) for v in np.percentile(valid, [low, high]))
        if not hi > lo:
            lo, hi = float(valid.min()), float(valid.max())
        if not hi > lo:
            hi = lo + 1.0
        ranges.append((lo, hi))
    return tuple(ranges)
