"""Scene synthesis: the 3D city that every simulated sensor then looks at.

One function, :func:`synthesize_scene`, builds on the 1 m grid of the area:

- a terrain (the DTM): a flat floodplain along the river rising to smooth hills, 140-185 m a.s.l.;
- a meandering river (the Garonne) with a flat water level below stone quays;
- a road network: a rotated street grid on each bank, quays along the river, and a few wide curved
  boulevards that cross the river on bridges;
- city blocks of several kinds (dense blocks with street-front rows, corner L-shapes and courtyard
  buildings; detached houses; towers; warehouses; parks; vacant lots; squares), buildings with flat, gable
  and hip roofs whose shape is in the DSM, never over roads or water;
- trees (ellipsoid crowns 3-10 m in radius, 5-20 m high) in parks, gardens and along avenues and quays;
- "sites" reserved on the 10 m grid where the Sentinel-1-like series will show known changes.

Vector geometry (footprints, sites) is in pixel metres (x = column, y = row from the upper-left corner).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import rasterio.features
import shapely
import shapely.affinity
from affine import Affine
from scipy import ndimage
from skimage.draw import polygon as draw_polygon

from ai4geo_kernel.demo._grid import S2_RESOLUTION, AreaGrid
from ai4geo_kernel.demo._landcover import BARE_SOIL, BUILDING, GRASS, NODATA, ROAD, TREE, WATER
from ai4geo_kernel.demo._random import stream

__all__ = [
    "SURFACE_NONE",
    "SURFACE_ASPHALT",
    "SURFACE_SIDEWALK",
    "SURFACE_PAVED",
    "SURFACE_CAR_PARK",
    "SURFACE_BRIDGE",
    "SURFACE_GRASS",
    "SURFACE_SOIL",
    "SURFACE_WATER",
    "ROOF_MATERIALS",
    "ROOF_TYPES",
    "SITE_KINDS",
    "Building",
    "Tree",
    "Site",
    "Scene",
    "synthesize_scene",
]

# Ground surface materials (finer than the land-cover classes; the renderers use them).
SURFACE_NONE = 0
SURFACE_ASPHALT = 1
SURFACE_SIDEWALK = 2
SURFACE_PAVED = 3
SURFACE_CAR_PARK = 4
SURFACE_BRIDGE = 5
SURFACE_GRASS = 6
SURFACE_SOIL = 7
SURFACE_WATER = 8

_SURFACE_TO_CLASS = np.array([NODATA, ROAD, ROAD, ROAD, ROAD, ROAD, GRASS, BARE_SOIL, WATER], dtype=np.uint8)

#: Roof materials, by index (``Building.material``).
ROOF_MATERIALS = ("terracotta_tile", "slate", "gravel", "membrane", "metal")
_TILE, _SLATE, _GRAVEL, _MEMBRANE, _METAL = range(5)
#: Roof shapes.
ROOF_TYPES = ("flat", "gable", "hip")
#: Kinds of reserved sites, each the stage of one kind of change in the SAR series.
SITE_KINDS = ("construction", "field", "car_park", "mooring")

# Block kinds.
_DENSE, _HOUSES, _TOWERS, _WAREHOUSES, _PARK, _VACANT, _SQUARE = range(7)
_BLOCK_KIND_WEIGHTS = np.array([0.56, 0.14, 0.06, 0.06, 0.10, 0.03, 0.05])

_QUAY_WIDTH = 12.0
_SIDEWALK_WIDTH = 2.5
_BUILDING_GAP = 2  # metres kept free between two buildings


@dataclass(frozen=True)
class Building:
    """A building of the truth.

    Attributes
    ----------
    id
        Identifier (also its value in the building-id raster), from 1.
    footprint
        Polygon in pixel metres (may have a hole: a courtyard).
    roof_type
        ``flat``, ``gable`` or ``hip``.
    eaves_height
        Height of the eaves (flat roofs: of the roof) above the ground, metres.
    height
        Highest point of the roof above the ground (ridge), metres.
    ground_elevation
        Ground elevation under the building (median of the DTM over the footprint), metres a.s.l.
    material
        Index into :data:`ROOF_MATERIALS`.
    """

    id: int
    footprint: shapely.Polygon
    roof_type: str
    eaves_height: float
    height: float
    ground_elevation: float
    material: int


@dataclass(frozen=True)
class Tree:
    """A tree: crown centre (pixel metres), crown radius and total height (metres)."""

    id: int
    x: float
    y: float
    radius: float
    height: float


@dataclass(frozen=True)
class Site:
    """A rectangle of whole 10 m cells reserved for a change in the SAR series.

    Attributes
    ----------
    kind
        One of :data:`SITE_KINDS`: ``construction`` (bare soil where a building rises), ``field``
        (grass that gets flooded), ``car_park`` (filled by vehicles on one date), ``mooring``
        (water where barges moor on one date).
    row, col, rows, cols
        Upper-left cell and size, in 10 m cells.
    """

    kind: str
    row: int
    col: int
    rows: int
    cols: int

    @property
    def polygon(self) -> shapely.Polygon:
        """The rectangle in pixel metres."""
        r = S2_RESOLUTION
        return shapely.box(self.col * r, self.row * r, (self.col + self.cols) * r, (self.row + self.rows) * r)

    def slices(self, resolution: int = 1) -> tuple[slice, slice]:
        """Row and column slices of the rectangle on a grid of ``resolution`` metres."""
        k = S2_RESOLUTION // resolution
        return (
            slice(self.row * k, (self.row + self.rows) * k),
            slice(self.col * k, (self.col + self.cols) * k),
        )


@dataclass
class Scene:
    """The synthesized scene on the 1 m grid.

    Attributes
    ----------
    grid
        The area.
    dtm
        Bare-earth elevation, metres a.s.l. (the water surface on the river, under bridges too).
    dsm
        Surface elevation: terrain + buildings (with their roofs) + tree crowns + bridge decks.
    surface
        Ground material (``SURFACE_*``), under buildings and trees too.
    landcover
        Land-cover class seen from above (:mod:`ai4geo_kernel.demo._landcover`).
    building_ids
        Id of the building covering each pixel, 0 elsewhere.
    tree_ids
        Id of the tree whose crown is highest at each pixel, 0 elsewhere.
    canopy
        Height of the tree crowns above the ground, 0 where no tree.
    water_level
        Elevation of the river surface, metres a.s.l.
    buildings, trees, sites
        The objects, by id.
    """

    grid: AreaGrid
    dtm: np.ndarray
    dsm: np.ndarray
    surface: np.ndarray
    landcover: np.ndarray
    building_ids: np.ndarray
    tree_ids: np.ndarray
    canopy: np.ndarray
    water_level: float
    buildings: tuple[Building, ...]
    trees: tuple[Tree, ...]
    sites: tuple[Site, ...]
    block_kinds: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------- river


@dataclass(frozen=True)
class _River:
    """A meandering river running roughly north-south: its axis ``x = f(y)`` and half width."""

    x0: float
    tilt: float
    amplitudes: tuple[float, float]
    wavelengths: tuple[float, float]
    phases: tuple[float, float]
    half_width: float
    level: float

    def axis(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Axis column and its slope dx/dy at rows ``y`` (pixel metres)."""
        x = self.x0 + self.tilt * y
        slope = np.full_like(y, self.tilt)
        for a, lam, ph in zip(self.amplitudes, self.wavelengths, self.phases, strict=True):
            w = 2 * math.pi / lam
            x = x + a * np.sin(w * y + ph)
            slope = slope + a * w * np.cos(w * y + ph)
        return x, slope

    def offset(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Signed distance (metres, east positive) from the axis, for points ``(y, x)`` broadcast together."""
        axis, slope = self.axis(y)
        return ((x - axis) / np.sqrt(1.0 + slope**2)).astype(np.float32)


def _make_river(n: int, rng: np.random.Generator) -> _River:
    return _River(
        x0=n * rng.uniform(0.26, 0.34),
        tilt=rng.uniform(-0.18, -0.05),
        amplitudes=(n * rng.uniform(0.04, 0.07), n * rng.uniform(0.01, 0.025)),
        wavelengths=(n * rng.uniform(1.1, 1.6), n * rng.uniform(0.35, 0.55)),
        phases=(rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)),
        half_width=float(np.clip(0.04 * n, 20.0, 110.0)),
        level=136.5,
    )


# ------------------------------------------------------------------------------------------------- terrain


def _smooth_noise(shape: tuple[int, int], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian-filtered white noise scaled to unit standard deviation."""
    field_ = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma, mode="wrap")
    return field_ / max(float(field_.std()), 1e-6)


def _upsample(coarse: np.ndarray, factor: int, n: int) -> np.ndarray:
    """Bilinear upsampling of a cell-centred coarse grid to the ``n x n`` 1 m grid."""
    fine = ndimage.zoom(coarse, factor, order=1, mode="nearest", grid_mode=True)
    return np.ascontiguousarray(fine[:n, :n], dtype=np.float32)


def _make_terrain(n: int, river: _River, rng: np.random.Generator) -> np.ndarray:
    """DTM of the land (the river bed is set later), metres a.s.l."""
    step = 8
    nc = n // step + 2
    centres = (np.arange(nc, dtype=np.float32) + 0.5) * step
    off = river.offset(centres[:, None], centres[None, :])
    dist = np.maximum(np.abs(off) - river.half_width, 0.0)
    floodplain = river.level + 4.5
    # The valley side rises faster on the right (east) bank, towards the hills of Jolimont and Pech David.
    rise = np.where(off > 0, 26.0, 12.0) * (1.0 - np.exp(-dist / 700.0))
    hills = np.zeros((nc, nc), dtype=np.float32)
    yy, xx = np.meshgrid(centres, centres, indexing="ij")
    for _ in range(2 + int(rng.integers(0, 3)) + round(2 * n / 1280)):
        cy, cx = rng.uniform(0, n, size=2)
        sigma = n * rng.uniform(0.08, 0.25)
        amplitude = rng.uniform(3.0, 12.0)
        hills += amplitude * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    hills *= np.clip(dist / 250.0, 0.0, 1.0)
    wobble = 0.8 * _smooth_noise((nc, nc), 5.0, rng) * np.clip(dist / 60.0, 0.0, 1.0)
    coarse = np.clip(floodplain + rise + hills + wobble, floodplain - 0.3, 185.0)
    return _upsample(coarse.astype(np.float32), step, n)


# --------------------------------------------------------------------------------------------------- roads


@dataclass(frozen=True)
class _StreetGrid:
    """A rotated street grid: lines ``p = P[k]`` and ``q = Q[k]`` with half widths, in rotated metres."""

    angle: float
    p_lines: np.ndarray
    p_half: np.ndarray
    q_lines: np.ndarray
    q_half: np.ndarray

    def rotate(self, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rotated coordinates ``(p, q)`` of pixel-metre points."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        return (x * c + y * s).astype(np.float32), (-x * s + y * c).astype(np.float32)

    def to_pixel(self, p: float, q: float) -> tuple[float, float]:
        """Pixel metres ``(x, y)`` of rotated coordinates."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        return p * c - q * s, p * s + q * c


def _lines(lo: float, hi: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    positions, halves = [], []
    pos = lo - rng.uniform(20, 90)
    while pos < hi + 150:
        positions.append(pos)
        halves.append(rng.choice([4.0, 5.0, 6.0, 9.0, 10.0], p=[0.25, 0.3, 0.2, 0.15, 0.1]))
        pos += rng.uniform(75, 135)
    return np.array(positions, dtype=np.float32), np.array(halves, dtype=np.float32)


def _make_grid(n: int, angle: float, rng: np.random.Generator) -> _StreetGrid:
    corners = np.array([[0, 0], [0, n], [n, 0], [n, n]], dtype=np.float64)
    c, s = math.cos(angle), math.sin(angle)
    p = corners[:, 1] * c + corners[:, 0] * s
    q = -corners[:, 1] * s + corners[:, 0] * c
    p_lines, p_half = _lines(p.min(), p.max(), rng)
    q_lines, q_half = _lines(q.min(), q.max(), rng)
    return _StreetGrid(angle, p_lines, p_half, q_lines, q_half)


def _line_family(
    coord: np.ndarray, lines: np.ndarray, halves: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Road and carriageway masks of one family of parallel streets, and the interval index of each pixel."""
    idx = np.clip(np.searchsorted(lines, coord), 1, len(lines) - 1)
    d_left = coord - lines[idx - 1]
    d_right = lines[idx] - coord
    h_left, h_right = halves[idx - 1], halves[idx]
    road = (d_left < h_left) | (d_right < h_right)
    carriage = (d_left < h_left - _SIDEWALK_WIDTH) | (d_right < h_right - _SIDEWALK_WIDTH)
    return road, carriage, idx.astype(np.int32)


def _boulevards(n: int, rng: np.random.Generator) -> list[tuple[shapely.LineString, float]]:
    """Wide curved boulevards crossing the area roughly west-east (so they bridge the river)."""
    count = max(1, round(1.6 * n / 1280))
    roads = []
    for k in range(count):
        y_west = n * (k + rng.uniform(0.25, 0.75)) / count
        y_east = float(np.clip(y_west + rng.uniform(-0.25, 0.25) * n, 0.05 * n, 0.95 * n))
        bend = rng.uniform(-0.12, 0.12) * n
        t = np.linspace(0.0, 1.0, 64)
        x = -20 + (n + 40) * t
        y = (1 - t) * y_west + t * y_east + bend * 4 * t * (1 - t)
        roads.append((shapely.LineString(np.column_stack([x, y])), float(rng.uniform(11.0, 14.0))))
    return roads


def _rasterize(geometries: list[shapely.Geometry], n: int) -> np.ndarray:
    """Boolean mask of the pixels whose centre is inside any of the geometries (pixel metres)."""
    if not geometries:
        return np.zeros((n, n), dtype=bool)
    return rasterio.features.rasterize(
        [(g, 1) for g in geometries], out_shape=(n, n), transform=Affine.identity(), dtype="uint8"
    ).astype(bool)


# -------------------------------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class _Rect:
    """A rotated rectangle: centre, length along ``angle``, width across (pixel metres, radians)."""

    cx: float
    cy: float
    length: float
    width: float
    angle: float

    def corners(self) -> np.ndarray:
        u = np.array([math.cos(self.angle), math.sin(self.angle)])
        v = np.array([-math.sin(self.angle), math.cos(self.angle)])
        c = np.array([self.cx, self.cy])
        hl, hw = self.length / 2, self.width / 2
        return np.array([c - hl * u - hw * v, c + hl * u - hw * v, c + hl * u + hw * v, c - hl * u + hw * v])

    def polygon(self) -> shapely.Polygon:
        return shapely.Polygon(self.corners())

    def ridge_aligned(self) -> _Rect:
        """The same rectangle described with its longer side as ``length`` (the ridge direction)."""
        if self.length >= self.width:
            return self
        return _Rect(self.cx, self.cy, self.width, self.length, self.angle + math.pi / 2)


@dataclass(frozen=True)
class _BuildingPlan:
    parts: tuple[_Rect, ...]
    hole: _Rect | None
    roof_type: str
    eaves: float
    pitch: float
    material: int


def _local_rect(grid: _StreetGrid, a0: float, a1: float, b0: float, b1: float, turn: float = 0.0) -> _Rect:
    """A rectangle given in the grid's rotated coordinates ``[a0, a1] x [b0, b1]``, turned by ``turn``."""
    cx, cy = grid.to_pixel((a0 + a1) / 2, (b0 + b1) / 2)
    return _Rect(cx, cy, a1 - a0, b1 - b0, grid.angle + turn)


def _pitched(rng: np.random.Generator, flat_share: float) -> tuple[str, int, float]:
    if rng.random() < flat_share:
        return "flat", int(rng.choice([_GRAVEL, _MEMBRANE, _METAL], p=[0.5, 0.3, 0.2])), 0.0
    roof = "gable" if rng.random() < 0.72 else "hip"
    material = _TILE if rng.random() < 0.88 else _SLATE
    return roof, material, math.radians(rng.uniform(20.0, 35.0))


def _dense_block(
    grid: _StreetGrid, box: tuple[float, float, float, float], rng: np.random.Generator
) -> Iterator[_BuildingPlan]:
    """Street-front rows, corner L-shapes, or one courtyard building, for a block of the dense centre."""
    a0, a1, b0, b1 = box
    s = 1.5
    base = rng.uniform(7.0, 19.0)
    flat_share = rng.uniform(0.1, 0.45)

    def eaves() -> float:
        return float(np.clip(base + rng.normal(0, 2.5), 4.0, 26.0))

    wa, wb = a1 - a0 - 2 * s, b1 - b0 - 2 * s
    if 30 <= wa <= 95 and 30 <= wb <= 95 and rng.random() < 0.3:
        depth = rng.uniform(11.0, 16.0)
        if min(wa, wb) - 2 * depth >= 8:
            outer = _local_rect(grid, a0 + s, a1 - s, b0 + s, b1 - s)
            inner = _local_rect(grid, a0 + s + depth, a1 - s - depth, b0 + s + depth, b1 - s - depth)
            roof = "hip" if rng.random() < 0.6 else "flat"
            material = _TILE if roof == "hip" else _GRAVEL
            pitch = math.radians(rng.uniform(20.0, 32.0)) if roof == "hip" else 0.0
            yield _BuildingPlan((outer,), inner, roof, eaves(), pitch, material)
            return
    # Corner L-shapes first, then rows along the four sides (overlaps are rejected when placed).
    for corner in range(4):
        if rng.random() >= 0.4:
            continue
        d = rng.uniform(10.0, 15.0)
        la, lb = rng.uniform(16.0, 28.0), rng.uniform(16.0, 28.0)
        ea = (a0 + s, a0 + s + la) if corner in (0, 3) else (a1 - s - la, a1 - s)
        eb = (b0 + s, b0 + s + d) if corner in (0, 1) else (b1 - s - d, b1 - s)
        wing_a = _local_rect(grid, ea[0], ea[1], eb[0], eb[1])
        fa = (a0 + s, a0 + s + d) if corner in (0, 3) else (a1 - s - d, a1 - s)
        fb = (b0 + s, b0 + s + lb) if corner in (0, 1) else (b1 - s - lb, b1 - s)
        wing_b = _local_rect(grid, fa[0], fa[1], fb[0], fb[1])
        roof, material, pitch = _pitched(rng, flat_share)
        yield _BuildingPlan((wing_a, wing_b), None, roof, eaves(), pitch, material)
    for side in range(4):
        # North and south rows run the whole length; west and east rows fill in between them.
        along = (a0, a1) if side < 2 else (b0 + s + 21.5, b1 - s - 21.5)
        pos = along[0] + (s if side < 2 else 0.0) + rng.uniform(0.0, 4.0)
        while pos < along[1] - s - 8:
            front = min(rng.uniform(12.0, 30.0), along[1] - s - pos)
            depth = rng.uniform(12.0, 19.0)
            if side == 0:
                rect = _local_rect(grid, pos, pos + front, b0 + s, b0 + s + depth)
            elif side == 1:
                rect = _local_rect(grid, pos, pos + front, b1 - s - depth, b1 - s)
            elif side == 2:
                rect = _local_rect(grid, a0 + s, a0 + s + depth, pos, pos + front)
            else:
                rect = _local_rect(grid, a1 - s - depth, a1 - s, pos, pos + front)
            roof, material, pitch = _pitched(rng, flat_share)
            yield _BuildingPlan((rect,), None, roof, eaves(), pitch, material)
            pos += front + (rng.uniform(8.0, 14.0) if rng.random() < 0.1 else rng.uniform(2.5, 3.5))
    # Annexes in the heart of large blocks: low workshops, garages, school wings.
    inner_a, inner_b = (a0 + s + 22.0, a1 - s - 22.0), (b0 + s + 22.0, b1 - s - 22.0)
    for _ in range(int(rng.integers(0, 5))):
        if inner_a[1] - inner_a[0] < 12 or inner_b[1] - inner_b[0] < 10:
            break
        la = rng.uniform(10.0, min(30.0, inner_a[1] - inner_a[0]))
        lb = rng.uniform(8.0, min(20.0, inner_b[1] - inner_b[0]))
        pa = rng.uniform(inner_a[0], inner_a[1] - la)
        pb = rng.uniform(inner_b[0], inner_b[1] - lb)
        roof, material, pitch = _pitched(rng, 0.5)
        yield _BuildingPlan(
            (_local_rect(grid, pa, pa + la, pb, pb + lb),),
            None,
            roof,
            float(rng.uniform(3.5, 8.0)),
            pitch,
            material,
        )


def _houses_block(
    grid: _StreetGrid, box: tuple[float, float, float, float], rng: np.random.Generator
) -> Iterator[_BuildingPlan]:
    """Detached houses on lots, some rotated, some L-shaped."""
    a0, a1, b0, b1 = box
    lot_a, lot_b = rng.uniform(18.0, 28.0), rng.uniform(18.0, 28.0)
    for ia in range(max(1, int((a1 - a0) // lot_a))):
        for ib in range(max(1, int((b1 - b0) // lot_b))):
            ca = a0 + (ia + 0.5) * lot_a + rng.uniform(-2, 2)
            cb = b0 + (ib + 0.5) * lot_b + rng.uniform(-2, 2)
            length, width = rng.uniform(9.0, 15.0), rng.uniform(7.0, 10.0)
            turn = rng.uniform(-math.pi / 4, math.pi / 4) if rng.random() < 0.2 else rng.normal(0, 0.03)
            turn += (math.pi / 2) * int(rng.integers(0, 2))
            cx, cy = grid.to_pixel(ca, cb)
            main = _Rect(cx, cy, length, width, grid.angle + turn)
            parts: tuple[_Rect, ...] = (main,)
            if rng.random() < 0.3:
                wing_len = rng.uniform(6.0, 9.0)
                u = np.array([math.cos(main.angle), math.sin(main.angle)])
                v = np.array([-math.sin(main.angle), math.cos(main.angle)])
                c = (
                    np.array([cx, cy])
                    + u * (length / 2 - width / 2 * 0.9)
                    + v * (width / 2 + wing_len / 2 - 0.5)
                )
                parts = (
                    main,
                    _Rect(float(c[0]), float(c[1]), wing_len, width * 0.9, main.angle + math.pi / 2),
                )
            roof = str(rng.choice(["gable", "hip", "flat"], p=[0.55, 0.35, 0.10]))
            material = _TILE if roof != "flat" else _GRAVEL
            pitch = math.radians(rng.uniform(22.0, 35.0)) if roof != "flat" else 0.0
            yield _BuildingPlan(parts, None, roof, float(rng.uniform(3.0, 6.5)), pitch, material)


def _towers_block(
    grid: _StreetGrid, box: tuple[float, float, float, float], rng: np.random.Generator
) -> Iterator[_BuildingPlan]:
    """A few tall slabs and towers with flat roofs, often rotated against the street grid."""
    a0, a1, b0, b1 = box
    for _ in range(int(rng.integers(1, 4))):
        length, width = rng.uniform(18.0, 40.0), rng.uniform(14.0, 24.0)
        ca, cb = rng.uniform(a0 + 12, max(a0 + 12, a1 - 12)), rng.uniform(b0 + 12, max(b0 + 12, b1 - 12))
        turn = rng.uniform(-0.7, 0.7) if rng.random() < 0.5 else 0.0
        cx, cy = grid.to_pixel(ca, cb)
        material = int(rng.choice([_GRAVEL, _MEMBRANE]))
        yield _BuildingPlan(
            (_Rect(cx, cy, length, width, grid.angle + turn),),
            None,
            "flat",
            float(rng.uniform(18.0, 45.0)),
            0.0,
            material,
        )


def _warehouses_block(
    grid: _StreetGrid, box: tuple[float, float, float, float], rng: np.random.Generator
) -> Iterator[_BuildingPlan]:
    """One or two large low boxes (retail, depots) with flat metal or membrane roofs."""
    a0, a1, b0, b1 = box
    for _ in range(int(rng.integers(1, 3))):
        length = min(rng.uniform(30.0, 70.0), max(a1 - a0 - 8, 12))
        width = min(rng.uniform(20.0, 45.0), max(b1 - b0 - 8, 10))
        ca = rng.uniform(a0 + 4 + length / 2, max(a0 + 4 + length / 2, a1 - 4 - length / 2))
        cb = rng.uniform(b0 + 4 + width / 2, max(b0 + 4 + width / 2, b1 - 4 - width / 2))
        cx, cy = grid.to_pixel(ca, cb)
        material = int(rng.choice([_METAL, _MEMBRANE]))
        yield _BuildingPlan(
            (_Rect(cx, cy, length, width, grid.angle),),
            None,
            "flat",
            float(rng.uniform(6.0, 12.0)),
            0.0,
            material,
        )


_BLOCK_BUILDERS = {
    _DENSE: _dense_block,
    _HOUSES: _houses_block,
    _TOWERS: _towers_block,
    _WAREHOUSES: _warehouses_block,
}


# ----------------------------------------------------------------------------------------------- placement


class _Placer:
    """Places building plans one by one, refusing those that touch forbidden ground or another building."""

    def __init__(self, dtm: np.ndarray, forbidden: np.ndarray) -> None:
        self.n = dtm.shape[0]
        self.dtm = dtm
        self.forbidden = forbidden
        self.occupied = np.zeros_like(forbidden)
        self.ids = np.zeros(dtm.shape, dtype=np.uint32)
        self.roof = np.zeros(dtm.shape, dtype=np.float32)  # absolute roof elevation where a building stands
        self.buildings: list[Building] = []

    def place(self, plan: _BuildingPlan) -> bool:
        shape = shapely.union_all([part.polygon() for part in plan.parts])
        if plan.hole is not None:
            shape = shape.difference(plan.hole.polygon())
        if not isinstance(shape, shapely.Polygon) or shape.area < 30:
            return False
        x0, y0, x1, y1 = shape.bounds
        g = _BUILDING_GAP
        r0, c0 = math.floor(y0) - g, math.floor(x0) - g
        r1, c1 = math.ceil(y1) + g, math.ceil(x1) + g
        if r0 < 0 or c0 < 0 or r1 > self.n or c1 > self.n:
            return False
        h, w = r1 - r0, c1 - c0
        part_masks = []
        for part in plan.parts:
            corners = part.corners()
            m = np.zeros((h, w), dtype=bool)
            rr, cc = draw_polygon(corners[:, 1] - r0 - 0.5, corners[:, 0] - c0 - 0.5, shape=(h, w))
            m[rr, cc] = True
            part_masks.append(m)
        mask = np.logical_or.reduce(part_masks)
        if plan.hole is not None:
            corners = plan.hole.corners()
            rr, cc = draw_polygon(corners[:, 1] - r0 - 0.5, corners[:, 0] - c0 - 0.5, shape=(h, w))
            mask[rr, cc] = False
        if mask.sum() < 30:
            return False
        window = (slice(r0, r1), slice(c0, c1))
        if (self.forbidden[window] & mask).any():
            return False
        if (self.occupied[window] & ndimage.binary_dilation(mask, iterations=g)).any():
            return False
        height_field = self._roof(plan, mask, part_masks, r0, c0)
        ground = float(np.median(self.dtm[window][mask]))
        bid = len(self.buildings) + 1
        self.ids[window][mask] = bid
        self.occupied[window] |= mask
        self.roof[window][mask] = ground + height_field[mask]
        self.buildings.append(
            Building(
                id=bid,
                footprint=shapely.set_precision(shape, 0.01),
                roof_type=plan.roof_type,
                eaves_height=round(plan.eaves, 2),
                height=round(float(height_field[mask].max()), 2),
                ground_elevation=round(ground, 2),
                material=plan.material,
            )
        )
        return True

    @staticmethod
    def _roof(
        plan: _BuildingPlan, mask: np.ndarray, part_masks: list[np.ndarray], r0: int, c0: int
    ) -> np.ndarray:
        """Roof height above the ground over the window (flat, gable per wing, or hip from the footprint)."""
        h, w = mask.shape
        z = np.zeros((h, w), dtype=np.float32)
        if plan.roof_type == "flat":
            z[mask] = plan.eaves
        elif plan.roof_type == "hip":
            distance = ndimage.distance_transform_edt(mask) - 0.5
            z[mask] = plan.eaves + math.tan(plan.pitch) * distance[mask]
        else:
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            yy += r0 + 0.5
            xx += c0 + 0.5
            for part, part_mask in zip(plan.parts, part_masks, strict=True):
                ridge = part.ridge_aligned()
                across = np.abs(
                    (xx - ridge.cx) * -math.sin(ridge.angle) + (yy - ridge.cy) * math.cos(ridge.angle)
                )
                wing = plan.eaves + math.tan(plan.pitch) * np.maximum(ridge.width / 2 - across, 0.0)
                z = np.where(part_mask, np.maximum(z, wing), z)
        return z


# --------------------------------------------------------------------------------------------------- sites


def _find_site(
    free: np.ndarray, sizes: list[tuple[int, int]], rng: np.random.Generator, score: np.ndarray | None = None
) -> tuple[int, int, int, int] | None:
    """Upper-left cell and size of a rectangle of free cells (the best scored, or a random one)."""
    padded = np.pad(free.astype(np.int32), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    for rows, cols in sizes:
        if rows > free.shape[0] or cols > free.shape[1]:
            continue
        window = padded[rows:, cols:] - padded[:-rows, cols:] - padded[rows:, :-cols] + padded[:-rows, :-cols]
        rr, cc = np.nonzero(window == rows * cols)
        if rr.size == 0:
            continue
        if score is None:
            k = int(rng.integers(0, rr.size))
        else:
            values = score[rr + rows // 2, cc + cols // 2]
            k = int(np.argmin(values + rng.uniform(0, 1e-3, size=values.size)))
        return int(rr[k]), int(cc[k]), rows, cols
    return None


def _sites(
    scale_cells: int,
    land_free: np.ndarray,
    water_free: np.ndarray,
    river_distance: np.ndarray,
    rng: np.random.Generator,
) -> list[Site]:
    """Reserve the change sites on the 10 m grid, kept apart from one another."""
    big = max(4, round(6 * math.sqrt(scale_cells / 128)))
    land_sizes = [(big, big), (big, big - 1), (big - 1, big - 1), (4, 4), (4, 3), (3, 3), (3, 2)]
    water_sizes = [(big, 3), (big - 1, 3), (4, 3), (4, 2), (3, 2), (2, 2), (2, 1)]
    plan = [
        ("construction", max(1, round(scale_cells / 128))),
        ("field", 1 + int(scale_cells >= 256)),
        ("car_park", max(1, round(scale_cells / 256))),
        ("mooring", 1),
    ]
    sites = []
    land = land_free.copy()
    water = water_free.copy()
    for kind, count in plan:
        for _ in range(count):
            if kind == "mooring":
                found = _find_site(water, water_sizes, rng)
            elif kind == "field":
                found = _find_site(land, land_sizes, rng, score=river_distance)
            else:
                found = _find_site(land, land_sizes, rng)
            if found is None:
                continue
            r, c, rows, cols = found
            sites.append(Site(kind, r, c, rows, cols))
            target = water if kind == "mooring" else land
            target[max(0, r - 2) : r + rows + 2, max(0, c - 2) : c + cols + 2] = False
    return sites


# ---------------------------------------------------------------------------------------------------- trees


def _plant(
    candidates: list[tuple[float, float, float, float]],
    n: int,
    canopy: np.ndarray,
    tree_ids: np.ndarray,
    trees: list[Tree],
    rng: np.random.Generator,
) -> None:
    """Draw ellipsoid crowns into the canopy height and tree-id rasters."""
    for x, y, radius, height in candidates:
        r0, r1 = max(0, math.floor(y - radius)), min(n, math.ceil(y + radius) + 1)
        c0, c1 = max(0, math.floor(x - radius)), min(n, math.ceil(x + radius) + 1)
        if r0 >= r1 or c0 >= c1:
            continue
        yy = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5 - y
        xx = np.arange(c0, c1, dtype=np.float32)[None, :] + 0.5 - x
        d2 = (yy**2 + xx**2) / radius**2
        inside = d2 < 1.0
        if not inside.any():
            continue
        depth = min(0.6 * height, 1.3 * radius)
        crown = height - depth * (1.0 - np.sqrt(np.clip(1.0 - d2, 0.0, 1.0)))
        crown = crown + rng.normal(0.0, 0.25, size=crown.shape).astype(np.float32)
        window = (slice(r0, r1), slice(c0, c1))
        higher = inside & (crown > canopy[window])
        tid = len(trees) + 1
        canopy[window][higher] = crown[higher]
        tree_ids[window][higher] = tid
        trees.append(
            Tree(
                tid, round(float(x), 2), round(float(y), 2), round(float(radius), 2), round(float(height), 2)
            )
        )


def _tree_size(rng: np.random.Generator, small: bool = False) -> tuple[float, float]:
    radius = rng.uniform(3.0, 5.5) if small else rng.uniform(3.0, 10.0)
    height = float(np.clip(4.0 + 1.5 * radius + rng.normal(0, 1.5), 5.0, 20.0))
    return float(radius), height


# ------------------------------------------------------------------------------------------------- assembly


def synthesize_scene(grid: AreaGrid, seed: int) -> Scene:
    """Build the 3D scene of the demo area.

    Parameters
    ----------
    grid
        The area (its 1 m grid).
    seed
        Seed of every random draw; the same seed gives the same scene.

    Returns
    -------
    Scene
    """
    n = grid.size
    river = _make_river(n, stream(seed, "river"))
    dtm = _make_terrain(n, river, stream(seed, "terrain"))
    rows = np.arange(n, dtype=np.float32)[:, None] + 0.5
    cols = np.arange(n, dtype=np.float32)[None, :] + 0.5
    offset = river.offset(rows, cols)
    abs_offset = np.abs(offset)
    water = abs_offset < river.half_width
    quay_zone = abs_offset < river.half_width + _QUAY_WIDTH
    quay_carriage = (abs_offset >= river.half_width + _SIDEWALK_WIDTH) & (
        abs_offset < river.half_width + _QUAY_WIDTH - _SIDEWALK_WIDTH
    )

    # Street grids, one per bank.
    rng_roads = stream(seed, "roads")
    east = offset > 0
    grids = (
        _make_grid(n, math.radians(rng_roads.uniform(-25, 25)), rng_roads),
        _make_grid(n, math.radians(rng_roads.uniform(-25, 25)), rng_roads),
    )
    road = np.zeros((n, n), dtype=bool)
    carriage = np.zeros((n, n), dtype=bool)
    block_p = np.zeros((n, n), dtype=np.int32)
    block_q = np.zeros((n, n), dtype=np.int32)
    for bank, sgrid in enumerate(grids):
        on_bank = east if bank == 0 else ~east
        p, q = sgrid.rotate(rows, cols)
        p = np.broadcast_to(p, (n, n))
        q = np.broadcast_to(q, (n, n))
        road_p, carr_p, idx_p = _line_family(p, sgrid.p_lines, sgrid.p_half)
        road_q, carr_q, idx_q = _line_family(q, sgrid.q_lines, sgrid.q_half)
        road |= on_bank & (road_p | road_q)
        carriage |= on_bank & (carr_p | carr_q)
        block_p = np.where(on_bank, idx_p, block_p)
        block_q = np.where(on_bank, idx_q, block_q)
    road &= ~quay_zone
    carriage &= ~quay_zone
    road |= quay_zone & ~water
    carriage |= quay_carriage
    boulevards = _boulevards(n, rng_roads)
    boulevard = _rasterize([line.buffer(half, cap_style="flat") for line, half in boulevards], n)
    boulevard_carriage = _rasterize(
        [line.buffer(half - _SIDEWALK_WIDTH, cap_style="flat") for line, half in boulevards], n
    )
    bridge = boulevard & water
    road |= boulevard
    carriage |= boulevard_carriage
    water &= ~bridge
    sidewalk = road & ~carriage

    # Blocks: the cells of each bank's street grid.
    bank_id = np.where(east, 0, 1).astype(np.int32)  # index into `grids`
    nq = max(len(g.q_lines) for g in grids) + 1
    block_label = (bank_id * 100000 + block_p * nq + block_q).astype(np.int32)
    open_ground = ~(road | water)
    rng_blocks = stream(seed, "blocks")
    labels = np.unique(block_label[open_ground])
    kinds = rng_blocks.choice(len(_BLOCK_KIND_WEIGHTS), size=labels.size, p=_BLOCK_KIND_WEIGHTS)

    # Ground surface before buildings: by block kind, with garden / paving patches.
    patches = _upsample(_smooth_noise((n // 4 + 2, n // 4 + 2), 3.0, stream(seed, "patches")), 4, n)
    lut_labels = labels
    lut_kinds = kinds
    kind_map = np.full((n, n), -1, dtype=np.int8)
    pos = np.searchsorted(lut_labels, block_label)
    pos = np.clip(pos, 0, max(len(lut_labels) - 1, 0))
    if len(lut_labels):
        known = lut_labels[pos] == block_label
        kind_map = np.where(known & open_ground, lut_kinds[pos], -1).astype(np.int8)
    surface = np.full((n, n), SURFACE_PAVED, dtype=np.uint8)
    # Paved where the patch noise exceeds the threshold, grass elsewhere (soil on vacant lots).
    paved_above = {
        _DENSE: -0.3,
        _HOUSES: 1.0,
        _TOWERS: 0.0,
        _WAREHOUSES: -1.0,
        _PARK: 9.0,
        _VACANT: 9.0,
        _SQUARE: -1.2,
    }
    for kind, threshold in paved_above.items():
        here = kind_map == kind
        if kind == _VACANT:
            surface[here] = np.where(patches[here] > 1.2, SURFACE_GRASS, SURFACE_SOIL)
        else:
            surface[here] = np.where(patches[here] > threshold, SURFACE_PAVED, SURFACE_GRASS)
    surface[road] = SURFACE_ASPHALT
    surface[sidewalk] = SURFACE_SIDEWALK
    surface[bridge] = SURFACE_BRIDGE
    surface[water] = SURFACE_WATER

    # Change sites on whole 10 m cells of one block.
    k = S2_RESOLUTION
    nc = n // k
    blocks10 = block_label.reshape(nc, k, nc, k)
    same_block = (blocks10 == blocks10[:, :1, :, :1]).all(axis=(1, 3))
    open_cells = open_ground.reshape(nc, k, nc, k).all(axis=(1, 3))
    land_free = open_cells & same_block & ~ndimage.binary_dilation(~open_cells)
    land_free &= kind_map.reshape(nc, k, nc, k)[:, 0, :, 0] != _PARK
    land_free[[0, -1], :] = False
    land_free[:, [0, -1]] = False
    water_free = water.reshape(nc, k, nc, k).all(axis=(1, 3))
    river_distance = abs_offset.reshape(nc, k, nc, k)[:, k // 2, :, k // 2]
    sites = _sites(nc, land_free, water_free, river_distance, stream(seed, "sites"))
    site_mask = np.zeros((n, n), dtype=bool)
    for site in sites:
        window = site.slices()
        site_mask[window] = True
        surface[window] = {
            "construction": SURFACE_SOIL,
            "field": SURFACE_GRASS,
            "car_park": SURFACE_CAR_PARK,
            "mooring": SURFACE_WATER,
        }[site.kind]

    # Buildings.
    forbidden = ndimage.binary_dilation(~open_ground, iterations=1) | ndimage.binary_dilation(
        site_mask, iterations=3
    )
    forbidden[:1, :] = forbidden[-1:, :] = True
    forbidden[:, :1] = forbidden[:, -1:] = True
    placer = _Placer(dtm, forbidden)
    rng_buildings = stream(seed, "buildings")
    for label, kind in zip(labels.tolist(), kinds.tolist(), strict=True):
        builder = _BLOCK_BUILDERS.get(kind)
        if builder is None:
            continue
        bank = label // 100000
        ip, iq = divmod(label % 100000, nq)
        sgrid = grids[bank]
        if not (1 <= ip < len(sgrid.p_lines) and 1 <= iq < len(sgrid.q_lines)):
            continue
        box = (
            float(sgrid.p_lines[ip - 1] + sgrid.p_half[ip - 1]),
            float(sgrid.p_lines[ip] - sgrid.p_half[ip]),
            float(sgrid.q_lines[iq - 1] + sgrid.q_half[iq - 1]),
            float(sgrid.q_lines[iq] - sgrid.q_half[iq]),
        )
        for plan in builder(sgrid, box, rng_buildings):
            placer.place(plan)
    building = placer.ids > 0

    # Trees: street rows along wide avenues, boulevards and quays; parks; gardens.
    rng_trees = stream(seed, "trees")
    candidates: list[tuple[float, float, float, float]] = []
    for line, half in boulevards:
        for side in (-1, 1):
            edge = line.offset_curve(side * (half - 1.5))
            if edge.is_empty:
                continue
            for dist in np.arange(rng_trees.uniform(0, 9), edge.length, 9.0):
                pt = edge.interpolate(dist)
                candidates.append((pt.x, pt.y, *_tree_size(rng_trees, small=True)))
    for sgrid in grids:
        for lines, halves, along_p in (
            (sgrid.p_lines, sgrid.p_half, True),
            (sgrid.q_lines, sgrid.q_half, False),
        ):
            for line_pos, half in zip(lines.tolist(), halves.tolist(), strict=True):
                if half < 8.5 or rng_trees.random() < 0.5:
                    continue
                other = sgrid.q_lines if along_p else sgrid.p_lines
                for side in (-1, 1):
                    for t in np.arange(other[0] + rng_trees.uniform(0, 8), other[-1], 8.5):
                        p_, q_ = (
                            (line_pos + side * (half - 1.5), t)
                            if along_p
                            else (t, line_pos + side * (half - 1.5))
                        )
                        x, y = sgrid.to_pixel(p_, q_)
                        if 0 <= x < n and 0 <= y < n:
                            candidates.append((x, y, *_tree_size(rng_trees, small=True)))
    for y in np.arange(rng_trees.uniform(0, 9), n, 9.0):
        axis, slope = river.axis(np.array([y]))
        norm = math.sqrt(1 + float(slope[0]) ** 2)
        for side in (-1, 1):
            x = float(axis[0]) + side * (river.half_width + _QUAY_WIDTH + 3.0) * norm
            candidates.append((x, float(y), *_tree_size(rng_trees, small=True)))
    park = (kind_map == _PARK) & ~site_mask
    garden = (surface == SURFACE_GRASS) & ~park & ~building & ~site_mask & (kind_map >= 0)
    for mask, density, cluster in ((park, 1 / 260.0, True), (garden, 1 / 700.0, False)):
        flat = np.flatnonzero(mask)
        count = int(flat.size * density)
        if count == 0:
            continue
        if cluster:
            seeds = rng_trees.choice(flat, size=max(1, count // 6))
            ys = seeds // n + rng_trees.normal(0, 14, size=(6, seeds.size))
            xs = seeds % n + rng_trees.normal(0, 14, size=(6, seeds.size))
            picks = np.column_stack([ys.ravel(), xs.ravel()])
        else:
            chosen = rng_trees.choice(flat, size=count)
            picks = np.column_stack([chosen // n + 0.5, chosen % n + 0.5])
        for y, x in picks:
            candidates.append((float(x), float(y), *_tree_size(rng_trees)))
    near_building = ndimage.distance_transform_edt(~building)
    near_water = ndimage.distance_transform_edt(~(water | bridge))
    blocked = site_mask | building | water | bridge
    kept = []
    for x, y, radius, height in candidates:
        r, c = int(y), int(x)
        if not (0 <= r < n and 0 <= c < n) or blocked[r, c]:
            continue
        if near_building[r, c] < 0.8 * radius or near_water[r, c] < radius + 1.0:
            continue
        if site_mask[
            max(0, r - int(radius)) : r + int(radius) + 1, max(0, c - int(radius)) : c + int(radius) + 1
        ].any():
            continue
        kept.append((x, y, radius, height))
    canopy = np.zeros((n, n), dtype=np.float32)
    tree_ids = np.zeros((n, n), dtype=np.uint32)
    trees: list[Tree] = []
    _plant(kept, n, canopy, tree_ids, trees, rng_trees)
    canopy[building] = 0.0
    tree_ids[building] = 0

    # Elevation models and land cover.
    dtm = dtm.copy()
    dtm[water | bridge] = river.level
    dsm = dtm.copy()
    deck = river.level + 5.5
    dsm[bridge] = deck
    dsm = np.where(building, placer.roof, dsm)
    dsm = np.maximum(dsm, np.where(canopy > 0, dtm + canopy, -np.inf)).astype(np.float32)
    landcover = _SURFACE_TO_CLASS[surface]
    landcover[canopy > 0] = TREE
    landcover[building] = BUILDING
    counts = {
        name: int((kinds == value).sum())
        for value, name in enumerate(["dense", "houses", "towers", "warehouses", "park", "vacant", "square"])
    }
    return Scene(
        grid=grid,
        dtm=dtm.astype(np.float32),
        dsm=dsm,
        surface=surface,
        landcover=landcover,
        building_ids=placer.ids,
        tree_ids=tree_ids,
        canopy=canopy,
        water_level=river.level,
        buildings=tuple(placer.buildings),
        trees=tuple(trees),
        sites=tuple(sites),
        block_kinds=counts,
    )
