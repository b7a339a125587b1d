"""Raster and file output: Cloud-Optimized GeoTIFFs and atomic writes.

- :func:`write_cog`: write a numpy array or an xarray DataArray as a Cloud-Optimized GeoTIFF, atomically.
- :func:`atomic_path`: write any file through a temporary sibling renamed into place at the end.
- 3D: :func:`write_cityjson` / :func:`read_cityjson`, :func:`read_citygml` (and their flat-array
  :class:`BuildingSurfaces` readers), :func:`write_glb` /
  :func:`read_gltf`, point clouds (:func:`iter_points`, :func:`write_las`, :func:`write_ply`).
"""

from __future__ import annotations

from ai4geo_kernel.io.atomic import atomic_path
from ai4geo_kernel.io.citygml import read_citygml, read_citygml_surfaces
from ai4geo_kernel.io.cityjson import read_cityjson, read_cityjson_surfaces, write_cityjson
from ai4geo_kernel.io.citymodel import SURFACE_TYPES, BuildingSurfaces
from ai4geo_kernel.io.cog import write_cog
from ai4geo_kernel.io.gltf import TriangleMesh, read_gltf, write_glb
from ai4geo_kernel.io.pointcloud import (
    POINT_CLOUD_SUFFIXES,
    PointChunk,
    PointCloudInfo,
    iter_point_ranges,
    iter_points,
    point_cloud_info,
    read_point_range,
    write_las,
    write_ply,
)

__all__ = [
    "atomic_path",
    "write_cog",
    "write_cityjson",
    "read_cityjson",
    "read_citygml",
    "read_cityjson_surfaces",
    "read_citygml_surfaces",
    "BuildingSurfaces",
    "SURFACE_TYPES",
    "TriangleMesh",
    "write_glb",
    "read_gltf",
    "PointChunk",
    "PointCloudInfo",
    "POINT_CLOUD_SUFFIXES",
    "iter_points",
    "iter_point_ranges",
    "point_cloud_info",
    "read_point_range",
    "write_las",
    "write_ply",
]
