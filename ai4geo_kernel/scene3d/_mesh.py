"""glTF/GLB meshes for the scene: their extent in the scene's metric CRS and the arrays the browser draws.

A georeferenced mesh (:func:`ai4geo_kernel.io.read_gltf`: ``CESIUM_RTC``, ``asset.extras`` or sidecar
files) is placed in the scene frame like the other layers: its vertices are transformed in 3D (pyproj)
from the mesh's CRS to the frame's CRS and sent relative to the frame origin (x, y) with absolute heights.
A mesh in ECEF (EPSG:4978) or in geographic coordinates is shown in the UTM zone of its centre; its heights
are then ellipsoidal. A mesh without georeferencing is sent in its own frame, placed by the viewer at the
scene centre.

A large mesh is sent by level of detail, never whole at once first: level ``i`` is a quadric decimation
(``fast_simplification``, the Fast-Quadric-Mesh-Simplification library pyvista uses) to at most
``LEVEL_TRIANGLES[i]`` triangles, the last level the full mesh; a mesh under the first budget has one level.
The decimated levels are computed once per file version (each from the next finer one) and cached; their
vertex colours are those of the nearest original vertex and their normals are recomputed.
"""

from __future__ import annotations

import dataclasses
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import fast_simplification
import numpy as np
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from tqdm.auto import tqdm

from ai4geo_kernel.errors import MeshError
from ai4geo_kernel.io.gltf import TriangleMesh, georeferencing_sidecars, read_gltf
from ai4geo_kernel.scene3d._frame import SceneFrame, metric_crs

__all__ = ["LEVEL_TRIANGLES", "mesh_info", "mesh_arrays", "mesh_levels", "mesh_scene_crs"]

#: Triangle budgets of the decimated levels, coarsest first; the full mesh is the level after them.
LEVEL_TRIANGLES: tuple[int, ...] = (100_000, 400_000)


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


def mesh_levels(triangles: int) -> list[int]:
    """The most triangles of each level of a mesh of ``triangles`` triangles: the budgets of
    :data:`LEVEL_TRIANGLES` below it, then the full mesh (one level for a mesh under the first budget)."""
    return [budget for budget in LEVEL_TRIANGLES if budget < triangles] + [triangles]


def _vertex_normals(positions: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals. Written with numpy: no library of the stack computes them
    (trimesh, open3d and pyvista are not in it) and it is three lines."""
    corners = positions[indices]
    faces = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # 2 x area, outward
    normals = np.zeros_like(positions)
    np.add.at(normals, indices.ravel(), np.repeat(faces, 3, axis=0))
    return (normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _decimated(mesh: TriangleMesh, budget: int) -> TriangleMesh:
    """``mesh`` decimated to at most ``budget`` triangles (quadric error), in the same CRS and offset."""
    points = np.asarray(mesh.positions, dtype=np.float64)
    triangles = np.asarray(mesh.indices, dtype=np.int64)
    for _ in range(4):  # the simplifier may stop a little above its target: decimate the result again
        points, triangles = fast_simplification.simplify(points, triangles, target_count=budget)
        if len(triangles) <= budget:
            break
    if len(triangles) > budget:
        raise MeshError(f"could not decimate the mesh to {budget} triangles ({len(triangles)} left)")
    colors = None
    if mesh.colors is not None:  # the colour of the nearest original vertex
        _, nearest = cKDTree(np.asarray(mesh.positions, dtype=np.float64)).query(points)
        colors = np.asarray(mesh.colors, dtype=np.float32)[nearest]
    decimated = dataclasses.replace(
        mesh,
        positions=points.astype(np.float32),
        indices=triangles.astype(np.uint32),
        colors=colors,
        normals=_vertex_normals(points, triangles) if mesh.normals is not None else None,
    )
    for array in (decimated.positions, decimated.indices, decimated.colors, decimated.normals):
        if array is not None:
            array.flags.writeable = False
    return decimated


@lru_cache(maxsize=2)
def _levels_version(version: tuple[str, tuple[tuple[int, int] | None, ...]]) -> tuple[TriangleMesh, ...]:
    """Every level of one file version, coarsest first; each decimated level from the next finer one."""
    mesh = _read_version(version)
    budgets = mesh_levels(len(mesh.indices))[:-1]
    levels = [mesh]
    for budget in tqdm(budgets[::-1], desc="mesh levels", unit="level", disable=None):
        levels.append(_decimated(levels[-1], budget))
    return tuple(levels[::-1])


#: One decimation at a time: a second request for the levels of a version being decimated waits for them
#: (then hits the cache) instead of decimating the same mesh again beside it.
_DECIMATING = threading.Lock()


def _level(location: str, level: int | None) -> TriangleMesh:
    """Level ``level`` of a file (None: the full mesh); :class:`MeshError` outside its levels."""
    version = _version(location)
    mesh = _read_version(version)
    count = len(mesh_levels(len(mesh.indices)))
    if level is None or level == count - 1:
        return mesh
    if not 0 <= level < count:
        raise MeshError(f"level {level} is outside the mesh's levels 0-{count - 1}")
    with _DECIMATING:
        return _levels_version(version)[level]


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
    """Bounds (x, y), CRS, height range, triangle count and levels of a glTF/GLB file.

    For a georeferenced mesh ``bounds`` are in ``crs``, the metric CRS of :func:`mesh_scene_crs`; else in
    the mesh's own frame with ``crs`` None. ``levels`` is the number of levels of detail and
    ``level_triangles`` the most triangles of each (:func:`mesh_levels`; nothing is decimated here).
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
        "levels": len(mesh_levels(len(mesh.indices))),
        "level_triangles": mesh_levels(len(mesh.indices)),
        "georeferenced": mesh.georeferenced,
        "mesh_crs": mesh.crs.to_string() if mesh.crs is not None else None,
        "mesh_name": _name(mesh, location),
    }


def mesh_arrays(
    location: str, frame: SceneFrame | None = None, level: int | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Meta and arrays (positions, indices, colours, normals) of a glTF/GLB mesh at one level of detail.

    A georeferenced mesh is placed in ``frame``: positions relative to its origin, absolute heights. A mesh
    without georeferencing (or with no ``frame``) is sent in its own frame. ``level`` is one of
    :func:`mesh_levels` (0 the coarsest; None the full mesh); :class:`MeshError` outside them.
    """
    mesh = _level(location, level)
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
        "level": len(mesh_levels(len(_read(location).indices))) - 1 if level is None else level,
        "georeferenced": placed,
        "name": _name(mesh, location),
        "zmin": float(positions[:, 2].min()),
        "zmax": float(positions[:, 2].max()),
    }
    return meta, arrays
