"""What the 3D viewer's server endpoints answer, for files under a root folder (paths checked with
:func:`ai4geo_kernel.tiles.resolve_path`): layer info, terrain tiles, point levels, buildings, meshes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import rasterio

from ai4geo_kernel.errors import MissingCRSError, VectorError
from ai4geo_kernel.io.pointcloud import POINT_CLOUD_SUFFIXES, point_cloud_info
from ai4geo_kernel.scene3d._buildings import BUILDING_SUFFIXES, buildings_payload, read_buildings
from ai4geo_kernel.scene3d._encoding import pack_arrays
from ai4geo_kernel.scene3d._frame import SceneFrame, metric_crs
from ai4geo_kernel.scene3d._mesh import mesh_arrays, mesh_info
from ai4geo_kernel.scene3d._points import point_tile, point_tile_index
from ai4geo_kernel.scene3d._terrain import TERRAIN_SAMPLES, drape_kind, terrain_levels, terrain_tile
from ai4geo_kernel.tiles._paths import resolve_path

__all__ = ["Scene3DService", "layer_kind", "RASTER_SUFFIXES", "MESH_SUFFIXES"]

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt")
MESH_SUFFIXES = (".glb", ".gltf")


def layer_kind(path: str) -> str:
    """``terrain``, ``buildings``, ``points`` or ``mesh`` from the file name."""
    name = Path(path).name.lower()
    if name.endswith(RASTER_SUFFIXES):
        return "terrain"
    if name.endswith(POINT_CLOUD_SUFFIXES):
        return "points"
    if name.endswith(MESH_SUFFIXES):
        return "mesh"
    if name.endswith(BUILDING_SUFFIXES) or name.endswith(".json"):
        return "buildings"
    raise VectorError(f"the 3D viewer does not open {Path(path).name}")


class Scene3DService:
    """3D layers of files under ``root`` (the Jupyter server's root); remote URLs are not read."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def locate(self, path: str) -> str:
        """The checked absolute path (``PathNotAllowedError`` / ``FileNotFoundError`` otherwise)."""
        return resolve_path(self.root, path)

    def info(self, path: str) -> dict[str, Any]:
        """Kind, suggested scene frame (metric CRS, centre), bounds, levels and classes of a layer."""
        location = self.locate(path)
        kind = layer_kind(location)
        answer: dict[str, Any] = {"path": path, "kind": kind, "name": Path(path).name}
        if kind == "terrain":
            with rasterio.open(location) as dataset:
                if dataset.crs is None:
                    raise MissingCRSError(f"{path} has no CRS")
                bounds = tuple(dataset.bounds)
                crs = metric_crs(dataset.crs, bounds)
                levels = terrain_levels(dataset.width, dataset.height)
                overview = dataset.read(1, out_shape=(64, 64), masked=True)
                answer.update(
                    width=dataset.width,
                    height=dataset.height,
                    levels=levels,
                    samples=TERRAIN_SAMPLES,
                    drape=drape_kind(dataset),
                    zmin=float(overview.min()) if overview.count() else 0.0,
                    zmax=float(overview.max()) if overview.count() else 0.0,
                )
                if drape_kind(dataset) == "classes":
                    answer["classes"] = sorted(int(v) for v in np.unique(overview.compressed()))
                source_crs = dataset.crs
        elif kind == "points":
            info = point_cloud_info(location)
            index = point_tile_index(location)  # one streamed pass the first time, then cached
            bounds = index.bounds
            source_crs = info.crs
            crs = metric_crs(info.crs, bounds) if info.crs is not None else None
            answer.update(
                count=index.count,
                levels=index.levels,
                tile_points=index.tile_points,
                classes=list(index.classes),
                zmin=index.zrange[0],
                zmax=index.zrange[1],
                rgb=info.has_rgb,
                classification=info.has_classification,
            )
        elif kind == "buildings":
            surfaces = read_buildings(location)  # parsed once, kept for the buildings request
            bounds = surfaces.bounds
            source_crs = surfaces.crs
            crs = metric_crs(source_crs, bounds) if source_crs is not None else None
            table = surfaces.table
            answer.update(
                count=len(table),
                zmin=float(table["base_z"].min()) if len(table) else 0.0,
                zmax=float(table["top_z"].max()) if len(table) else 0.0,
            )
        else:
            mesh = mesh_info(location)
            bounds, source_crs = mesh.pop("bounds"), mesh.pop("crs")
            crs = metric_crs(source_crs, bounds) if source_crs is not None else None
            answer.update(mesh)
        if crs is not None and source_crs is not None:
            from pyproj import Transformer

            local = Transformer.from_crs(source_crs, crs, always_xy=True).transform_bounds(*bounds)
            answer["crs"] = crs.to_string()
            answer["bounds"] = list(local)
        else:
            answer["crs"] = None
            answer["bounds"] = list(bounds)
        return answer

    def terrain(
        self, path: str, level: int, x: int, y: int, frame: SceneFrame, *, drape: str | None = None
    ) -> bytes:
        """One terrain tile, framed (:func:`pack_arrays`)."""
        location = self.locate(path)
        drape_location = self.locate(drape) if drape else None
        meta, arrays = terrain_tile(location, level, x, y, frame, drape=drape_location)
        return pack_arrays(meta, arrays)

    def points(self, path: str, level: int, x: int, y: int, frame: SceneFrame) -> bytes:
        """One tile of a point cloud (:func:`point_tile`: bounded by one chunk plus one tile), framed."""
        meta, arrays = point_tile(self.locate(path), level, x, y, frame)
        return pack_arrays(meta, arrays)

    def buildings(self, path: str, frame: SceneFrame) -> bytes:
        """Footprints to extrude, LOD2 surfaces and attribute table, framed (:func:`buildings_payload`)."""
        meta, arrays = buildings_payload(read_buildings(self.locate(path)), frame)
        return pack_arrays(meta, arrays)

    def mesh(self, path: str, frame: SceneFrame | None = None, level: int | None = None) -> bytes:
        """A glTF/GLB mesh at one level of detail (:func:`mesh_arrays`; None: the full mesh), framed:
        placed in ``frame`` when georeferenced, else in its own frame."""
        meta, arrays = mesh_arrays(self.locate(path), frame, level)
        return pack_arrays(meta, arrays)
