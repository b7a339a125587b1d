"""The Sentinel-2-like series: 10 m surface reflectance through one year, with phenology and clouds.

Each 10 m pixel mixes what its hundred 1 m pixels hold: the intrinsic reflectance of built and bare
surfaces, plus trees and grass whose spectrum follows the season (deciduous trees bare in winter, lawns
greenest in spring and a little dry in late summer). Known changes (construction, flooding) show from
their date on. Clouds are soft blobs of smooth noise, with their shadows displaced away from the sun by
their height; a scene-classification layer (Sentinel-2 L2A ``SCL`` codes) marks them, and the item's
``eo:cloud_cover`` is the share of cloud pixels in that layer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy import ndimage

from ai4geo_kernel.demo._acquisitions import sun_position
from ai4geo_kernel.demo._changes import ChangeEvent
from ai4geo_kernel.demo._landcover import GRASS, TREE, WATER
from ai4geo_kernel.demo._layout import S2_ASSETS
from ai4geo_kernel.demo._random import stream
from ai4geo_kernel.demo._render import BAND_NAMES, MATERIAL_ROOF_BASE, MATERIAL_TREE, SPECTRA
from ai4geo_kernel.demo._scene import ROOF_MATERIALS, SURFACE_GRASS, SURFACE_WATER, Scene

__all__ = [
    "S2_BANDS",
    "SCL_CODES",
    "S2Scene",
    "cloud_fractions",
    "phenology",
    "simulate_s2",
]

#: Asset name -> (common name, centre wavelength in micrometres, full width at half maximum).
S2_BANDS = dict(
    zip(
        S2_ASSETS,
        (
            ("blue", 0.490, 0.098),
            ("green", 0.560, 0.045),
            ("red", 0.665, 0.038),
            ("nir", 0.842, 0.145),
            ("swir16", 1.610, 0.143),
        ),
        strict=True,
    )
)
#: Scene classification codes used (a subset of Sentinel-2 L2A's SCL).
SCL_CODES = {
    0: "no_data",
    3: "cloud_shadows",
    4: "vegetation",
    5: "not_vegetated",
    6: "water",
    8: "cloud_medium_probability",
    9: "cloud_high_probability",
}
_CLOUD_CODES = (8, 9)

_TREE_DORMANT = np.array([0.060, 0.080, 0.100, 0.200, 0.250], dtype=np.float32)
_TREE_GREEN = np.array([0.030, 0.060, 0.035, 0.400, 0.160], dtype=np.float32)
_GRASS_DORMANT = np.array([0.060, 0.090, 0.100, 0.220, 0.280], dtype=np.float32)
_GRASS_GREEN = np.array([0.035, 0.080, 0.045, 0.420, 0.200], dtype=np.float32)
_CLOUD = np.array([0.450, 0.460, 0.470, 0.500, 0.380], dtype=np.float32)
_BUILT = SPECTRA[MATERIAL_ROOF_BASE + ROOF_MATERIALS.index("gravel")]
_WATER = SPECTRA[SURFACE_WATER]


@dataclass(frozen=True)
class S2Scene:
    """One date of the series.

    Attributes
    ----------
    datetime
        Acquisition time (UTC).
    bands
        Asset name -> ``(rows, cols)`` uint16 reflectance x 10000 (nodata 0).
    scl
        Scene classification (``SCL_CODES``), uint8.
    cloud_cover
        Percentage of pixels classified as cloud in ``scl``.
    sun_azimuth, sun_elevation
        Sun position at acquisition, degrees.
    """

    datetime: datetime
    bands: dict[str, np.ndarray]
    scl: np.ndarray
    cloud_cover: float
    sun_azimuth: float
    sun_elevation: float


def phenology(day_of_year: float) -> tuple[float, float]:
    """Greenness (0: dormant, 1: full green) of deciduous trees and of grass on a day of the year."""
    d = float(day_of_year)
    leaf_on = 1.0 / (1.0 + math.exp(-(d - 105.0) / 8.0)) - 1.0 / (1.0 + math.exp(-(d - 305.0) / 10.0))
    tree = 0.12 + 0.85 * leaf_on
    grass = (
        0.40 + 0.50 * math.exp(-(((d - 130.0) / 80.0) ** 2)) - 0.08 * math.exp(-(((d - 220.0) / 20.0) ** 2))
    )
    return tree, grass


def cloud_fractions(count: int, rng: np.random.Generator) -> np.ndarray:
    """Target cloud fraction of each date: mostly clear or partly cloudy, at least two clear dates and two
    dates more than 60 % cloudy."""
    fractions = np.where(rng.random(count) < 0.45, 0.0, rng.beta(0.8, 1.6, size=count)).astype(np.float64)
    order = rng.permutation(count)
    fractions[order[:2]] = 0.0
    fractions[order[2:4]] = rng.uniform(0.65, 0.9, size=2)
    return fractions


def _block_mean(array: np.ndarray, k: int) -> np.ndarray:
    n = array.shape[-1] // k
    return (
        array.reshape(*array.shape[:-2], n, k, n, k).mean(axis=(-3, -1), dtype=np.float64).astype(np.float32)
    )


def _cloud_field(size: int, rng: np.random.Generator) -> np.ndarray:
    """Multi-scale smooth noise (cumulus-like blobs) on a ``size x size`` 10 m grid, zero mean, unit variance.

    Drawn on a 40 m grid and upsampled bilinearly: clouds have no detail finer than a few hundred metres.
    """
    step = 4
    coarse_size = size // step + 2
    field = np.zeros((coarse_size, coarse_size), dtype=np.float32)
    for sigma, weight in ((coarse_size / 10.0, 1.0), (coarse_size / 30.0, 0.5), (0.8, 0.2)):
        layer = ndimage.gaussian_filter(
            rng.standard_normal((coarse_size, coarse_size)).astype(np.float32),
            sigma,
            mode="wrap",
            truncate=3.0,
        )
        field += weight * layer / max(float(layer.std()), 1e-6)
    fine = ndimage.zoom(field, step, order=1, grid_mode=True, mode="nearest")[:size, :size]
    return (fine - fine.mean()) / max(float(fine.std()), 1e-6)


def simulate_s2(
    scene: Scene,
    reflectance: np.ndarray,
    dates: tuple[datetime, ...],
    events: tuple[ChangeEvent, ...],
    seed: int,
) -> Iterator[S2Scene]:
    """Simulate the series, one date at a time.

    Parameters
    ----------
    scene
        The scene.
    reflectance
        Intrinsic 1 m reflectance ``(5, rows, cols)``, from
        :func:`ai4geo_kernel.demo._render.intrinsic_reflectance`.
    dates
        Acquisition datetimes.
    events
        Known changes; steps show from their date on.
    seed
        Seed of clouds and noise.

    Yields
    ------
    S2Scene
    """
    k = 10
    n10 = scene.grid.size_10m
    landcover = scene.landcover
    tree = landcover == TREE
    grass = landcover == GRASS
    vegetation = tree | grass
    tree_frac = _block_mean(tree.astype(np.float32), k)
    grass_frac = _block_mean(grass.astype(np.float32), k)
    water_frac = _block_mean((landcover == WATER).astype(np.float32), k)
    # Built and bare surfaces: the mean of their 1 m reflectance; vegetation: vigour relative to its class.
    static = _block_mean(np.where(vegetation[None], 0.0, reflectance), k)
    vigour = np.ones((n10, n10), dtype=np.float32)
    veg_frac = tree_frac + grass_frac
    nir_ref = np.where(tree, SPECTRA[MATERIAL_TREE, 3], SPECTRA[SURFACE_GRASS, 3]).astype(np.float32)
    ratio = _block_mean(np.where(vegetation, reflectance[3] / nir_ref, 0.0), k)
    np.divide(ratio, veg_frac, out=vigour, where=veg_frac > 0)
    vigour = np.clip(vigour, 0.6, 1.4)
    rng_clouds = stream(seed, "s2-clouds")
    targets = cloud_fractions(len(dates), rng_clouds)
    for index, when in enumerate(dates):
        rng = stream(seed, "s2-date", index)
        azimuth, elevation = sun_position(when)
        day = when.timetuple().tm_yday
        g_tree, g_grass = phenology(day)
        tree_spec = (1 - g_tree) * _TREE_DORMANT + g_tree * _TREE_GREEN
        grass_spec = (1 - g_grass) * _GRASS_DORMANT + g_grass * _GRASS_GREEN
        surface = (
            static
            + (tree_frac * vigour)[None] * tree_spec[:, None, None]
            + (grass_frac * vigour)[None] * grass_spec[:, None, None]
        )
        for event in events:
            if event.kind != "step" or when < event.date:
                continue
            rows, cols = event.site.slices(resolution=10)
            spectrum = _BUILT if event.cause == "construction" else _WATER
            surface[:, rows, cols] = spectrum[:, None, None] * (
                1.0 + 0.05 * rng.standard_normal(surface[:, rows, cols].shape[1:], dtype=np.float32)
            )
        # Residual atmospheric correction error and sensor noise.
        surface = surface * rng.uniform(0.97, 1.03) + rng.normal(0.0, 0.004, size=surface.shape).astype(
            np.float32
        )
        # Clouds and their shadows.
        alpha, shade = _clouds(n10, float(targets[index]), azimuth, elevation, rng_clouds)
        surface *= 1.0 - 0.5 * shade[None]
        cloud_spec = _CLOUD[:, None, None] * (0.9 + 0.2 * rng.random((n10, n10), dtype=np.float32))[None]
        surface = (1.0 - alpha[None]) * surface + alpha[None] * cloud_spec
        dn = np.clip(np.rint(surface * 10000.0), 1, 10000).astype(np.uint16)
        red, nir = surface[BAND_NAMES.index("red")], surface[BAND_NAMES.index("nir")]
        ndvi = (nir - red) / np.maximum(nir + red, 1e-6)
        scl = np.where(ndvi >= 0.4, 4, 5).astype(np.uint8)
        scl[water_frac >= 0.5] = 6
        scl[shade >= 0.3] = 3
        scl[alpha >= 0.2] = 8
        scl[alpha >= 0.6] = 9
        cover = round(100.0 * float(np.isin(scl, _CLOUD_CODES).mean()), 2)
        yield S2Scene(
            datetime=when,
            bands={name: dn[i] for i, name in enumerate(BAND_NAMES)},
            scl=scl,
            cloud_cover=cover,
            sun_azimuth=azimuth,
            sun_elevation=elevation,
        )


def _clouds(
    n: int, fraction: float, azimuth: float, elevation: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Cloud opacity and cloud-shadow strength over the ``n x n`` grid, for a target cloud fraction."""
    height = rng.uniform(500.0, 1500.0)  # cloud base, metres
    reach = height / math.tan(math.radians(max(elevation, 5.0))) / 10.0  # shadow displacement, cells
    dr = round(
        math.cos(math.radians(azimuth)) * reach
    )  # away from the sun: southward sun -> northward shadow
    dc = round(-math.sin(math.radians(azimuth)) * reach)
    margin = max(abs(dr), abs(dc)) + 8
    size = n + 2 * margin
    field = _cloud_field(size, rng)
    if fraction <= 0.0:
        zeros = np.zeros((n, n), dtype=np.float32)
        return zeros, zeros
    window = field[margin : margin + n, margin : margin + n]
    threshold = float(np.quantile(window, 1.0 - fraction))
    alpha_full = np.clip((field - threshold) / 0.5 + 0.2, 0.0, 1.0).astype(np.float32)
    alpha_full[field < threshold] = 0.0
    alpha = alpha_full[margin : margin + n, margin : margin + n]
    # The shadow at (r, c) comes from the cloud at (r - dr, c - dc).
    shade = alpha_full[margin - dr : margin - dr + n, margin - dc : margin - dc + n]
    return alpha, shade.astype(np.float32)
