"""VHR rendering: surface reflectance of every material, sun shading from the DSM, cast shadows, noise.

The image imitates a Pleiades-like 4-band product (blue, green, red, near infrared) at 1 m, as surface
reflectance x 10000 in uint16. The *intrinsic* reflectance computed here (before illumination) also feeds
the Sentinel-2-like series, which adds a short-wave infrared band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from ai4geo_kernel.demo._random import stream
from ai4geo_kernel.demo._scene import (
    ROOF_MATERIALS,
    SURFACE_ASPHALT,
    SURFACE_BRIDGE,
    SURFACE_CAR_PARK,
    SURFACE_GRASS,
    SURFACE_PAVED,
    SURFACE_SIDEWALK,
    SURFACE_SOIL,
    SURFACE_WATER,
    Scene,
)

__all__ = [
    "BAND_NAMES",
    "VHR_BANDS",
    "MATERIAL_TREE",
    "MATERIAL_ROOF_BASE",
    "SPECTRA",
    "DIFFUSE_FRACTION",
    "VhrImage",
    "material_map",
    "intrinsic_reflectance",
    "cast_shadows",
    "render_vhr",
    "thumbnail",
]

#: Bands of the intrinsic reflectance cube, in order.
BAND_NAMES = ("blue", "green", "red", "nir", "swir16")
#: Bands of the VHR image (the first four of :data:`BAND_NAMES`).
VHR_BANDS = ("blue", "green", "red", "nir")
#: Material codes: the ``SURFACE_*`` codes (1-8), roofs from 10 (+ index in ROOF_MATERIALS), trees 20.
MATERIAL_ROOF_BASE = 10
MATERIAL_TREE = 20

#: Surface reflectance of each material (rows: material code; columns: BAND_NAMES).
SPECTRA = np.zeros((32, 5), dtype=np.float32)
SPECTRA[SURFACE_ASPHALT] = (0.070, 0.080, 0.090, 0.110, 0.130)
SPECTRA[SURFACE_SIDEWALK] = (0.130, 0.140, 0.155, 0.180, 0.230)
SPECTRA[SURFACE_PAVED] = (0.110, 0.120, 0.140, 0.165, 0.210)
SPECTRA[SURFACE_CAR_PARK] = (0.085, 0.095, 0.105, 0.125, 0.140)
SPECTRA[SURFACE_BRIDGE] = (0.110, 0.110, 0.140, 0.190, 0.220)
SPECTRA[SURFACE_GRASS] = (0.040, 0.080, 0.050, 0.380, 0.200)
SPECTRA[SURFACE_SOIL] = (0.100, 0.130, 0.170, 0.220, 0.300)
SPECTRA[SURFACE_WATER] = (0.050, 0.070, 0.050, 0.020, 0.010)
_ROOF_SPECTRA = {
    "terracotta_tile": (0.100, 0.140, 0.300, 0.380, 0.420),
    "slate": (0.090, 0.090, 0.090, 0.110, 0.120),
    "gravel": (0.200, 0.200, 0.210, 0.240, 0.280),
    "membrane": (0.330, 0.340, 0.340, 0.360, 0.380),
    "metal": (0.280, 0.280, 0.270, 0.280, 0.250),
}
for _index, _name in enumerate(ROOF_MATERIALS):
    SPECTRA[MATERIAL_ROOF_BASE + _index] = _ROOF_SPECTRA[_name]
SPECTRA[MATERIAL_TREE] = (0.030, 0.060, 0.035, 0.350, 0.160)

#: Share of the diffuse sky light in the irradiance, per VHR band: what is left in a shadow.
DIFFUSE_FRACTION = np.array([0.30, 0.22, 0.17, 0.12], dtype=np.float32)


@dataclass(frozen=True)
class VhrImage:
    """The rendered VHR image.

    Attributes
    ----------
    dn
        ``(4, rows, cols)`` uint16 surface reflectance x 10000 (blue, green, red, nir), 1-10000.
    shadow
        Boolean mask of the cast shadows.
    sun_azimuth, sun_elevation
        Sun position used, in degrees.
    """

    dn: np.ndarray
    shadow: np.ndarray
    sun_azimuth: float
    sun_elevation: float


def material_map(scene: Scene) -> np.ndarray:
    """Material code of each pixel as seen from above (ground surfaces, roofs, tree crowns)."""
    material = scene.surface.copy()
    if scene.buildings:
        roof_of = np.zeros(len(scene.buildings) + 1, dtype=np.uint8)
        roof_of[1:] = [MATERIAL_ROOF_BASE + b.material for b in scene.buildings]
        on_roof = scene.building_ids > 0
        material[on_roof] = roof_of[scene.building_ids[on_roof]]
    material[(scene.canopy > 0) & (scene.building_ids == 0)] = MATERIAL_TREE
    return material


def _smooth_field(n: int, step: int, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency noise of unit standard deviation on the ``n x n`` grid."""
    coarse = ndimage.gaussian_filter(
        rng.standard_normal((n // step + 2, n // step + 2)).astype(np.float32), sigma
    )
    coarse /= max(float(coarse.std()), 1e-6)
    fine = ndimage.zoom(coarse, step, order=1, grid_mode=True, mode="nearest")
    return np.ascontiguousarray(fine[:n, :n])


def intrinsic_reflectance(scene: Scene, seed: int) -> np.ndarray:
    """Surface reflectance of each pixel before illumination: ``(5, rows, cols)`` float32 (BAND_NAMES).

    Each building and tree gets its own brightness and tint; grass, soil and paving get low-frequency
    patches; every pixel a fine texture.
    """
    rng = stream(seed, "reflectance")
    n = scene.grid.size
    material = material_map(scene)
    cube = SPECTRA[material].transpose(2, 0, 1).copy()  # (5, n, n)
    # Object-level variation: per building (brightness) and per tree (vigour and shade of green).
    gain = np.ones((n, n), dtype=np.float32)
    if scene.buildings:
        per_building = np.exp(rng.normal(0.0, 0.15, size=len(scene.buildings) + 1)).astype(np.float32)
        on_roof = scene.building_ids > 0
        gain[on_roof] = per_building[scene.building_ids[on_roof]]
    if scene.trees:
        per_tree = rng.uniform(0.75, 1.25, size=(len(scene.trees) + 1, 2)).astype(np.float32)
        in_crown = material == MATERIAL_TREE
        tid = scene.tree_ids[in_crown]
        gain[in_crown] = per_tree[tid, 0]
        cube[3][in_crown] *= per_tree[tid, 1]
    patches = _smooth_field(n, 4, 3.0, rng)
    soft = np.isin(material, (SURFACE_GRASS, SURFACE_SOIL, SURFACE_PAVED, SURFACE_SIDEWALK))
    gain = np.where(soft, gain * (1.0 + 0.12 * patches), gain)
    grass = material == SURFACE_GRASS
    cube[3][grass] *= 1.0 + 0.10 * patches[grass]  # greener and drier patches of lawn
    water = material == SURFACE_WATER
    gain[water] *= 1.0 + 0.05 * patches[water]
    texture = 1.0 + 0.05 * rng.standard_normal((n, n), dtype=np.float32)
    texture[water] = 1.0 + 0.01 * rng.standard_normal(int(water.sum()), dtype=np.float32)
    cube *= (gain * texture)[None]
    np.clip(cube, 0.003, 0.95, out=cube)
    return cube


def cast_shadows(dsm: np.ndarray, azimuth: float, elevation: float, *, resolution: float = 1.0) -> np.ndarray:
    """Pixels of the DSM in the shadow cast by higher surfaces for a sun at (azimuth, elevation).

    The DSM is marched towards the sun one pixel offset at a time (vectorised shifts, at most as many
    steps as the highest obstacle needs): a pixel is in shadow when some surface towards the sun rises
    above the sun ray through it.

    Parameters
    ----------
    dsm
        Surface elevation (metres).
    azimuth, elevation
        Sun position in degrees (azimuth clockwise from north).
    resolution
        Pixel size in metres.

    Returns
    -------
    numpy.ndarray
        Boolean shadow mask.
    """
    tan_e = math.tan(math.radians(elevation))
    relief = float(np.nanmax(dsm) - np.nanmin(dsm))
    reach = min(int(math.ceil(relief / tan_e / resolution)) + 1, 400)
    east, north = math.sin(math.radians(azimuth)), math.cos(math.radians(azimuth))
    horizon = np.full(dsm.shape, -np.inf, dtype=np.float32)
    rows, cols = dsm.shape
    seen: set[tuple[int, int]] = set()
    for step in range(1, 2 * reach + 1):
        s = step * 0.5
        dr, dc = round(-north * s), round(east * s)
        if (dr, dc) in seen or (dr, dc) == (0, 0):
            continue
        seen.add((dr, dc))
        drop = math.hypot(dr, dc) * resolution * tan_e
        # horizon[r, c] = max(horizon[r, c], dsm[r + dr, c + dc] - drop) where both are inside.
        r0, r1 = max(0, -dr), min(rows, rows - dr)
        c0, c1 = max(0, -dc), min(cols, cols - dc)
        if r0 >= r1 or c0 >= c1:
            continue
        target = horizon[r0:r1, c0:c1]
        np.maximum(target, dsm[r0 + dr : r1 + dr, c0 + dc : c1 + dc] - drop, out=target)
    return horizon > dsm + 0.15


def _sun_shading(dsm: np.ndarray, azimuth: float, elevation: float) -> np.ndarray:
    """Direct-light factor of each pixel relative to flat ground (roof faces, crowns); 1 on walls."""
    grad_row, grad_col = np.gradient(dsm.astype(np.float32))
    az, el = math.radians(azimuth), math.radians(elevation)
    sun = (math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), math.sin(el))
    # Normal (east, north, up) of z(x, y) with rows growing southwards: (-dz/dx, +dz/drow, 1).
    norm = np.sqrt(grad_col**2 + grad_row**2 + 1.0)
    cos_i = (-grad_col * sun[0] + grad_row * sun[1] + sun[2]) / norm
    shading = np.clip(cos_i / sun[2], 0.0, 2.5)
    steep = np.hypot(grad_col, grad_row) > 1.2  # walls and crown edges: no meaningful facet
    shading[steep] = 1.0
    return shading.astype(np.float32)


def render_vhr(
    scene: Scene, reflectance: np.ndarray, *, azimuth: float, elevation: float, seed: int
) -> VhrImage:
    """Render the VHR image: shading, cast shadows (darker in every band), blur and sensor noise.

    Parameters
    ----------
    scene
        The scene (its DSM casts the shadows).
    reflectance
        Intrinsic reflectance from :func:`intrinsic_reflectance`.
    azimuth, elevation
        Sun position in degrees.
    seed
        Seed of the sensor noise.
    """
    rng = stream(seed, "vhr-noise")
    shadow = cast_shadows(scene.dsm, azimuth, elevation)
    direct = _sun_shading(scene.dsm, azimuth, elevation)
    lit = ndimage.gaussian_filter((~shadow).astype(np.float32), 0.6)
    image = np.empty((4,) + scene.dsm.shape, dtype=np.float32)
    for band in range(4):
        d = DIFFUSE_FRACTION[band]
        irradiance = (1.0 - d) * direct * lit + d
        blurred = ndimage.gaussian_filter(reflectance[band] * irradiance, 0.45)
        noise = rng.normal(0.0, 0.0025, size=blurred.shape).astype(np.float32)
        image[band] = blurred * (1.0 + 0.01 * rng.standard_normal(blurred.shape, dtype=np.float32)) + noise
    dn = np.clip(np.rint(image * 10000.0), 1, 10000).astype(np.uint16)
    return VhrImage(dn=dn, shadow=shadow, sun_azimuth=azimuth, sun_elevation=elevation)


def thumbnail(
    rgb: np.ndarray, *, size: int = 256, low: float | None = None, high: float | None = None
) -> Image.Image:
    """A small 8-bit preview of a ``(3, rows, cols)`` or ``(rows, cols)`` array, stretched linearly.

    Parameters
    ----------
    rgb
        Red, green, blue bands (or one grey band).
    size
        Longest side of the preview in pixels.
    low, high
        Values mapped to black and white (default: the 2nd and 98th percentiles).
    """
    data = rgb.astype(np.float32)
    if data.ndim == 2:
        data = data[None]
    finite = data[np.isfinite(data)]
    lo = float(np.percentile(finite, 2)) if low is None else low
    hi = float(np.percentile(finite, 98)) if high is None else high
    scaled = np.clip((data - lo) / max(hi - lo, 1e-6), 0.0, 1.0) ** (1 / 1.4)
    pixels = np.nan_to_num(scaled * 255.0).astype(np.uint8)
    image = Image.fromarray(pixels[0] if pixels.shape[0] == 1 else np.moveaxis(pixels, 0, -1))
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    return image
