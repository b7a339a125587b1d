"""Point clouds by level: level 0 is a uniform stride through the file, each next level adds the points
halfway between the previous ones, so drawing levels 0..k shows 2**k times more points and the last
level completes the cloud. Each level is one streamed pass over the file (bounded memory)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pyproj import CRS

from ai4geo_kernel.io.pointcloud import PointCloudInfo, iter_points, point_cloud_info
from ai4geo_kernel.scene3d._frame import SceneFrame

__all__ = ["POINTS_FIRST_LEVEL", "point_levels", "point_level", "points_payload"]

#: About how many points level 0 holds.
POINTS_FIRST_LEVEL = 200_000


def point_levels(count: int, *, first: int = POINTS_FIRST_LEVEL) -> int:
    """Number of levels for ``count`` points (1 when the cloud is small)."""
    return max(1, math.ceil(math.log2(max(count, 1) / first)) + 1)


def _selected(indices: np.ndarray, level: int, levels: int) -> np.ndarray:
    stride = 2 ** (levels - 1)
    step = stride >> level
    if level == 0:
        return indices % stride == 0
    return (indices % step == 0) & (indices % (step * 2) != 0)


def points_payload(
    xyz: np.ndarray,
    rgb: np.ndarray | None,
    classification: np.ndarray | None,
    crs: CRS | None,
    frame: SceneFrame,
) -> dict[str, np.ndarray]:
    """Arrays the browser draws: positions relative to the origin, optional colours and classes."""
    lx, ly = frame.local(crs if crs is not None else frame.crs, xyz[:, 0], xyz[:, 1])
    arrays = {"positions": np.column_stack([lx, ly, xyz[:, 2].astype(np.float32)])}
    if rgb is not None:
        arrays["rgb"] = np.ascontiguousarray(rgb, dtype=np.uint8)
    if classification is not None:
        arrays["classes"] = np.ascontiguousarray(classification, dtype=np.uint8)
    return arrays


def point_level(
    path: str,
    level: int,
    frame: SceneFrame,
    *,
    info: PointCloudInfo | None = None,
    first: int = POINTS_FIRST_LEVEL,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The points of ``level`` (see the module docstring), positioned in ``frame``.

    A PLY file has no CRS: its coordinates are taken as the scene CRS.
    """
    info = info or point_cloud_info(path)
    levels = point_levels(info.count, first=first)
    if not 0 <= level < levels:
        raise ValueError(f"level {level} is outside 0..{levels - 1}")
    parts: dict[str, list[np.ndarray]] = {"xyz": [], "rgb": [], "classes": []}
    for chunk in iter_points(path):
        keep = _selected(np.arange(chunk.start, chunk.start + len(chunk.xyz)), level, levels)
        parts["xyz"].append(chunk.xyz[keep])
        if chunk.rgb is not None:
            parts["rgb"].append(chunk.rgb[keep])
        if chunk.classification is not None:
            parts["classes"].append(chunk.classification[keep])
    xyz = np.vstack(parts["xyz"]) if parts["xyz"] else np.zeros((0, 3))
    rgb = np.vstack(parts["rgb"]) if parts["rgb"] else None
    classes = np.concatenate(parts["classes"]) if parts["classes"] else None
    meta = {
        "level": level,
        "levels": levels,
        "count": int(len(xyz)),
        "total": info.count,
        "zmin": info.bounds[2],
        "zmax": info.bounds[5],
    }
    return meta, points_payload(xyz, rgb, classes, info.crs, frame)
