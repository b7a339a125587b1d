"""Buildings for the scene: LOD0/LOD1 footprints extruded from ``base`` to ``top``, LOD2 (and higher) drawn
with their own wall and roof surfaces, from CityJSON, CityGML or a vector file of footprints with heights.

A file is parsed once (:func:`read_buildings` keeps the last few, keyed by path, modification time and
size) into flat arrays (:class:`ai4geo_kernel.io.citymodel.BuildingSurfaces`); :func:`buildings_payload`
reprojects all vertices in one call and sends them as an A4G3 frame (:func:`pack_arrays`): float32
positions, ring / polygon offsets, and a JSON attribute table in its header.
"""

from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from ai4geo_kernel.errors import VectorError
from ai4geo_kernel.io.citygml import read_citygml_surfaces
from ai4geo_kernel.io.cityjson import read_cityjson_surfaces
from ai4geo_kernel.io.citymodel import FOOTPRINT, GROUND, BuildingSurfaces
from ai4geo_kernel.scene3d._frame import SceneFrame

__all__ = [
    "read_buildings",
    "with_heights",
    "buildings_payload",
    "BUILDING_SUFFIXES",
    "BUILDINGS_CACHE_SIZE",
]

BUILDING_SUFFIXES = (".city.json", ".cityjson", ".gml", ".gpkg", ".geojson", ".fgb")
#: how many parsed building files :func:`read_buildings` keeps
BUILDINGS_CACHE_SIZE = 8
_HEIGHTS = ("height", "measuredHeight", "hauteur", "HAUTEUR", "building:height")
_NOT_ATTRIBUTES = ("base_z", "top_z")
_cache: OrderedDict[tuple[str, int, int], BuildingSurfaces] = OrderedDict()
_cache_lock = threading.Lock()


def read_buildings(path: str | os.PathLike[str]) -> BuildingSurfaces:
    """Buildings of CityJSON, CityGML or footprints with heights, parsed once per file version.

    Parameters
    ----------
    path : str or os.PathLike
        ``.city.json`` / ``.json`` (CityJSON), ``.gml`` / ``.xml`` (CityGML) or a vector file of footprints
        with a height column (see :func:`with_heights`).

    Returns
    -------
    BuildingSurfaces
        Shared between calls (its arrays are read-only): the last :data:`BUILDINGS_CACHE_SIZE` files read
        are kept, keyed by resolved path, modification time and size, so that a changed file is read again.
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    surfaces = _read(str(resolved))
    for array in (
        surfaces.vertices,
        surfaces.ring_offsets,
        surfaces.surface_offsets,
        surfaces.surface_building,
        surfaces.surface_type,
        surfaces.surface_normal,
    ):
        array.flags.writeable = False
    with _cache_lock:
        _cache[key] = surfaces
        _cache.move_to_end(key)
        while len(_cache) > BUILDINGS_CACHE_SIZE:
            _cache.popitem(last=False)
    return surfaces


def _read(path: str) -> BuildingSurfaces:
    name = Path(path).name.lower()
    if name.endswith((".city.json", ".cityjson")) or (name.endswith(".json") and _is_cityjson(path)):
        return read_cityjson_surfaces(path)
    if name.endswith((".gml", ".xml")):
        return read_citygml_surfaces(path)
    return BuildingSurfaces.from_geodataframe(with_heights(gpd.read_file(path), name=path))


def with_heights(frame: gpd.GeoDataFrame, *, name: str = "buildings") -> gpd.GeoDataFrame:
    """Footprints with ``base_z`` / ``top_z`` (and ``lod``, ``roof``, ``id``) for the scene.

    ``base_z`` / ``top_z`` are kept when present; else the top is the base (``ground_elevation``, or 0)
    plus the first height column found (``height``, ``measuredHeight``, ...).
    """
    if {"base_z", "top_z"} <= set(frame.columns):
        out = frame.copy()
    else:
        column = next((c for c in _HEIGHTS if c in frame.columns), None)
        if column is None:
            raise VectorError(f"{name}: no height column (one of {', '.join(_HEIGHTS)})")
        out = frame.copy()
        base = out["ground_elevation"].astype(float) if "ground_elevation" in out.columns else 0.0
        out["base_z"] = base
        out["top_z"] = base + out[column].astype(float)
    if "lod" not in out.columns:
        out["lod"] = "1"
    if "roof" not in out.columns:
        out["roof"] = None
    if "id" not in out.columns:
        out["id"] = out.index.astype(str)
    return out


def _is_cityjson(path: str) -> bool:
    with open(path, "rb") as handle:
        return b'"CityJSON"' in handle.read(4096)


def _column(values: Any) -> list[Any]:
    """A table column as JSON values (NaN and infinities as null, other objects as text)."""
    out = []
    for value in values:
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        elif not (value is None or isinstance(value, (str, int, float, bool))):
            value = str(value)
        out.append(value)
    return out


def _lod_number(values: Any) -> np.ndarray:
    out = []
    for value in values:
        try:
            out.append(int(float(str(value)[:3])))
        except ValueError:
            out.append(1)
    return np.asarray(out, dtype=np.uint8)


def buildings_payload(
    buildings: BuildingSurfaces | gpd.GeoDataFrame, frame: SceneFrame
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """What the browser draws, as A4G3 ``meta`` and arrays (:func:`pack_arrays`).

    Buildings whose highest LOD is below 2 send their footprint (rings at ``base``), extruded in the
    browser to ``top``; LOD2+ buildings send their wall, roof and other surfaces (3D rings; ground
    surfaces are hidden under the building and not sent) and their footprint (for picking by outline).

    Arrays: ``positions`` (V, 3) float32, x / y relative to ``frame.origin`` in ``frame.crs`` and z in
    metres; ``ring_offsets`` (R + 1) and ``polygon_offsets`` (P + 1) uint32 (polygon ``p`` has rings
    ``polygon_offsets[p]:polygon_offsets[p + 1]``, exterior first); ``polygon_building`` (P) uint32;
    ``polygon_type`` (P) uint8 (:data:`ai4geo_kernel.io.citymodel.SURFACE_TYPES`: 0 footprint, 2 wall,
    3 roof, 4 other); ``polygon_normal`` (P, 3) float32; per building ``base``, ``top`` float32 and
    ``lod`` uint8 (the level drawn).

    Meta: ``count``, ``ids``, ``attributes`` (column name -> one value per building, ``lod`` and ``lods``
    included), ``numeric`` and ``categorical`` column names, ``lods`` (every level in the data) and
    ``drawn`` (number of buildings drawn at each level).
    """
    if isinstance(buildings, gpd.GeoDataFrame):
        buildings = BuildingSurfaces.from_geodataframe(with_heights(buildings))
    table = buildings.table
    lod = _lod_number(table["lod"]) if len(table) else np.zeros(0, dtype=np.uint8)
    kinds = buildings.surface_type
    full3d = lod[buildings.surface_building] >= 2
    chosen = np.flatnonzero((kinds == FOOTPRINT) | (full3d & (kinds != GROUND)))
    part = buildings.take(chosen)
    base = np.asarray(table["base_z"], dtype=np.float64)
    top = np.asarray(table["top_z"], dtype=np.float64)
    vertex_polygon = np.repeat(
        np.repeat(np.arange(len(chosen)), np.diff(part.surface_offsets)), np.diff(part.ring_offsets)
    )
    footprint_vertex = part.surface_type[vertex_polygon] == FOOTPRINT
    z = np.where(footprint_vertex, base[part.surface_building[vertex_polygon]], part.vertices[:, 2])
    if len(part.vertices):
        x, y = frame.local(buildings.crs, part.vertices[:, 0], part.vertices[:, 1])
    else:
        x = y = np.zeros(0, dtype=np.float32)
    positions = np.column_stack([x, y, z]).astype(np.float32)
    skip = {"id", *_NOT_ATTRIBUTES}
    columns = [c for c in table.columns if c not in skip]
    attributes = {c: _column(table[c]) for c in columns}
    numeric = [
        c
        for c in columns
        if c not in ("lod", "lods") and np.issubdtype(np.asarray(table[c]).dtype, np.number)
    ]
    categorical = [
        c
        for c in columns
        if c not in numeric and c not in ("lod", "lods") and table[c].astype(str).nunique() <= 32
    ]
    every_lod = sorted(
        {v for text in table.get("lods", table["lod"]).astype(str) for v in text.split(",") if v},
        key=lambda v: float(v) if v.replace(".", "", 1).isdigit() else 0.0,
    )
    drawn = {str(level): int(n) for level, n in zip(*np.unique(lod, return_counts=True), strict=True)}
    meta = {
        "count": len(table),
        "ids": [str(v) for v in table["id"]],
        "attributes": attributes,
        "numeric": numeric,
        "categorical": categorical,
        "lods": every_lod,
        "drawn": drawn,
    }
    arrays = {
        "positions": positions,
        "ring_offsets": part.ring_offsets.astype(np.uint32),
        "polygon_offsets": part.surface_offsets.astype(np.uint32),
        "polygon_building": part.surface_building.astype(np.uint32),
        "polygon_type": part.surface_type.astype(np.uint8),
        "polygon_normal": part.surface_normal.astype(np.float32),
        "base": base.astype(np.float32),
        "top": top.astype(np.float32),
        "lod": lod,
    }
    return meta, arrays
