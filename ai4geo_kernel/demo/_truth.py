"""Ground truth: building footprints (GeoPackage, GeoJSON), land-cover maps, the change map and its areas.

Rasters are written by the generator through :func:`ai4geo_kernel.io.write_cog`; this module computes
them and writes the vector files (atomically).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio

from ai4geo_kernel.demo._changes import ChangeEvent
from ai4geo_kernel.demo._grid import CRS, S2_RESOLUTION, AreaGrid
from ai4geo_kernel.demo._landcover import LANDCOVER_CLASSES
from ai4geo_kernel.demo._scene import ROOF_MATERIALS, Building
from ai4geo_kernel.io import atomic_path

__all__ = [
    "FIXED_TIMESTAMP",
    "buildings_frame",
    "write_buildings",
    "landcover_majority",
    "change_map",
    "changes_frame",
    "write_geojson",
    "write_json",
]

#: Timestamp GDAL writes into GeoPackages (instead of "now"), so that files are reproducible.
FIXED_TIMESTAMP = "2024-12-31T00:00:00Z"


def buildings_frame(buildings: tuple[Building, ...], grid: AreaGrid) -> gpd.GeoDataFrame:
    """Building footprints in EPSG:32631 with their attributes.

    Columns: ``id``, ``height`` (ridge, m above ground), ``eaves_height`` (m), ``roof_type``
    (``flat``/``gable``/``hip``), ``ground_elevation`` (m a.s.l.), ``roof_material``, ``area`` (m2).
    """
    geometries = [grid.to_utm(b.footprint) for b in buildings]
    return gpd.GeoDataFrame(
        {
            "id": np.array([b.id for b in buildings], dtype=np.int32),
            "height": np.array([b.height for b in buildings], dtype=np.float64),
            "eaves_height": np.array([b.eaves_height for b in buildings], dtype=np.float64),
            "roof_type": [b.roof_type for b in buildings],
            "ground_elevation": np.array([b.ground_elevation for b in buildings], dtype=np.float64),
            "roof_material": [ROOF_MATERIALS[b.material] for b in buildings],
            "area": np.round([g.area for g in geometries], 2),
        },
        geometry=geometries,
        crs=CRS,
    )


def write_buildings(frame: gpd.GeoDataFrame, gpkg: Path, geojson: Path) -> None:
    """Write the footprints as a GeoPackage (EPSG:32631, layer ``buildings``) and as GeoJSON (WGS84)."""
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        with atomic_path(gpkg) as tmp:
            tmp.unlink()
            frame.to_file(tmp, driver="GPKG", layer="buildings", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    write_geojson(frame.to_crs("EPSG:4326"), geojson, layer="buildings")


def write_geojson(frame: gpd.GeoDataFrame, path: Path, *, layer: str) -> None:
    """Write a WGS84 GeoDataFrame as an RFC 7946 GeoJSON file (7 decimals) named ``layer``, atomically."""
    with atomic_path(path) as tmp:
        tmp.unlink()
        frame.to_file(
            tmp,
            driver="GeoJSON",
            layer=layer,
            engine="pyogrio",
            layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": 7},
        )


def write_json(content: Any, path: str | os.PathLike[str]) -> None:
    """Write JSON (indented, keys in order), atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def landcover_majority(landcover: np.ndarray) -> np.ndarray:
    """The 10 m land cover: the most frequent class of each 10 x 10 block (ties: the lower value)."""
    k = S2_RESOLUTION
    n = landcover.shape[0] // k
    blocks = landcover.reshape(n, k, n, k)
    values = [c.value for c in LANDCOVER_CLASSES]
    counts = np.stack([(blocks == v).sum(axis=(1, 3)) for v in values])
    return np.asarray(values, dtype=np.uint8)[counts.argmax(axis=0)]


def change_map(events: tuple[ChangeEvent, ...], size_10m: int) -> np.ndarray:
    """The 10 m change map: band 1 the 1-based date index of the change (0: none), band 2 its kind code."""
    out = np.zeros((2, size_10m, size_10m), dtype=np.uint8)
    for event in events:
        rows, cols = event.site.slices(resolution=S2_RESOLUTION)
        out[0, rows, cols] = event.date_index
        out[1, rows, cols] = event.kind_code
    return out


def changes_frame(events: tuple[ChangeEvent, ...], grid: AreaGrid) -> gpd.GeoDataFrame:
    """The change areas in WGS84 with their kind, cause, date and amplitudes of change."""
    frame = gpd.GeoDataFrame(
        {
            "id": np.array([e.id for e in events], dtype=np.int32),
            "kind": [e.kind for e in events],
            "cause": [e.cause for e in events],
            "direction": [e.direction for e in events],
            "kind_code": np.array([e.kind_code for e in events], dtype=np.int32),
            "date": [e.date.strftime("%Y-%m-%dT%H:%M:%SZ") for e in events],
            "date_index": np.array([e.date_index for e in events], dtype=np.int32),
            "amplitude_db_vv": np.array([e.amplitude_db_vv for e in events], dtype=np.float64),
            "amplitude_db_vh": np.array([e.amplitude_db_vh for e in events], dtype=np.float64),
        },
        geometry=[grid.to_utm(e.polygon) for e in events],
        crs=CRS,
    )
    return frame.to_crs("EPSG:4326")
