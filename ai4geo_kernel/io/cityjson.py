"""CityJSON 2.0 buildings: write LOD0/LOD1 (and LOD2 for flat roofs) from footprints with heights, read back.

No CityJSON library is in the stack (cjio pins its own numpy/pyproj ranges and only adds a CLI); the format
is plain JSON with an integer-quantised vertex list, written here with :mod:`json` and numpy following the
CityJSON 2.0 specification (``transform``, ``vertices``, ``CityObjects`` with ``geometry`` boundaries).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon

from ai4geo_kernel.errors import MissingCRSError, VectorError
from ai4geo_kernel.io.atomic import atomic_path

__all__ = ["write_cityjson", "read_cityjson", "CITYJSON_VERSION"]

CITYJSON_VERSION = "2.0"
_SCALE = 0.001


def _polygons(geometry: Any) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return []


def _ring(coords: Iterable[Iterable[float]]) -> list[tuple[float, float]]:
    """A ring's (x, y) without its closing vertex."""
    points = [(float(x), float(y)) for x, y, *_ in coords][:-1]
    return points


def write_cityjson(
    buildings: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    height: str = "height",
    ground: str | float = 0.0,
    lods: tuple[str, ...] = ("0", "1"),
    identifier: str | None = None,
) -> None:
    """Write building footprints with heights as a CityJSON 2.0 file (atomically).

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        Footprints (Polygon / MultiPolygon) in a projected CRS; every other column becomes an attribute.
    path : str or os.PathLike
        Destination ``.city.json``.
    height : str
        Column of building heights above the ground (metres); the roof of the LOD1 block is at
        ``ground + height``.
    ground : str or float
        Column of ground elevations (metres), or one elevation for all buildings.
    lods : tuple of str
        Levels of detail to write: ``"0"`` (footprint surface at ground level), ``"1"`` (extruded block,
        a Solid), ``"2"`` (the same block with its surfaces typed GroundSurface / WallSurface / RoofSurface).
    identifier : str, optional
        Column holding the object identifiers (default: the index).

    Raises
    ------
    MissingCRSError
        If the GeoDataFrame has no CRS.
    VectorError
        If ``height`` (or the ``ground`` column) is missing.
    """
    if buildings.crs is None:
        raise MissingCRSError("buildings have no CRS: set one with GeoDataFrame.set_crs")
    if height not in buildings.columns:
        raise VectorError(f"no height column {height!r}; columns: {', '.join(map(str, buildings.columns))}")
    if isinstance(ground, str) and ground not in buildings.columns:
        raise VectorError(f"no ground column {ground!r}")
    vertices: list[tuple[float, float, float]] = []
    index: dict[tuple[int, int, int], int] = {}

    def vertex(x: float, y: float, z: float) -> int:
        key = (round(x / _SCALE), round(y / _SCALE), round(z / _SCALE))
        found = index.get(key)
        if found is None:
            found = index[key] = len(vertices)
            vertices.append(key)  # type: ignore[arg-type]
        return found

    objects: dict[str, Any] = {}
    columns = [c for c in buildings.columns if c != buildings.geometry.name]
    for row_index, row in buildings.iterrows():
        polygons = [
            shapely.geometry.polygon.orient(p, 1.0) for p in _polygons(row.geometry) if not p.is_empty
        ]
        if not polygons:
            continue
        base = float(row[ground]) if isinstance(ground, str) else float(ground)
        top = base + float(row[height])
        attributes = {c: _json_value(row[c]) for c in columns}
        attributes["measuredHeight"] = float(row[height])
        geometry: list[dict[str, Any]] = []
        for lod in lods:
            if lod == "0":
                surfaces = [
                    [[vertex(x, y, base) for x, y in _ring(r.coords)] for r in (p.exterior, *p.interiors)]
                    for p in polygons
                ]
                geometry.append({"type": "MultiSurface", "lod": "0", "boundaries": surfaces})
            elif lod in ("1", "2"):
                shells = []
                semantics_values = []
                for polygon in polygons:
                    shell, kinds = _block(polygon, base, top, vertex)
                    shells.append([shell])
                    semantics_values.append([kinds])
                if lod == "1":
                    # one building may have several parts: a MultiSolid; a single part: a Solid
                    if len(shells) == 1:
                        geometry.append({"type": "Solid", "lod": "1", "boundaries": shells[0]})
                    else:
                        geometry.append({"type": "MultiSolid", "lod": "1", "boundaries": shells})
                else:
                    semantics = {
                        "surfaces": [
                            {"type": "GroundSurface"},
                            {"type": "WallSurface"},
                            {"type": "RoofSurface"},
                        ],
                        "values": semantics_values,
                    }
                    geometry.append(
                        {"type": "MultiSolid", "lod": "2", "boundaries": shells, "semantics": semantics}
                    )
            else:
                raise VectorError(f"unsupported LOD {lod!r}: use '0', '1' or '2'")
        name = str(row[identifier]) if identifier else str(row_index)
        objects[name] = {"type": "Building", "attributes": attributes, "geometry": geometry}
    array = np.asarray(vertices, dtype=np.int64).reshape(-1, 3)
    offset = array.min(axis=0) if len(array) else np.zeros(3, dtype=np.int64)
    epsg = CRS.from_user_input(buildings.crs).to_epsg()
    document = {
        "type": "CityJSON",
        "version": CITYJSON_VERSION,
        "transform": {"scale": [_SCALE] * 3, "translate": [float(v * _SCALE) for v in offset]},
        "metadata": {"referenceSystem": f"https://www.opengis.net/def/crs/EPSG/0/{epsg}"} if epsg else {},
        "CityObjects": objects,
        "vertices": (array - offset).tolist(),
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")


def _block(polygon: Polygon, base: float, top: float, vertex: Any) -> tuple[list[Any], list[int]]:
    """The shell of an extruded polygon: ground (facing down), roof (facing up), one wall per edge."""
    rings = [_ring(r.coords) for r in (polygon.exterior, *polygon.interiors)]
    ground = [[vertex(x, y, base) for x, y in reversed(ring)] for ring in rings]
    roof = [[vertex(x, y, top) for x, y in ring] for ring in rings]
    shell: list[Any] = [ground, roof]
    kinds = [0, 2]
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            shell.append(
                [[vertex(x0, y0, base), vertex(x1, y1, base), vertex(x1, y1, top), vertex(x0, y0, top)]]
            )
            kinds.append(1)
    return shell, kinds


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _surfaces(geometry: dict[str, Any]) -> Iterable[tuple[list[list[int]], str | None]]:
    """Every surface (list of rings of vertex indices) of a CityJSON geometry with its semantic type."""
    kind = geometry["type"]
    boundaries = geometry.get("boundaries", [])
    semantics = geometry.get("semantics") or {}
    types = [s.get("type") for s in semantics.get("surfaces", [])]
    values = semantics.get("values")

    def typed(value: Any) -> str | None:
        return types[value] if isinstance(value, int) and value < len(types) else None

    if kind in ("MultiSurface", "CompositeSurface"):
        for i, surface in enumerate(boundaries):
            yield surface, typed(values[i]) if values else None
    elif kind == "Solid":
        for s, shell in enumerate(boundaries):
            for i, surface in enumerate(shell):
                yield surface, typed(values[s][i]) if values else None
    elif kind in ("MultiSolid", "CompositeSolid"):
        for d, solid in enumerate(boundaries):
            for s, shell in enumerate(solid):
                for i, surface in enumerate(shell):
                    yield surface, typed(values[d][s][i]) if values else None


def read_cityjson(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the buildings of a CityJSON file as footprints with heights and roof surfaces.

    Parameters
    ----------
    path : str or os.PathLike
        A CityJSON 1.x / 2.0 file (``.json`` / ``.city.json``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per Building / BuildingPart: ``id``, the object's attributes, ``lod`` (highest level
        read), ``base_z`` and ``top_z`` (lowest and highest vertex, metres), ``roof`` (a 3D MultiPolygon of
        the roof surfaces: typed RoofSurface, else the upward faces of the highest LOD) and the 2D footprint
        as geometry (LOD0 surface, else the ground outline of the solid).
        CRS from ``metadata.referenceSystem``.

    Raises
    ------
    VectorError
        If the file is not CityJSON.
    """
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if document.get("type") != "CityJSON":
        raise VectorError(f"{os.fspath(path)} is not CityJSON (type={document.get('type')!r})")
    transform = document.get("transform") or {"scale": [1, 1, 1], "translate": [0, 0, 0]}
    vertices = np.asarray(document.get("vertices", []), dtype=np.float64).reshape(-1, 3)
    vertices = vertices * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
    rows: list[dict[str, Any]] = []
    for name, city_object in document.get("CityObjects", {}).items():
        if city_object.get("type") not in ("Building", "BuildingPart"):
            continue
        geometries = [g for g in city_object.get("geometry", []) if "lod" in g]
        if not geometries:
            continue
        best = max(geometries, key=lambda g: float(str(g["lod"])[:3]))
        roofs: list[Polygon] = []
        footprints: list[Polygon] = []
        used: list[int] = []
        for surface, kind in _surfaces(best):
            rings = [vertices[np.asarray(ring, dtype=np.int64)] for ring in surface if len(ring) >= 3]
            if not rings:
                continue
            used.extend(int(i) for ring in surface for i in ring)
            polygon3d = Polygon(rings[0], rings[1:])
            normal_z = _normal_z(rings[0])
            if kind == "RoofSurface" or (kind is None and normal_z > 0.3):
                roofs.append(polygon3d)
            if (
                kind == "GroundSurface"
                or (kind is None and normal_z < -0.3)
                or best["type"] == "MultiSurface"
            ):
                footprints.append(Polygon(rings[0][:, :2], [r[:, :2] for r in rings[1:]]))
        if not used:
            continue
        lod0 = [g for g in geometries if str(g["lod"]).startswith("0") and g["type"] == "MultiSurface"]
        if lod0:
            footprints = [
                Polygon(vertices[np.asarray(s[0])][:, :2], [vertices[np.asarray(r)][:, :2] for r in s[1:]])
                for s in lod0[0]["boundaries"]
            ]
        z = vertices[np.asarray(sorted(set(used)))][:, 2]
        footprint = shapely.make_valid(shapely.union_all([p for p in footprints if p.is_valid] or footprints))
        row = dict(city_object.get("attributes") or {})
        row.update(
            id=name,
            lod=str(best["lod"]),
            base_z=float(z.min()),
            top_z=float(z.max()),
            roof=MultiPolygon(roofs) if roofs else None,
            geometry=footprint,
        )
        rows.append(row)
    crs = _crs(document)
    if not rows:
        return gpd.GeoDataFrame(
            {"id": [], "lod": [], "base_z": [], "top_z": [], "roof": []}, geometry=[], crs=crs
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def _normal_z(ring: np.ndarray) -> float:
    """z of the unit normal of a planar ring (Newell's method)."""
    nxt = np.roll(ring, -1, axis=0)
    normal = np.array(
        [
            np.sum((ring[:, 1] - nxt[:, 1]) * (ring[:, 2] + nxt[:, 2])),
            np.sum((ring[:, 2] - nxt[:, 2]) * (ring[:, 0] + nxt[:, 0])),
            np.sum((ring[:, 0] - nxt[:, 0]) * (ring[:, 1] + nxt[:, 1])),
        ]
    )
    length = float(np.linalg.norm(normal))
    return float(normal[2] / length) if length else 0.0


def _crs(document: dict[str, Any]) -> CRS | None:
    system = (document.get("metadata") or {}).get("referenceSystem")
    if not system:
        return None
    tail = str(system).rstrip("/").split("/")
    try:
        return CRS.from_epsg(int(tail[-1])) if tail[-1].isdigit() else CRS.from_user_input(system)
    except Exception:  # noqa: BLE001 - an unknown reference system leaves the CRS unset
        return None
