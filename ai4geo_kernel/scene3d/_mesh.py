"""glTF/GLB meshes for the scene: their extent in the scene's metric CRS and the arrays the browser draws.

A georeferenced mesh (:func:`ai4geo_kernel.io.read_gltf`: ``CESIUM_RTC``, ``asset.extras`` or sidecar
files) is placed in the scene frame like the other layers: its vertices are transformed in 3D (pyproj)
from the mesh's CRS to the frame's CRS and sent relative to the frame origin (x, y) with absolute heights.
A mesh in ECEF (EPSG:4978) or in geographic coordinates is shown in the UTM zone of its centre; its heights
are then ellipsoidal. A mesh without georeferencing is sent in its own frame, placed by the viewer at the
scene centre.

No mesh simplifier (fast_simplification, pyfqmr, meshoptimizer, open3d, trimesh) is in the stack, so a
mesh is sent whole, in one payload.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS, Transformer

from ai4geo_kernel.io.gltf import TriangleMesh, georeferencing_sidecars, read_gltf
from ai4geo_kernel.scene3d._frame import SceneFrame, metric_crs

__all__ = ["mesh_info", "mesh_arrays", "mesh_scene_crs"]


def _version(location: str) -> tuple[str, tuple[tuple[int, int] | None, ...]]:
    """The file and its georeferencing sidecars' modification times and sizes (None: absent)."""
    path = Path(location).resolve()
    stats: list[tuple[int, int] | None] = []
    for candidate in (path, *georeferencing_sidecars(path)):
        try:
            stat = candidate.stat()
            stats.append((stat.st_mtime_ns, stat.st_size))
        except FileNotFoundError:
            stats.append(None)
    return str(path), tuple(stats)


@lru_cache(maxsize=4)
def _read_version(version: tuple[str, tuple[tuple[int, int] | None, ...]]) -> TriangleMesh:
    mesh = read_gltf(version[0])
    for array in (mesh.positions, mesh.indices, mesh.colors, mesh.normals):
        if array is not None:
            array.flags.writeable = False
    return mesh


def _read(location: str) -> TriangleMesh:
    """:func:`read_gltf`, shared between the info and the mesh requests of one file version (read-only
    arrays; the last 4 versions kept, a changed file or sidecar is read again)."""
    return _read_version(_version(location))


def mesh_scene_crs(mesh: TriangleMesh) -> CRS | None:
    """The metric CRS a georeferenced mesh is shown in (its own when projected, else a UTM zone)."""
    if mesh.crs is None:
        return None
    crs = CRS.from_user_input(mesh.crs)
    if crs.is_projected:
        return crs
    x, y, z = mesh.offset
    if crs.is_geocentric:
        x, y, _ = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(x, y, z)
        crs = crs.geodetic_crs
    return metric_crs(crs, (x, y, x, y))


def _transformed(mesh: TriangleMesh, target: CRS, shift: np.ndarray | None = None) -> np.ndarray:
    """``(n, 3)`` float64 world coordinates of ``mesh`` (plus ``shift``, metres along the mesh CRS's axes)
    in ``target`` (3D transform)."""
    world = mesh.world() if shift is None else mesh.world() + shift
    source = CRS.from_user_input(mesh.crs)
    if source.equals(target):
        return world
    x, y, z = Transformer.from_crs(source, target, always_xy=True).transform(
        world[:, 0], world[:, 1], world[:, 2]
    )
    return np.column_stack([x, y, z])


def _turned_normals(mesh: TriangleMesh, target: CRS, placed: np.ndarray) -> np.ndarray:
    """The unit normals of ``mesh`` along ``target``'s axes: each vertex moved 1 m along its normal, through
    the same transform, minus the vertex (e.g. ECEF axes turned to east / north / up, grid convergence
    included)."""
    moved = _transformed(mesh, target, np.asarray(mesh.normals, dtype=np.float64))
    turned = moved - placed
    return (turned / np.maximum(np.linalg.norm(turned, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _name(mesh: TriangleMesh, location: str) -> str:
    return mesh.name or Path(location).stem


def mesh_info(location: str) -> dict[str, Any]:
    """Bounds (x, y), CRS, height range and triangle count of a glTF/GLB file.

    For a georeferenced mesh ``bounds`` are in ``crs``, the metric CRS of :func:`mesh_scene_crs`; else in
    the mesh's own frame with ``crs`` None.
    """
    mesh = _read(location)
    crs = mesh_scene_crs(mesh)
    world = _transformed(mesh, crs) if crs is not None else mesh.positions.astype(np.float64)
    low, high = world.min(axis=0), world.max(axis=0)
    return {
        "bounds": (float(low[0]), float(low[1]), float(high[0]), float(high[1])),
        "crs": crs,
        "zmin": float(low[2]),
        "zmax": float(high[2]),
        "triangles": int(len(mesh.indices)),
        "georeferenced": mesh.georeferenced,
        "mesh_crs": mesh.crs.to_string() if mesh.crs is not None else None,
        "mesh_name": _name(mesh, location),
    }


def mesh_arrays(
    location: str, frame: SceneFrame | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Meta and arrays (positions, indices, colours, normals) of a glTF/GLB mesh.

    A georeferenced mesh is placed in ``frame``: positions relative to its origin, absolute heights. A mesh
    without georeferencing (or with no ``frame``) is sent in its own frame.
    """
    mesh = _read(location)
    placed = mesh.georeferenced and frame is not None
    normals = mesh.normals
    if placed:
        world = _transformed(mesh, frame.crs)  # type: ignore[union-attr]
        if normals is not None and not CRS.from_user_input(mesh.crs).equals(frame.crs):  # type: ignore[union-attr]
            normals = _turned_normals(mesh, frame.crs, world)  # type: ignore[union-attr]
        world[:, 0] -= frame.origin[0]  # type: ignore[union-attr]
        world[:, 1] -= frame.origin[1]  # type: ignore[union-attr]
        positions = world.astype(np.float32)
    else:
        positions = mesh.positions.astype(np.float32)
    arrays = {
        "positions": positions,
        "indices": mesh.indices.astype(np.uint32),
        "colors": mesh.colors if mesh.colors is not None else np.full_like(positions, 0.8),
    }
    if normals is not None:
        arrays["normals"] = normals
    meta = {
        "triangles": int(len(mesh.indices)),
        "georeferenced": placed,
        "name": _name(mesh, location),
        "zmin": float(positions[:, 2].min()),
        "zmax": float(positions[:, 2].max()),
    }
    return meta, arrays
