"""3D scenes: terrain by level of detail, buildings, point clouds and meshes for the WebGL viewer.

The Jupyter server extension ``extensions/viewer3d`` answers the browser through :class:`Scene3DService`;
:func:`ai4geo_kernel.viz.show3d` builds the same payloads in a notebook. Every layer is placed in one
:class:`SceneFrame` (a metric CRS and an origin) so that layers overlay.
"""

from __future__ import annotations

from ai4geo_kernel.scene3d._buildings import (
    BUILDING_SUFFIXES,
    buildings_payload,
    read_buildings,
    with_heights,
)
from ai4geo_kernel.scene3d._demo import DemoScene, dsm_point_cloud, write_demo_scene
from ai4geo_kernel.scene3d._encoding import pack_arrays, unpack_arrays
from ai4geo_kernel.scene3d._frame import SceneFrame, metric_crs
from ai4geo_kernel.scene3d._mesh import LEVEL_TRIANGLES, mesh_levels
from ai4geo_kernel.scene3d._points import (
    POINTS_CHUNK,
    POINTS_FIRST_LEVEL,
    POINTS_PER_TILE,
    PointTileIndex,
    point_level,
    point_levels,
    point_tile,
    point_tile_bounds,
    point_tile_index,
    points_payload,
)
from ai4geo_kernel.scene3d._service import MESH_SUFFIXES, RASTER_SUFFIXES, Scene3DService, layer_kind
from ai4geo_kernel.scene3d._terrain import TERRAIN_SAMPLES, grid_mesh, terrain_levels, terrain_tile

__all__ = [
    "Scene3DService",
    "SceneFrame",
    "metric_crs",
    "layer_kind",
    "terrain_tile",
    "terrain_levels",
    "grid_mesh",
    "point_level",
    "point_levels",
    "point_tile",
    "point_tile_bounds",
    "point_tile_index",
    "PointTileIndex",
    "points_payload",
    "read_buildings",
    "with_heights",
    "buildings_payload",
    "pack_arrays",
    "unpack_arrays",
    "write_demo_scene",
    "dsm_point_cloud",
    "DemoScene",
    "TERRAIN_SAMPLES",
    "POINTS_FIRST_LEVEL",
    "POINTS_PER_TILE",
    "POINTS_CHUNK",
    "BUILDING_SUFFIXES",
    "RASTER_SUFFIXES",
    "MESH_SUFFIXES",
    "LEVEL_TRIANGLES",
    "mesh_levels",
]
