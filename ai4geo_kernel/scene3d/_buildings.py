"""Buildings for the scene: footprints extruded from ``base`` to ``top`` (LOD0/LOD1), plus roof surfaces
(LOD2), from CityJSON, CityGML or a vector file of footprints with a height column."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from ai4geo_kernel.errors import VectorError
from ai4geo_kernel.io.citygml import read_citygml
from ai4geo_kernel.io.cityjson import read_cityjson
from ai4geo_kernel.scene3d._frame import SceneFrame

__all__ = ["read_buildings", "with_heights", "buildings_payload", "BUILDING_SUFFIXES"]

BUILDING_SUFFIXES = (".city.json", ".cityjson", ".gml", ".gpkg", ".geojson", ".fgb")
_HEIGHTS = ("height", "measuredHeight", "hauteur", "HAUTEUR", "building:height")


def read_buildings(path: str) -> gpd.GeoDataFrame:
    """Read buildings with ``base_z`` / ``top_z`` from CityJSON, CityGML or footprints with heights."""
    name = Path(path).name.lower()
    if name.endswith((".city.json", ".cityjson")) or (name.endswith(".json") and _is_cityjson(path)):
        return read_cityjson(path)
    if name.endswith((".gml", ".xml")):
        return read_citygml(path)
    return with_heights(gpd.read_file(path), name=path)


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


def _value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def buildings_payload(buildings: gpd.GeoDataFrame, frame: SceneFrame) -> dict[str, Any]:
    """JSON the browser extrudes: per building ``id``, ``attributes``, ``polygons`` (rings of [x, y] relative
    to the origin), ``base``, ``top`` and ``roofs`` (rings of [x, y, z]) when LOD2 roofs exist."""
    crs = buildings.crs
    skip = {buildings.geometry.name, "roof"}
    columns = [c for c in buildings.columns if c not in skip]
    features = []
    for row in buildings.itertuples(index=False):
        record = row._asdict()
        geometry = record.get(buildings.geometry.name)
        polygons = [geometry] if isinstance(geometry, Polygon) else list(getattr(geometry, "geoms", []))
        rings_out = []
        for polygon in polygons:
            if not isinstance(polygon, Polygon) or polygon.is_empty:
                continue
            rings = []
            for ring in (polygon.exterior, *polygon.interiors):
                xy = np.asarray(ring.coords)[:, :2]
                lx, ly = frame.local(crs, xy[:, 0], xy[:, 1])
                rings.append(np.round(np.column_stack([lx, ly]), 3).tolist())
            rings_out.append(rings)
        if not rings_out:
            continue
        roofs = []
        roof = record.get("roof")
        if isinstance(roof, MultiPolygon):
            for polygon in roof.geoms:
                xyz = np.asarray(polygon.exterior.coords)
                lx, ly = frame.local(crs, xyz[:, 0], xyz[:, 1])
                roofs.append(np.round(np.column_stack([lx, ly, xyz[:, 2]]), 3).tolist())
        attributes = {c: _value(record[c]) for c in columns if c not in ("base_z", "top_z")}
        features.append(
            {
                "id": str(record.get("id")),
                "attributes": attributes,
                "polygons": rings_out,
                "base": float(record["base_z"]),
                "top": float(record["top_z"]),
                "roofs": roofs,
            }
        )
    numeric = [
        c for c in columns if c not in ("id",) and np.issubdtype(np.asarray(buildings[c]).dtype, np.number)
    ]
    categorical = [
        c for c in columns if c not in numeric and c not in ("id", "lod") and buildings[c].nunique() <= 32
    ]
    return {
        "features": features,
        "numeric": numeric,
        "categorical": categorical,
        "lods": sorted({str(v) for v in buildings.get("lod", [])}),
    }
