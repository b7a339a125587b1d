"""Read CityGML 2.0 / 3.0 buildings (LOD0 footprints, LOD1 solids, LOD2 boundary surfaces) with lxml.

No maintained CityGML reader is on PyPI for this stack (citygml4j is Java; 3dcitydb needs a database);
GML polygons are read here from their ``gml:posList`` / ``gml:pos`` with lxml's XPath.
"""

from __future__ import annotations

import os
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from lxml import etree
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon

from ai4geo_kernel.errors import VectorError

__all__ = ["read_citygml"]

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


def _polygon(element: etree._Element) -> Polygon | None:
    exterior = interiors = None
    rings: list[np.ndarray] = []
    for child in element:
        if _local(child.tag) in ("exterior", "interior", "outerBoundaryIs", "innerBoundaryIs"):
            rings.append(_ring_coordinates(child))
    if not rings or len(rings[0]) < 3:
        return None
    exterior, interiors = rings[0], rings[1:]
    if exterior.shape[1] == 2:
        exterior = np.column_stack([exterior, np.zeros(len(exterior))])
    return Polygon(exterior, [r for r in interiors if len(r) >= 3])


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
        attributes, ``lod``, ``base_z``, ``top_z``, ``roof`` (3D MultiPolygon) and the 2D footprint.

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
    rows: list[dict[str, Any]] = []
    for building in root.iter():
        if _local(building.tag) not in ("Building", "BuildingPart"):
            continue
        polygons: dict[str, list[tuple[Polygon, str]]] = {}
        for element in building.iter():
            if _local(element.tag) != "Polygon":
                continue
            polygon = _polygon(element)
            if polygon is None:
                continue
            lod, kind = "1", None
            for ancestor in element.iterancestors():
                local = _local(ancestor.tag)
                if local in ("RoofSurface", "WallSurface", "GroundSurface") and kind is None:
                    kind = local
                if local.startswith("lod") and local[3:4].isdigit():
                    lod = local[3]
                    break
            polygons.setdefault(lod, []).append((polygon, kind or ""))
        if not polygons:
            continue
        best = max(polygons)
        faces = polygons[best]
        coordinates = np.vstack([np.asarray(p.exterior.coords) for p, _ in faces])
        roofs = [p for p, k in faces if k == "RoofSurface" or (not k and _up(p) > 0.3)]
        grounds = [p for p, k in faces if k == "GroundSurface" or (not k and _up(p) < -0.3)]
        if "0" in polygons:
            grounds = [p for p, _ in polygons["0"]]
        footprint = shapely.union_all([shapely.force_2d(p) for p in grounds or roofs])
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
        gml_id = building.get(f"{{{_GML}}}id") or building.get(f"{{{_GML32}}}id") or f"building-{len(rows)}"
        rows.append(
            {
                **attributes,
                "id": gml_id,
                "lod": best,
                "base_z": float(coordinates[:, 2].min()),
                "top_z": float(coordinates[:, 2].max()),
                "roof": MultiPolygon(roofs) if roofs else None,
                "geometry": footprint,
            }
        )
    if not rows:
        return gpd.GeoDataFrame(
            {"id": [], "lod": [], "base_z": [], "top_z": [], "roof": []}, geometry=[], crs=crs
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def _up(polygon: Polygon) -> float:
    ring = np.asarray(polygon.exterior.coords)[:-1]
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
