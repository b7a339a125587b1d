"""CityJSON 2.0 buildings: write LOD0/LOD1 (and LOD2 for flat roofs) from footprints with heights, read back.

No CityJSON library is in the stack (cjio pins its own numpy/pyproj ranges and only adds a CLI); the format
is plain JSON with an integer-quantised vertex list, written here with :mod:`json` and numpy following the
CityJSON 2.0 specification (``transform``, ``vertices``, ``CityObjects`` with ``geometry`` boundaries).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon

from ai4geo_kernel.errors import MissingCRSError, VectorError
from ai4geo_kernel.io.atomic import atomic_path
from ai4geo_kernel.io.citymodel import FOOTPRINT, GROUND, OTHER, ROOF, WALL, BuildingSurfaces

__all__ = ["write_cityjson", "read_cityjson", "read_cityjson_surfaces", "CITYJSON_VERSION"]

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
    roof_type: str | None = None,
    eaves_height: str | float | None = None,
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
        a Solid), ``"2"`` (a Solid with its surfaces typed GroundSurface / WallSurface / RoofSurface: the
        block, or the roof shape of ``roof_type``).
    identifier : str, optional
        Column holding the object identifiers (default: the index).
    roof_type : str, optional
        Column of roof shapes for LOD2: ``gable`` / ``gabled`` (two slopes, the ridge along the long side
        of the footprint's minimum rotated rectangle, walls up to the ridge at both ends), ``hip`` /
        ``hipped`` (four slopes); anything else, or a footprint that is not close to a rectangle (less than
        95 % of its minimum rotated rectangle, or with a courtyard), is written flat.
    eaves_height : str or float, optional
        Column of eaves heights above the ground (metres), or one value: where the roof slopes start; the
        ridge is at ``height``. Default: 70 % of ``height``.

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
    for column in (roof_type, eaves_height):
        if isinstance(column, str) and column not in buildings.columns:
            raise VectorError(f"no column {column!r}")
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
                shape = str(row[roof_type]).lower() if roof_type and lod == "2" else "flat"
                if isinstance(eaves_height, str):
                    eaves = base + float(row[eaves_height])
                else:
                    eaves = base + (0.7 * (top - base) if eaves_height is None else float(eaves_height))
                for polygon in polygons:
                    rectangle = _rectangle(polygon) if shape in _PITCHED and base < eaves < top else None
                    if rectangle is None:
                        shell, kinds = _block(polygon, base, top, vertex)
                    else:
                        shell, kinds = _pitched(
                            rectangle, base, eaves, top, shape in ("hip", "hipped"), vertex
                        )
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


_PITCHED = ("gable", "gabled", "hip", "hipped")


def _rectangle(polygon: Polygon) -> np.ndarray | None:
    """The footprint's minimum rotated rectangle (4 corners, counter-clockwise, the first edge a long side)
    when the footprint fills 95 % of it and has no hole; else None."""
    if polygon.interiors:
        return None
    envelope = shapely.geometry.polygon.orient(shapely.oriented_envelope(polygon), 1.0)
    if not isinstance(envelope, Polygon) or envelope.area <= 0 or polygon.area < 0.95 * envelope.area:
        return None
    corners = np.asarray(envelope.exterior.coords)[:4, :2]
    if np.hypot(*(corners[1] - corners[0])) < np.hypot(*(corners[2] - corners[1])):
        corners = np.roll(corners, -1, axis=0)
    return corners


def _pitched(
    corners: np.ndarray, base: float, eaves: float, ridge: float, hipped: bool, vertex: Any
) -> tuple[list[Any], list[int]]:
    """The shell of a gabled or hipped house on a rectangle ``a b c d`` (counter-clockwise, ``ab`` long):
    ground, walls up to the eaves (gable walls up to the ridge), roof slopes; every face facing outwards."""
    a, b, c, d = (np.asarray(p, dtype=np.float64) for p in corners)
    length, width = np.hypot(*(b - a)), np.hypot(*(c - b))
    along = (b - a) / length
    inset = min(width / 2, 0.45 * length) if hipped else 0.0
    r1 = (a + d) / 2 + along * inset
    r2 = (b + c) / 2 - along * inset

    def at(point: np.ndarray, z: float) -> int:
        return vertex(float(point[0]), float(point[1]), z)

    shell: list[Any] = [[[at(p, base) for p in (a, d, c, b)]]]  # ground, facing down
    kinds = [0]
    for p, q, ridge_point in ((a, b, None), (b, c, r2), (c, d, None), (d, a, r1)):
        wall = [at(p, base), at(q, base), at(q, eaves)]
        if ridge_point is not None and not hipped:
            wall.append(at(ridge_point, ridge))  # a gable end
        wall.append(at(p, eaves))
        shell.append([wall])
        kinds.append(1)
    shell.append([[at(a, eaves), at(b, eaves), at(r2, ridge), at(r1, ridge)]])
    shell.append([[at(c, eaves), at(d, eaves), at(r1, ridge), at(r2, ridge)]])
    kinds += [2, 2]
    if hipped:
        shell.append([[at(b, eaves), at(c, eaves), at(r2, ridge)]])
        shell.append([[at(d, eaves), at(a, eaves), at(r1, ridge)]])
        kinds += [2, 2]
    return shell, kinds


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


_SEMANTICS = {
    "GroundSurface": GROUND,
    "WallSurface": WALL,
    "RoofSurface": ROOF,
    "Window": WALL,
    "Door": WALL,
    "ClosureSurface": OTHER,
    "OuterCeilingSurface": OTHER,
    "OuterFloorSurface": OTHER,
}
_UNTYPED = 255  # typed from the surface's normal by BuildingSurfaces.build


def _surfaces(geometry: dict[str, Any]) -> tuple[list[Any], list[int]]:
    """Every surface (list of rings of vertex indices) of a CityJSON geometry, and its semantic type code
    (flattened level by level with list comprehensions: this runs once per building)."""
    kind = geometry["type"]
    boundaries = geometry.get("boundaries") or []
    if kind in ("MultiSurface", "CompositeSurface"):
        depth = 0
    elif kind == "Solid":
        depth = 1
    elif kind in ("MultiSolid", "CompositeSolid"):
        depth = 2
    else:
        return [], []
    surfaces, values = boundaries, (geometry.get("semantics") or {}).get("values")
    for _ in range(depth):
        if values is not None:
            values = [
                v
                for group, shells in zip(values, surfaces, strict=False)
                for v in (group if isinstance(group, list) else [None] * len(shells))
            ]
        surfaces = [inner for outer in surfaces for inner in outer]
    if values is None:
        return surfaces, [_UNTYPED] * len(surfaces)
    types = [_SEMANTICS.get(s.get("type"), OTHER) for s in geometry["semantics"].get("surfaces", [])]
    codes = [types[v] if isinstance(v, int) and 0 <= v < len(types) else _UNTYPED for v in values]
    return surfaces, codes + [_UNTYPED] * (len(surfaces) - len(codes))


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large JSON document is built: its many lists trigger
    collections that cannot free anything (a parsed document has no cycles) and take 2-3x the parse time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lod(value: Any) -> float:
    try:
        return float(str(value)[:3])
    except ValueError:
        return 0.0


def read_cityjson_surfaces(path: str | os.PathLike[str]) -> BuildingSurfaces:
    """Read the buildings of a CityJSON file as flat arrays (one pass, no geometry objects).

    Each Building / BuildingPart keeps the surfaces of its highest level of detail (typed by their
    semantics, else by their normal) and, as ``FOOTPRINT`` surfaces, its LOD0 surface or else its ground
    surfaces.

    Parameters
    ----------
    path : str or os.PathLike
        A CityJSON 1.x / 2.0 file (``.json`` / ``.city.json``).

    Returns
    -------
    BuildingSurfaces
        CRS from ``metadata.referenceSystem``.

    Raises
    ------
    VectorError
        If the file is not CityJSON.
    """
    with _no_cyclic_gc():  # the whole parse: JSON lists, then the flat lists built from them
        return _read_surfaces(path)


def _read_surfaces(path: str | os.PathLike[str]) -> BuildingSurfaces:
    with open(path, "rb") as handle:
        try:
            document = json.loads(handle.read())
        except ValueError as error:
            raise VectorError(f"{os.fspath(path)} is not CityJSON: {error}") from error
    if not isinstance(document, dict) or document.get("type") != "CityJSON":
        kind = document.get("type") if isinstance(document, dict) else type(document).__name__
        raise VectorError(f"{os.fspath(path)} is not CityJSON (type={kind!r})")
    transform = document.get("transform") or {"scale": [1, 1, 1], "translate": [0, 0, 0]}
    vertices = np.asarray(document.get("vertices", []), dtype=np.float64).reshape(-1, 3)
    vertices = vertices * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
    records: list[dict[str, Any]] = []
    indices: list[int] = []
    ring_sizes: list[int] = []
    surface_rings: list[int] = []
    surface_building: list[int] = []
    surface_type: list[int] = []

    def add(geometry: dict[str, Any], building: int, footprint: bool) -> int:
        added = 0
        surfaces, codes = _surfaces(geometry)
        for surface, code in zip(surfaces, codes, strict=True):
            count = 0
            for ring in surface:
                if len(ring) >= 3:
                    indices.extend(ring)
                    ring_sizes.append(len(ring))
                    count += 1
            if count:
                surface_rings.append(count)
                surface_building.append(building)
                surface_type.append(FOOTPRINT if footprint else code)
                added += 1
        return added

    for name, city_object in document.get("CityObjects", {}).items():
        if city_object.get("type") not in ("Building", "BuildingPart"):
            continue
        geometries = [g for g in city_object.get("geometry", []) if "lod" in g]
        if not geometries:
            continue
        levels = [_lod(g["lod"]) for g in geometries]
        top_level = max(levels)
        best = geometries[levels.index(top_level)]
        building = len(records)
        if not add(best, building, footprint=top_level < 1):
            continue
        if top_level >= 1:
            lod0 = [
                g for g, v in zip(geometries, levels, strict=True) if v < 1 and g["type"] == "MultiSurface"
            ]
            if lod0:
                add(lod0[0], building, footprint=True)
        lods = sorted({str(g["lod"]) for g in geometries}, key=_lod)
        record = dict(city_object.get("attributes") or {})
        record.update(id=name, lod=str(best["lod"]), lods=",".join(lods))
        records.append(record)
    order = np.asarray(indices, dtype=np.int64)
    if len(order) and (order.min() < 0 or order.max() >= len(vertices)):
        raise VectorError(f"{os.fspath(path)}: a boundary refers to a vertex that does not exist")
    return BuildingSurfaces.build(
        records,
        vertices[order],
        np.asarray(ring_sizes, dtype=np.int64),
        np.asarray(surface_rings, dtype=np.int64),
        np.asarray(surface_building, dtype=np.int64),
        np.asarray(surface_type, dtype=np.uint8),
        _crs(document),
    )


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
        read), ``lods`` (every level in the file), ``base_z`` and ``top_z`` (lowest and highest vertex,
        metres), ``roof`` (a 3D MultiPolygon of the roof surfaces: typed RoofSurface, else the upward faces
        of the highest LOD) and the 2D footprint as geometry (LOD0 surface, else the ground outline).
        CRS from ``metadata.referenceSystem``.

    Raises
    ------
    VectorError
        If the file is not CityJSON.
    """
    return read_cityjson_surfaces(path).to_geodataframe()


def _crs(document: dict[str, Any]) -> CRS | None:
    system = (document.get("metadata") or {}).get("referenceSystem")
    if not system:
        return None
    tail = str(system).rstrip("/").split("/")
    try:
        return CRS.from_epsg(int(tail[-1])) if tail[-1].isdigit() else CRS.from_user_input(system)
    except Exception:  # noqa: BLE001 - an unknown reference system leaves the CRS unset
        return None
