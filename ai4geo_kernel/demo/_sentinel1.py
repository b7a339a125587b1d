"""The Sentinel-1-like series: 10 m C-band amplitudes (VV, VH) every 12 days, with speckle and known changes.

The noise-free backscatter (sigma nought, linear intensity) of each 10 m pixel mixes the backscatter
of the land-cover classes it holds (buildings bright by double bounce, calm water dark), with a
persistent texture (building orientation, surface roughness) and mild seasonal terms (soil moisture in
winter, leaves in summer). Known changes set the site's backscatter from their date on (steps) or on
their date only (peaks). Each acquisition then draws fully developed multiplicative speckle: the
intensity is the noise-free one times a Gamma(L, 1/L) variable with the equivalent number of looks
``L = 4.4`` (a GRD product), and the amplitude written is its square root.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ai4geo_kernel.demo._changes import ChangeEvent, with_amplitudes
from ai4geo_kernel.demo._landcover import BARE_SOIL, BUILDING, GRASS, ROAD, TREE, WATER
from ai4geo_kernel.demo._random import stream
from ai4geo_kernel.demo._scene import Scene

__all__ = [
    "EQUIVALENT_NUMBER_OF_LOOKS",
    "POLARIZATIONS",
    "SIGMA0_DB",
    "S1Scene",
    "class_fractions",
    "backscatter",
    "simulate_s1",
]

#: Equivalent number of looks of the speckle.
EQUIVALENT_NUMBER_OF_LOOKS = 4.4
#: Asset names, in order.
POLARIZATIONS = ("vv", "vh")
#: Mean backscatter of each land-cover class, dB, (VV, VH).
SIGMA0_DB = {
    BUILDING: (1.0, -8.0),
    ROAD: (-15.0, -23.0),
    TREE: (-7.5, -13.5),
    GRASS: (-11.0, -18.0),
    WATER: (-22.0, -28.0),
    BARE_SOIL: (-12.0, -20.0),
}
#: Backscatter of the changed state, dB (VV, VH), by cause.
_CHANGED_DB = {
    "construction": (-2.0, -10.0),
    "flooding": (-21.0, -27.0),
    "fair": (-1.0, -9.0),
    "moored_barges": (-4.0, -12.0),
}


@dataclass(frozen=True)
class S1Scene:
    """One date of the series: amplitudes (float32, linear) by polarization."""

    datetime: datetime
    vv: np.ndarray
    vh: np.ndarray


def _db(value: float | np.ndarray) -> float | np.ndarray:
    return 10.0 ** (np.asarray(value, dtype=np.float64) / 10.0)


def _seasonal_db(cls: int, day: int, pol: int) -> float:
    """Seasonal offset in dB: wetter soils in winter, leafy crowns (more volume scattering) in summer."""
    winter = math.cos(2 * math.pi * (day - 15) / 366.0)  # +1 mid-January, -1 mid-July
    if cls in (GRASS, BARE_SOIL):
        return 1.0 * winter
    if cls == TREE:
        return -0.8 * winter * (1.5 if pol == 1 else 1.0)
    return 0.0


def class_fractions(scene: Scene) -> dict[int, np.ndarray]:
    """Share of each land-cover class in each 10 m pixel."""
    n10 = scene.grid.size_10m
    lc = scene.landcover.reshape(n10, 10, n10, 10)
    return {cls: (lc == cls).mean(axis=(1, 3), dtype=np.float32) for cls in SIGMA0_DB}


def backscatter(
    fractions: dict[int, np.ndarray],
    when: datetime,
    events: tuple[ChangeEvent, ...],
    texture: np.ndarray,
) -> np.ndarray:
    """Noise-free backscatter ``(2, rows, cols)`` (linear intensity, VV then VH) at a date.

    Parameters
    ----------
    fractions
        Share of each land-cover class in each pixel (:func:`class_fractions`).
    when
        Acquisition datetime (seasonal terms, which changes show).
    events
        Known changes.
    texture
        Persistent multiplicative texture ``(2, rows, cols)``.
    """
    day = when.timetuple().tm_yday
    sigma = np.zeros(texture.shape, dtype=np.float32)
    for cls, (vv, vh) in SIGMA0_DB.items():
        for pol, level in enumerate((vv, vh)):
            sigma[pol] += fractions[cls] * float(_db(level + _seasonal_db(cls, day, pol)))
    sigma *= texture
    for event in events:
        shows = when >= event.date if event.kind == "step" else when == event.date
        if not shows:
            continue
        rows, cols = event.site.slices(resolution=10)
        for pol, level in enumerate(_CHANGED_DB[event.cause]):
            sigma[pol, rows, cols] = float(_db(level)) * texture[pol, rows, cols]
    return sigma


def simulate_s1(
    scene: Scene, dates: tuple[datetime, ...], events: tuple[ChangeEvent, ...], seed: int
) -> tuple[Iterator[S1Scene], tuple[ChangeEvent, ...]]:
    """Simulate the series.

    Parameters
    ----------
    scene
        The scene.
    dates
        Acquisition datetimes.
    events
        Known changes (their sites and dates).
    seed
        Seed of texture and speckle.

    Returns
    -------
    tuple
        An iterator over the dates (:class:`S1Scene`), and the events with their amplitudes of change
        measured on the noise-free VV and VH backscatter (mean over the site, after vs. before).
    """
    n10 = scene.grid.size_10m
    rng_texture = stream(seed, "s1-texture")
    texture = np.exp(rng_texture.normal(0.0, 1.0, size=(2, n10, n10)) * (math.log(10) / 10.0)).astype(
        np.float32
    )
    building_share = (scene.landcover == BUILDING).reshape(n10, 10, n10, 10).mean(axis=(1, 3))
    # Buildings: strong orientation-dependent texture (about 3 dB) on top of the 1 dB roughness.
    strong = np.exp(rng_texture.normal(0.0, 2.0, size=(n10, n10)) * (math.log(10) / 10.0) * building_share)
    texture *= strong.astype(np.float32)[None]

    fractions = class_fractions(scene)
    measured = []
    for event in events:
        rows, cols = event.site.slices(resolution=10)
        index = event.date_index - 1
        before_when = dates[index - 1]
        after = backscatter(fractions, event.date, events, texture)[:, rows, cols].mean(axis=(1, 2))
        before = backscatter(fractions, before_when, events, texture)[:, rows, cols].mean(axis=(1, 2))
        vv_db, vh_db = (10.0 * np.log10(after / before)).tolist()
        measured.append(with_amplitudes(event, vv_db, vh_db))

    def series() -> Iterator[S1Scene]:
        for index, when in enumerate(dates):
            rng = stream(seed, "s1-date", index)
            sigma = backscatter(fractions, when, events, texture)
            calibration = float(_db(rng.normal(0.0, 0.15)))
            speckle = rng.gamma(
                EQUIVALENT_NUMBER_OF_LOOKS, 1.0 / EQUIVALENT_NUMBER_OF_LOOKS, size=sigma.shape
            ).astype(np.float32)
            amplitude = np.sqrt(sigma * speckle * calibration).astype(np.float32)
            np.maximum(amplitude, np.float32(1e-4), out=amplitude)
            yield S1Scene(datetime=when, vv=amplitude[0], vh=amplitude[1])

    return series(), tuple(measured)
