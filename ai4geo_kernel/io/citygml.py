"""Read CityGML 2.0 / 3.0 buildings (LOD0 footprints, LOD1 solids, LOD2 boundary surfaces) with lxml.

No maintained CityGML reader is on PyPI for this stack (citygml4j is Java; 3dcitydb needs a database);
GML polygons are read here from their ``gml:posList`` / ``gml:pos`` with lxml's XPath.
"""

from __future__ import annotations

import os
from typing import Any

import geopandas as gpd
import numpy as np
from lxml import etree
from pyproj import CRS

from ai4geo_kernel.errors import VectorError
from ai4geo_kernel.io.citymodel import FOOTPRINT, GROUND, OTHER, ROOF, WALL, BuildingSurfaces

__all__ = ["read_citygml", "read_citygml_surfaces"]

_GML = "http://www.opengis.net/gml"
_GML32 = "http://www.opengis.net/gml/3.2"


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _ring_coordinates(ring: etree._Element) -> np.ndarray:
    pos_list = [e for e in ring.iter() if _local(e.tag) == "posList"]
    if pos_list:
        values = np.asarray(pos_list[0].text.split(), dtype=np.float64)
        dimension = int(pos_list[0].get("srsDimension", "3"))
        return values.reshape(-1, dimension)
    points = [np.asarray(e.text.split(), dtype=np.float64) for e in ring.iter() if _local(e.tag) == "pos"]
    return np.asarray(points)


_KINDS = {
    "RoofSurface": ROOF,
    "WallSurface": WALL,
    "GroundSurface": GROUND,
    "ClosureSurface": OTHER,
    "OuterCeilingSurface": OTHER,
    "OuterFloorSurface": OTHER,
}
_UNTYPED = 255  # typed from the surface's normal by BuildingSurfaces.build


def read_citygml_surfaces(path: str | os.PathLike[str]) -> BuildingSurfaces:
    """Read the buildings of a CityGML 2.0 / 3.0 file as flat arrays.

    Each Building / BuildingPart keeps the polygons of its highest level of detail (``lod2MultiSurface``
    of its ``boundedBy`` RoofSurface / WallSurface / GroundSurface, ``lod2Solid``, ``lod1Solid``...), typed
    by the boundary surface they belong to (else by their normal), and its LOD0 footprint
    (``lod0FootPrint``) or else its ground surfaces as ``FOOTPRINT`` surfaces. Where typed surfaces exist
    at that level, untyped ones (a solid repeating them) are left out.

    Raises
    ------
    VectorError
        If the file is not XML.
    """
    try:
        tree = etree.parse(
            os.fspath(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        )
    except etree.XMLSyntaxError as error:
        raise VectorError(f"{os.fspath(path)} is not valid XML: {error}") from error
    root = tree.getroot()
    crs = None
    for element in root.iter():
        name = element.get("srsName")
        if name:
            try:
                crs = CRS.from_user_input(name.split("EPSG/0/")[-1] if "EPSG/0/" in name else name)
            except Exception:  # noqa: BLE001 - an unreadable srsName leaves the CRS unset
                crs = None
            break
    records: list[dict[str, Any]] = []
    rings_out: list[np.ndarray] = []
    surface_rings: list[int] = []
    surface_building: list[int] = []
    surface_type: list[int] = []
    for building in root.iter():
        if _local(building.tag) not in ("Building", "BuildingPart"):
            continue
        polygons: dict[str, list[tuple[list[np.ndarray], int, bool]]] = {}
        for element in building.iter():
            if _local(element.tag) != "Polygon":
                continue
            rings = _rings(element)
            if not rings:
                continue
            lod, kind, footprint, owner = None, _UNTYPED, False, None
            for ancestor in element.iterancestors():
                local = _local(ancestor.tag)
                if local in _KINDS and kind == _UNTYPED:
                    kind = _KINDS[local]
                if lod is None and local.startswith("lod") and local[3:4].isdigit():
                    lod = local[3]  # the nearest lodN... property
                    footprint = local == "lod0FootPrint"
                if local in ("Building", "BuildingPart"):
                    owner = ancestor
                    break
            if owner is not building:
                continue  # a BuildingPart's polygon: read with that part
            polygons.setdefault(lod or "1", []).append((rings, kind, footprint))
        if not polygons:
            continue
        best = max(polygons)
        faces = polygons[best]
        if best == "0":
            faces = [(rings, kind, True) for rings, kind, _ in faces]
        elif any(kind != _UNTYPED for _, kind, _ in faces):
            faces = [face for face in faces if face[1] != _UNTYPED]
        footprints = [face for face in polygons.get("0", []) if face[2]] if best != "0" else []
        index = len(records)
        for rings, kind, footprint in faces + [(r, k, True) for r, k, _ in footprints]:
            rings_out.extend(rings)
            surface_rings.append(len(rings))
            surface_building.append(index)
            surface_type.append(FOOTPRINT if footprint else kind)
        attributes: dict[str, Any] = {}
        for child in building:
            local = _local(child.tag)
            if local == "measuredHeight" and child.text:
                attributes["measuredHeight"] = float(child.text)
            elif local in ("stringAttribute", "doubleAttribute", "intAttribute", "genericAttribute"):
                value = next((e.text for e in child.iter() if _local(e.tag) == "value"), None)
                if child.get("name") and value is not None:
                    attributes[child.get("name")] = float(value) if local != "stringAttribute" else value
            elif local in ("roofType", "function", "class", "yearOfConstruction", "storeysAboveGround"):
                attributes[local] = child.text
        gml_id = building.get(f"{{{_GML}}}id") or building.get(f"{{{_GML32}}}id") or f"building-{index}"
        lods = sorted(polygons)
        records.append({**attributes, "id": gml_id, "lod": best, "lods": ",".join(lods)})
    return BuildingSurfaces.build(
        records,
        np.concatenate(rings_out) if rings_out else np.zeros((0, 3)),
        np.asarray([len(r) for r in rings_out], dtype=np.int64),
        np.asarray(surface_rings, dtype=np.int64),
        np.asarray(surface_building, dtype=np.int64),
        np.asarray(surface_type, dtype=np.uint8),
        crs,
    )


def read_citygml(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the buildings of a CityGML file.

    Parameters
    ----------
    path : str or os.PathLike
        A CityGML 2.0 or 3.0 file (``.gml``).

    Returns
    -------
    geopandas.GeoDataFrame
        The same columns as :func:`ai4geo_kernel.io.read_cityjson`: ``id``, generic and ``measuredHeight``
        attributes, ``lod``, ``lods``, ``base_z``, ``top_z``, ``roof`` (3D MultiPolygon) and the 2D
        footprint.

    Raises
    ------
    VectorError
        If the file is not XML.
    """
    return read_citygml_surfaces(path).to_geodataframe()


def _rings(element: etree._Element) -> list[np.ndarray]:
    """A gml:Polygon's rings (exterior first) as (n, 3) arrays without their closing vertex."""
    rings: list[np.ndarray] = []
    for child in element:
        if _local(child.tag) in ("exterior", "interior", "outerBoundaryIs", "innerBoundaryIs"):
            ring = _ring_coordinates(child)
            if ring.ndim != 2 or len(ring) < 3:
                continue
            if ring.shape[1] == 2:
                ring = np.column_stack([ring, np.zeros(len(ring))])
            if np.array_equal(ring[0], ring[-1]):
                ring = ring[:-1]
            if len(ring) >= 3:
                rings.append(ring[:, :3])
    return rings if rings and rings[0] is not None else []
