"""Buildings of a city model as flat arrays: one table row per building and its boundary surfaces as rings.

CityJSON and CityGML readers fill a :class:`BuildingSurfaces` in one pass over the file; the 3D viewer sends
its arrays as they are (no per-building geometry objects), and :meth:`BuildingSurfaces.to_geodataframe`
gives the footprints-with-heights table of :func:`ai4geo_kernel.io.read_cityjson` with shapely 2's vectorised
constructors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

__all__ = ["BuildingSurfaces", "SURFACE_TYPES", "FOOTPRINT", "GROUND", "WALL", "ROOF", "OTHER"]

#: surface type codes of :attr:`BuildingSurfaces.surface_type` (CityGML / CityJSON semantic surface names)
SURFACE_TYPES = ("Footprint", "GroundSurface", "WallSurface", "RoofSurface", "OtherSurface")
FOOTPRINT, GROUND, WALL, ROOF, OTHER = range(5)
_UNKNOWN = 255  # a surface without semantics: typed from its normal by BuildingSurfaces.build


@dataclass(frozen=True)
class BuildingSurfaces:
    """Buildings as flat arrays, in the file's CRS.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per building: ``id``, ``lod`` (the highest level of detail read, whose surfaces are
        stored), ``lods`` (every level the file holds for it, e.g. ``"0,1,2"``), ``base_z``, ``top_z`` and
        the object's attributes.
    vertices : numpy.ndarray
        (V, 3) float64 vertices of all rings, each ring without its closing vertex.
    ring_offsets : numpy.ndarray
        (R + 1,) int64: ring ``r`` is ``vertices[ring_offsets[r]:ring_offsets[r + 1]]``.
    surface_offsets : numpy.ndarray
        (S + 1,) int64: surface ``s`` has rings ``surface_offsets[s]:surface_offsets[s + 1]``, exterior
        first, then its holes.
    surface_building : numpy.ndarray
        (S,) int64 row of ``table`` each surface belongs to (non-decreasing).
    surface_type : numpy.ndarray
        (S,) uint8 code in :data:`SURFACE_TYPES`: ``FOOTPRINT`` surfaces are the 2D outline at the base
        (LOD0, else the ground surfaces), the others the 3D boundary of the highest LOD.
    surface_normal : numpy.ndarray
        (S, 3) float64 unit normal of each surface's exterior ring (Newell's method).
    crs : pyproj.CRS or None
    """

    table: pd.DataFrame
    vertices: np.ndarray
    ring_offsets: np.ndarray
    surface_offsets: np.ndarray
    surface_building: np.ndarray
    surface_type: np.ndarray
    surface_normal: np.ndarray
    crs: CRS | None

    @classmethod
    def build(
        cls,
        records: list[dict[str, Any]],
        vertices: np.ndarray,
        ring_sizes: np.ndarray,
        surface_rings: np.ndarray,
        surface_building: np.ndarray,
        surface_type: np.ndarray,
        crs: CRS | None,
    ) -> BuildingSurfaces:
        """From the readers' flat lists: types surfaces without semantics from their normal (up: roof, down:
        ground, else wall), adds footprints from ground surfaces where a building has none, and sets
        ``base_z`` / ``top_z`` from the vertices."""
        vertices = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        ring_offsets = np.concatenate([[0], np.cumsum(ring_sizes, dtype=np.int64)])
        surface_offsets = np.concatenate([[0], np.cumsum(surface_rings, dtype=np.int64)])
        surface_building = np.asarray(surface_building, dtype=np.int64)
        surface_type = np.asarray(surface_type, dtype=np.uint8).copy()
        normals = (
            _newell(vertices, ring_offsets)[surface_offsets[:-1]]
            if len(surface_building)
            else np.zeros((0, 3))
        )
        unknown = surface_type == _UNKNOWN
        surface_type[unknown] = np.where(
            normals[unknown, 2] > 0.3, ROOF, np.where(normals[unknown, 2] < -0.3, GROUND, WALL)
        )
        count = len(records)
        # heights from all vertices (a LOD0 footprint lies at the ground)
        vertex_surface = _vertex_owner(ring_offsets, surface_offsets)
        vertex_building = surface_building[vertex_surface]
        base = np.full(count, np.inf)
        top = np.full(count, -np.inf)
        np.minimum.at(base, vertex_building, vertices[:, 2])
        np.maximum.at(top, vertex_building, vertices[:, 2])
        table = (
            pd.DataFrame.from_records(records) if records else pd.DataFrame({"id": [], "lod": [], "lods": []})
        )
        table["base_z"] = np.where(np.isfinite(base), base, 0.0)
        table["top_z"] = np.where(np.isfinite(top), top, table["base_z"])
        surfaces = cls(
            table, vertices, ring_offsets, surface_offsets, surface_building, surface_type, normals, crs
        )
        return surfaces._with_footprints()

    def _with_footprints(self) -> BuildingSurfaces:
        """Buildings without a FOOTPRINT surface get their ground (else roof) surfaces as footprints."""
        has = np.zeros(len(self.table), dtype=bool)
        has[self.surface_building[self.surface_type == FOOTPRINT]] = True
        extra = []
        for kind in (GROUND, ROOF, WALL):
            chosen = (self.surface_type == kind) & ~has[self.surface_building]
            if chosen.any():
                extra.append(np.flatnonzero(chosen))
                has[self.surface_building[chosen]] = True
        if not extra:
            return self
        return self._append_copies(np.sort(np.concatenate(extra)), FOOTPRINT)

    def _append_copies(self, surfaces: np.ndarray, kind: int) -> BuildingSurfaces:
        """``surfaces`` copied with type ``kind`` (rings, vertices duplicated), ordered by building."""
        ring_first, ring_last = self.surface_offsets[surfaces], self.surface_offsets[surfaces + 1]
        rings = _ranges(ring_first, ring_last)
        vertex_index = _ranges(self.ring_offsets[rings], self.ring_offsets[rings + 1])
        sizes = np.diff(self.ring_offsets)[rings]
        ring_offsets = np.concatenate([self.ring_offsets, self.ring_offsets[-1] + np.cumsum(sizes)])
        surface_offsets = np.concatenate(
            [self.surface_offsets, self.surface_offsets[-1] + np.cumsum(ring_last - ring_first)]
        )
        merged = BuildingSurfaces(
            self.table,
            np.concatenate([self.vertices, self.vertices[vertex_index]]),
            ring_offsets,
            surface_offsets,
            np.concatenate([self.surface_building, self.surface_building[surfaces]]),
            np.concatenate([self.surface_type, np.full(len(surfaces), kind, dtype=np.uint8)]),
            np.concatenate([self.surface_normal, self.surface_normal[surfaces]]),
            self.crs,
        )
        return merged.take(np.argsort(merged.surface_building, kind="stable"))

    def take(self, surfaces: np.ndarray) -> BuildingSurfaces:
        """Only ``surfaces`` (indices, in that order); the table is kept whole."""
        surfaces = np.asarray(surfaces, dtype=np.int64)
        ring_first, ring_last = self.surface_offsets[surfaces], self.surface_offsets[surfaces + 1]
        rings = _ranges(ring_first, ring_last)
        vertex_index = _ranges(self.ring_offsets[rings], self.ring_offsets[rings + 1])
        sizes = np.diff(self.ring_offsets)[rings]
        return BuildingSurfaces(
            self.table,
            self.vertices[vertex_index],
            np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]),
            np.concatenate([[0], np.cumsum(ring_last - ring_first, dtype=np.int64)]),
            self.surface_building[surfaces],
            self.surface_type[surfaces],
            self.surface_normal[surfaces],
            self.crs,
        )

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of all vertices."""
        if not len(self.vertices):
            return (0.0, 0.0, 0.0, 0.0)
        low, high = self.vertices[:, :2].min(axis=0), self.vertices[:, :2].max(axis=0)
        return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))

    def polygons(self, kind: int, *, three_d: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Shapely polygons of the surfaces of type ``kind`` and the building row of each."""
        chosen = np.flatnonzero(self.surface_type == kind)
        if not len(chosen):
            return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
        part = self.take(chosen)
        ring_of_vertex = np.repeat(np.arange(len(part.ring_offsets) - 1), np.diff(part.ring_offsets))
        surface_of_ring = np.repeat(np.arange(len(chosen)), np.diff(part.surface_offsets))
        coords = part.vertices if three_d else part.vertices[:, :2]
        rings = shapely.linearrings(coords, indices=ring_of_vertex)
        return shapely.polygons(rings, indices=surface_of_ring), part.surface_building

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """The table with the 2D footprint as geometry (union of the footprint surfaces) and ``roof``, a 3D
        MultiPolygon of the roof surfaces (None where a building has none)."""
        count = len(self.table)
        footprints = np.full(count, None, dtype=object)
        polygons, owner = self.polygons(FOOTPRINT)
        if len(polygons):
            first = np.concatenate([[True], owner[1:] != owner[:-1]])
            single = first & np.concatenate([owner[1:] != owner[:-1], [True]])
            footprints[owner[single]] = shapely.make_valid(polygons[single])
            for building in np.unique(owner[~single]):  # several parts: their union
                footprints[building] = shapely.make_valid(shapely.union_all(polygons[owner == building]))
        roofs = np.full(count, None, dtype=object)
        polygons, owner = self.polygons(ROOF, three_d=True)
        if len(polygons):
            buildings, groups = np.unique(owner, return_inverse=True)
            roofs[buildings] = shapely.multipolygons(polygons, indices=groups)
        frame = self.table.copy()
        frame["roof"] = roofs
        return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(footprints, crs=self.crs), crs=self.crs)

    @classmethod
    def from_geodataframe(cls, frame: gpd.GeoDataFrame) -> BuildingSurfaces:
        """Footprints with ``base_z`` / ``top_z`` (see :func:`ai4geo_kernel.scene3d.with_heights`) as
        FOOTPRINT surfaces at ``base_z``; LOD2 rows with a 3D ``roof`` also get their roof surfaces."""
        geometry = np.asarray(frame.geometry.values, dtype=object)
        parts, part_row = shapely.get_parts(geometry, return_index=True)
        keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)  # non-empty polygons
        parts, part_row = parts[keep], part_row[keep]
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, vertex_ring = shapely.get_coordinates(rings, return_index=True)
        base = np.asarray(frame["base_z"], dtype=np.float64)
        vertices = np.column_stack([coords, base[part_row[ring_part[vertex_ring]]]])
        drop = np.r_[vertex_ring[1:] != vertex_ring[:-1], True]  # each ring's closing vertex
        vertices, vertex_ring = vertices[~drop], vertex_ring[~drop]
        ring_sizes = np.bincount(vertex_ring, minlength=len(rings))
        surface_rings = np.bincount(ring_part, minlength=len(parts))
        surface_building = part_row
        surface_type = np.full(len(parts), FOOTPRINT, dtype=np.uint8)
        table = pd.DataFrame(frame.drop(columns=[frame.geometry.name, "roof"], errors="ignore"))
        lods = table["lod"].astype(str) if "lod" in table.columns else pd.Series("1", index=table.index)
        table["lod"] = lods.to_numpy()
        if "lods" not in table.columns:
            table["lods"] = table["lod"]
        roofs = frame["roof"] if "roof" in frame.columns else None
        if roofs is not None:
            roof_rows = [
                i
                for i, (lod, roof) in enumerate(zip(lods, roofs, strict=True))
                if _lod(lod) >= 2 and isinstance(roof, shapely.Geometry) and shapely.has_z(roof)
            ]
            if roof_rows:
                extra = _roof_and_walls(
                    np.asarray(roofs, dtype=object)[roof_rows], np.asarray(roof_rows), base
                )
                vertices = np.concatenate([vertices, extra[0]])
                ring_sizes = np.concatenate([ring_sizes, extra[1]])
                surface_rings = np.concatenate([surface_rings, extra[2]])
                surface_building = np.concatenate([surface_building, extra[3]])
                surface_type = np.concatenate([surface_type, extra[4]])
        order = np.argsort(surface_building, kind="stable")
        built = cls(
            table.reset_index(drop=True),
            vertices,
            np.concatenate([[0], np.cumsum(ring_sizes, dtype=np.int64)]),
            np.concatenate([[0], np.cumsum(surface_rings, dtype=np.int64)]),
            np.asarray(surface_building, dtype=np.int64),
            surface_type,
            np.zeros((len(surface_type), 3)),
            frame.crs,
        )
        built = BuildingSurfaces(
            built.table,
            built.vertices,
            built.ring_offsets,
            built.surface_offsets,
            built.surface_building,
            built.surface_type,
            _newell(built.vertices, built.ring_offsets)[built.surface_offsets[:-1]],
            built.crs,
        )
        return built.take(order)


def _lod(value: Any) -> float:
    try:
        return float(str(value)[:3])
    except ValueError:
        return 1.0


def _roof_and_walls(
    roofs: np.ndarray, rows: np.ndarray, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Roof polygons (3D) and, under each roof edge, a vertical wall down to the base: the closed shell a
    GeoDataFrame's ``roof`` column stands for (inner walls under ridges stay hidden in the volume)."""
    polygons, polygon_row = shapely.get_parts(roofs, return_index=True)
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    coords, vertex_ring = shapely.get_coordinates(rings, include_z=True, return_index=True)
    drop = np.r_[vertex_ring[1:] != vertex_ring[:-1], True]
    roof_vertices, vertex_ring = coords[~drop], vertex_ring[~drop]
    ring_sizes = np.bincount(vertex_ring, minlength=len(rings))
    # walls: one quad per edge of each exterior ring
    exterior = np.r_[True, ring_polygon[1:] != ring_polygon[:-1]]
    edge_ring = vertex_ring[exterior[vertex_ring]]
    start = coords[~drop][exterior[vertex_ring]]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(edge_ring, minlength=len(rings)))])
    following = np.arange(len(start)) + 1
    following[offsets[1:][np.diff(offsets) > 0] - 1] = offsets[:-1][np.diff(offsets) > 0]
    end = start[following]
    building = rows[polygon_row[ring_polygon[edge_ring]]]
    ground = base[building]
    walls = np.stack(
        [
            np.column_stack([start[:, :2], ground]),
            np.column_stack([end[:, :2], ground]),
            end,
            start,
        ],
        axis=1,
    ).reshape(-1, 3)
    vertices = np.concatenate([roof_vertices, walls])
    sizes = np.concatenate([ring_sizes, np.full(len(start), 4)])
    surface_rings = np.concatenate(
        [np.bincount(ring_polygon, minlength=len(polygons)), np.ones(len(start), int)]
    )
    owner = np.concatenate([rows[polygon_row], building])
    kinds = np.concatenate([np.full(len(polygons), ROOF, np.uint8), np.full(len(start), WALL, np.uint8)])
    return vertices, sizes, surface_rings, owner, kinds


def _ranges(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(first[i], last[i])`` for all i, without a Python loop."""
    lengths = np.asarray(last - first, dtype=np.int64)
    if not len(lengths) or lengths.sum() == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.repeat(
        np.asarray(first, dtype=np.int64) - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths
    )
    return starts + np.arange(lengths.sum(), dtype=np.int64)


def _vertex_owner(ring_offsets: np.ndarray, surface_offsets: np.ndarray) -> np.ndarray:
    """The surface of every vertex."""
    ring_surface = np.repeat(np.arange(len(surface_offsets) - 1), np.diff(surface_offsets))
    return np.repeat(ring_surface, np.diff(ring_offsets))


def _newell(vertices: np.ndarray, ring_offsets: np.ndarray) -> np.ndarray:
    """Unit normal of every ring (Newell's method, all rings at once)."""
    count = len(ring_offsets) - 1
    if not len(vertices) or count == 0:
        return np.zeros((count, 3))
    sizes = np.diff(ring_offsets)
    ring = np.repeat(np.arange(count), sizes)
    local = (
        vertices - vertices[ring_offsets[:-1]][ring]
    )  # relative to each ring's first vertex: no cancellation
    following = np.arange(1, len(vertices) + 1)
    following[ring_offsets[1:][sizes > 0] - 1] = ring_offsets[:-1][sizes > 0]
    a, b = local, local[following]
    terms = np.column_stack(
        [
            (a[:, 1] - b[:, 1]) * (a[:, 2] + b[:, 2]),
            (a[:, 2] - b[:, 2]) * (a[:, 0] + b[:, 0]),
            (a[:, 0] - b[:, 0]) * (a[:, 1] + b[:, 1]),
        ]
    )
    normals = np.add.reduceat(terms, ring_offsets[:-1], axis=0)  # every ring has 3 vertices or more
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)
