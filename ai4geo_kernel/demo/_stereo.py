"""A synthetic along-track stereo pair of the demo area, with RPC models fitted to its known projection.

Two panchromatic views of the demo DSM, one looking forward and one looking backward (B/H = 0.4, like a
Pleiades along-track pair), are rendered by casting each pixel's line of sight into the DSM and sampling the
demo VHR image where it lands (walls get a striped facade texture). The sensor model is known exactly
(:class:`SensorView`); each view ships with an RPC model fitted to it by least squares and written as GeoTIFF
RPC tags, so a photogrammetry tool (CARS) can run end to end on data whose true DSM is the demo DSM.

Heights: the demo's heights are above the geoid (m a.s.l.); RPC models, like real ones, take ellipsoidal
heights, ``h_ellipsoid = h_asl + GEOID_UNDULATION``. A tool that outputs heights above the EGM96 geoid (CARS's
default) thus gives back the demo's heights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.rpc import RPC
from scipy import ndimage

from ai4geo_kernel.demo._grid import CRS, VHR_RESOLUTION, AreaGrid
from ai4geo_kernel.demo._random import stream
from ai4geo_kernel.io import atomic_path

__all__ = [
    "STEREO_VIEWS",
    "STEREO_MAX_SIZE",
    "STEREO_GSD",
    "B_OVER_H",
    "GEOID_UNDULATION",
    "SensorView",
    "StereoView",
    "stereo_views",
    "render_view",
    "fit_rpc",
    "write_view",
]

#: Names of the two views, in order (left looks forward, right backward).
STEREO_VIEWS = ("left", "right")
#: Largest side of a stereo image (pixels): small enough for CARS to run in well under a minute on 2 cores.
STEREO_MAX_SIZE = 320
#: Ground sampling distance of the stereo images at the reference height (metres).
STEREO_GSD = float(VHR_RESOLUTION)
#: Base-to-height ratio of the pair: tan(forward angle) - tan(backward angle).
B_OVER_H = 0.4
#: EGM96 geoid undulation at the area centre (1.444 E, 43.604 N), metres: 49.095 in the EGM96 15' grid
#: (``egm96_15.gtx``) and in CARS's own ``egm96.grd``; it varies by under 0.05 m over the largest demo area,
#: so one constant links the demo's heights a.s.l. to the ellipsoidal heights of the RPC models.
GEOID_UNDULATION = 49.095
#: Satellite altitude (m) of the across-track perspective (Pleiades: 694 km).
_ALTITUDE = 694_000.0
#: Step of the ray marching (metres of height) before the hit is refined.
_MARCH_STEP = 1.0


@dataclass(frozen=True)
class SensorView:
    """The exact projection of one view: a pushbroom looking at a fixed angle, slightly rotated.

    Ground coordinates are EPSG:32631 metres and heights above the geoid (m a.s.l.); image coordinates
    are (row, col) with (0, 0) at the centre of the first pixel, the RPC convention.

    Attributes
    ----------
    name
        ``left`` or ``right``.
    east, north
        Ground point seen at the image centre at the reference height ``h0``.
    h0
        Reference height (m a.s.l.).
    size
        Side of the image (pixels).
    gsd
        Ground sampling distance at ``h0`` (m).
    tan_along, tan_across
        Tangent of the viewing angle along track (north) and across track (east): a point ``dh`` above
        ``h0`` appears where the point ``dh * tan`` further north / east does.
    yaw
        Rotation of the image axes from (east, -north), radians.
    """

    name: str
    east: float
    north: float
    h0: float
    size: int
    gsd: float
    tan_along: float
    tan_across: float
    yaw: float

    @property
    def _centre(self) -> float:
        return (self.size - 1) / 2.0

    def project(
        self, east: np.ndarray, north: np.ndarray, height: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ground (E, N, h a.s.l.) to image (row, col)."""
        dh = np.asarray(height, dtype=np.float64) - self.h0
        de = np.asarray(east, dtype=np.float64) - self.east + dh * self.tan_across
        dn = np.asarray(north, dtype=np.float64) - self.north + dh * self.tan_along
        cos, sin = math.cos(self.yaw), math.sin(self.yaw)
        u = cos * de + sin * dn
        v = -sin * de + cos * dn
        col = self._centre + u / self.gsd * _ALTITUDE / (_ALTITUDE - dh)
        row = self._centre - v / self.gsd
        return row, col

    def locate(self, row: np.ndarray, col: np.ndarray, height: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Image (row, col) at height ``h`` a.s.l. to ground (E, N): the exact inverse of :meth:`project`."""
        dh = np.asarray(height, dtype=np.float64) - self.h0
        u = (np.asarray(col, dtype=np.float64) - self._centre) * self.gsd * (_ALTITUDE - dh) / _ALTITUDE
        v = -(np.asarray(row, dtype=np.float64) - self._centre) * self.gsd
        cos, sin = math.cos(self.yaw), math.sin(self.yaw)
        de = cos * u - sin * v
        dn = sin * u + cos * v
        return self.east + de - dh * self.tan_across, self.north + dn - dh * self.tan_along


@dataclass(frozen=True)
class StereoView:
    """A rendered view: its pixels (uint16 panchromatic), its exact model and its fitted RPC."""

    sensor: SensorView
    image: np.ndarray
    rpc: RPC
    rpc_error_px: float
    footprint_lonlat: list[tuple[float, float]]


def stereo_views(grid: AreaGrid, dsm: np.ndarray) -> tuple[SensorView, SensorView]:
    """The two views over the centre of the area, sized so that every line of sight stays in the DSM."""
    low, high = float(np.nanmin(dsm)), float(np.nanmax(dsm))
    h0 = float(np.nanmedian(dsm))
    half = B_OVER_H / 2.0
    # Lines of sight drift by (h - h0) * tan: keep that drift and a few pixels inside the DSM.
    margin = math.ceil(max(high - h0, h0 - low) * (half + 0.02) / STEREO_GSD) + 8
    size = int(min(STEREO_MAX_SIZE, grid.size - 2 * margin))
    west, south, east, north = grid.bbox_utm
    centre_e, centre_n = (west + east) / 2.0, (south + north) / 2.0
    common = {"east": centre_e, "north": centre_n, "h0": h0, "size": size, "gsd": STEREO_GSD}
    return (
        SensorView("left", tan_along=half, tan_across=0.015, yaw=math.radians(0.6), **common),
        SensorView("right", tan_along=-half, tan_across=-0.01, yaw=math.radians(-0.4), **common),
    )


def _sample(array: np.ndarray, grid: AreaGrid, east: np.ndarray, north: np.ndarray, order: int) -> np.ndarray:
    """Values of a 1 m grid raster at UTM points (pixel centres at half-integers, edges clamped)."""
    col = (east - grid.west) / VHR_RESOLUTION - 0.5
    row = (grid.north - north) / VHR_RESOLUTION - 0.5
    return ndimage.map_coordinates(array, [row, col], order=order, mode="nearest")


def _intersect(
    view: SensorView, grid: AreaGrid, dsm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each pixel's line of sight first meets the DSM: (E, N, h), each (size, size).

    March down from above the highest point in steps of :data:`_MARCH_STEP` metres of height, then refine
    the crossing by three secant steps (the DSM is bilinear between cells).
    """
    rows, cols = np.mgrid[0 : view.size, 0 : view.size].astype(np.float64)
    rows, cols = rows.ravel(), cols.ravel()
    top, bottom = float(dsm.max()) + 1.0, float(dsm.min()) - 1.0
    hit_h = np.full(rows.shape, np.nan)
    above_h = np.full(rows.shape, top)
    above_d = np.full(rows.shape, np.inf)
    todo = np.arange(rows.size)
    h = top
    while todo.size and h >= bottom:
        e, n = view.locate(rows[todo], cols[todo], h)
        diff = h - _sample(dsm, grid, e, n, 1)
        hit = diff <= 0
        idx = todo[hit]
        # secant between the last height above the surface and this one
        d_above = above_d[idx]
        t = np.where(np.isfinite(d_above), d_above / (d_above - diff[hit]), 1.0)
        hit_h[idx] = above_h[idx] - t * (above_h[idx] - h)
        above_h[todo[~hit]] = h
        above_d[todo[~hit]] = diff[~hit]
        todo = todo[~hit]
        h -= _MARCH_STEP
    hit_h[todo] = bottom
    for _ in range(3):  # refine: h <- dsm(ground(h)) converges on flat and sloping cells
        e, n = view.locate(rows, cols, hit_h)
        surface = _sample(dsm, grid, e, n, 1)
        step = np.clip(surface - hit_h, -_MARCH_STEP, _MARCH_STEP)
        hit_h = hit_h + step
    e, n = view.locate(rows, cols, hit_h)
    shape = (view.size, view.size)
    return e.reshape(shape), n.reshape(shape), hit_h.reshape(shape)


def render_view(
    view: SensorView, grid: AreaGrid, dsm: np.ndarray, vhr_dn: np.ndarray, seed: int
) -> np.ndarray:
    """Render one panchromatic view (uint16 DN) of the DSM textured with the VHR image.

    Parameters
    ----------
    view
        The projection.
    grid, dsm
        The 1 m grid and the DSM (m a.s.l.).
    vhr_dn
        The VHR image (4 bands, reflectance x 10000); the panchromatic band is their mean.
    seed
        Seed of the sensor noise (each view draws its own).
    """
    east, north, height = _intersect(view, grid, dsm)
    pan = vhr_dn.astype(np.float32).mean(axis=0)
    value = _sample(pan, grid, east.ravel(), north.ravel(), 1).reshape(east.shape)
    # Facades: where the line of sight meets a wall (a jump of more than 2 m between 1 m cells), the
    # orthoimage has nothing to show; give them a storey-striped texture (one window band every 3 m).
    slope = np.hypot(*np.gradient(dsm.astype(np.float64)))
    wall = _sample(slope, grid, east.ravel(), north.ravel(), 0).reshape(east.shape) > 2.0
    storeys = np.where(np.mod(height, 3.0) < 1.2, 0.55, 0.85)
    value = np.where(wall, value * storeys + 250.0, value)
    rng = stream(seed, f"stereo-{view.name}")
    value = ndimage.gaussian_filter(value, 0.4) * (
        1.0 + 0.01 * rng.standard_normal(value.shape)
    ) + rng.normal(0.0, 12.0, value.shape)
    return np.clip(np.rint(value), 1, 65535).astype(np.uint16)


def _monomials(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The 20 terms of an RPC00B cubic in GDAL's, rasterio's and shareloc's order (x lon, y lat, z h)."""
    one = np.ones_like(x)
    return np.stack(
        [
            one, x, y, z, x * y, x * z, y * z, x * x, y * y, z * z,
            x * y * z, x**3, x * y * y, x * z * z, x * x * y, y**3, y * z * z, x * x * z, y * y * z, z**3,
        ],
        axis=-1,
    )  # fmt: skip


def _fit_ratio(terms: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator (first term 1) of ``target ~ num . terms / den . terms``, least squares.

    Linearised as ``num . terms - target * (den[1:] . terms[1:]) = target``; a small ridge on the
    denominator keeps it near 1 where the projection is almost polynomial (it is here: the only rational
    part is the across-track perspective).
    """
    a = np.concatenate([terms, -target[:, None] * terms[:, 1:]], axis=1)
    ridge = np.zeros(a.shape[1])
    ridge[terms.shape[1] :] = 1e-6
    lhs = np.concatenate([a, np.diag(ridge)[terms.shape[1] :]])
    rhs = np.concatenate([target, np.zeros(terms.shape[1] - 1)])
    solution, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
    return solution[: terms.shape[1]], np.concatenate([[1.0], solution[terms.shape[1] :]])


def fit_rpc(view: SensorView, low: float, high: float) -> tuple[RPC, float]:
    """Fit an RPC model (ground to image) to ``view`` on a 3D grid of points, by least squares.

    Written by hand: shareloc (installed with CARS) reads and writes RPC models but does not estimate them,
    and rpcm is not in the stack; the estimation is one linear least-squares solve per image axis.

    Parameters
    ----------
    view
        The exact projection.
    low, high
        Height range (m a.s.l.) the model must hold over; it is widened by 20 m on each side.

    Returns
    -------
    (rasterio.rpc.RPC, float)
        The model (heights ellipsoidal: a.s.l. + :data:`GEOID_UNDULATION`) and its largest error in pixels
        on a check grid offset from the fitting grid.
    """
    to_lonlat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)

    def samples(count: int, heights: int, offset: float) -> tuple[np.ndarray, ...]:
        edge = np.linspace(-0.05 * view.size, 1.05 * view.size, count) + offset
        hs = np.linspace(low - 20.0, high + 20.0, heights) + offset
        r, c, h = (a.ravel() for a in np.meshgrid(edge, edge, hs, indexing="ij"))
        e, n = view.locate(r, c, h)
        lon, lat = to_lonlat.transform(e, n)
        return np.asarray(lon), np.asarray(lat), h + GEOID_UNDULATION, r, c

    lon, lat, hgt, row, col = samples(21, 9, 0.0)
    offsets = [float(v.mean()) for v in (lon, lat, hgt, row, col)]
    scales = [float(np.abs(v - o).max()) for v, o in zip((lon, lat, hgt, row, col), offsets, strict=True)]

    def normalise(values: tuple[np.ndarray, ...]) -> list[np.ndarray]:
        return [(v - o) / s for v, o, s in zip(values, offsets, scales, strict=True)]

    x, y, z, r_n, c_n = normalise((lon, lat, hgt, row, col))
    terms = _monomials(x, y, z)
    line_num, line_den = _fit_ratio(terms, r_n)
    samp_num, samp_den = _fit_ratio(terms, c_n)
    # check on points between the fitting ones
    cx, cy, cz, cr, cc = normalise(samples(17, 7, 0.37))
    check = _monomials(cx, cy, cz)
    err_r = (check @ line_num / (check @ line_den) - cr) * scales[3]
    err_c = (check @ samp_num / (check @ samp_den) - cc) * scales[4]
    error = float(np.max(np.hypot(err_r, err_c)))
    rpc = RPC(
        height_off=offsets[2],
        height_scale=scales[2],
        lat_off=offsets[1],
        lat_scale=scales[1],
        line_den_coeff=line_den.tolist(),
        line_num_coeff=line_num.tolist(),
        line_off=offsets[3],
        line_scale=scales[3],
        long_off=offsets[0],
        long_scale=scales[0],
        samp_den_coeff=samp_den.tolist(),
        samp_num_coeff=samp_num.tolist(),
        samp_off=offsets[4],
        samp_scale=scales[4],
        err_bias=0.0,
        err_rand=0.0,
    )
    return rpc, error


def _footprint(view: SensorView, height: float) -> list[tuple[float, float]]:
    """Image outline on the ground at ``height`` (a.s.l.), WGS84, counter-clockwise, closed."""
    last = view.size - 0.5
    corners = np.array([(last, -0.5), (last, last), (-0.5, last), (-0.5, -0.5)])  # (row, col): SW SE NE NW
    e, n = view.locate(corners[:, 0], corners[:, 1], height)
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(e, n)
    ring = [(round(float(a), 7), round(float(b), 7)) for a, b in zip(lon, lat, strict=True)]
    return [*ring, ring[0]]


def build_view(
    view: SensorView, grid: AreaGrid, dsm: np.ndarray, vhr_dn: np.ndarray, seed: int
) -> StereoView:
    """Render ``view`` and fit its RPC model."""
    image = render_view(view, grid, dsm, vhr_dn, seed)
    rpc, error = fit_rpc(view, float(dsm.min()), float(dsm.max()))
    return StereoView(view, image, rpc, error, _footprint(view, view.h0))


def write_view(view: StereoView, path: Path) -> Path:
    """Write the view as a COG in sensor geometry (no CRS) with its RPC model as TIFF tags, atomically."""
    with (
        atomic_path(path, suffix=".tif") as tmp,
        rasterio.Env(GDAL_PAM_ENABLED="NO"),
        rasterio.open(
            tmp,
            "w",
            driver="COG",
            width=view.sensor.size,
            height=view.sensor.size,
            count=1,
            dtype="uint16",
            rpcs=view.rpc,
            blocksize=256,
            compress="deflate",
            predictor="YES",
            overview_resampling="average",
        ) as dst,
    ):
        dst.write(view.image, 1)
        dst.set_band_description(1, "pan")
    return path
