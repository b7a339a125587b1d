"""Point clouds for the 3D viewer, in bounded memory on the server and in the browser.

Tiles (what the Lab viewer asks for): a quadtree over the cloud's xy bounds, like the terrain's: level
``L`` has ``2**L x 2**L`` tiles, ``x`` from the west and ``y`` from the north. A point of file index ``i``
belongs to exactly one level, the coarsest ``L`` whose stride ``4**(levels - 1 - L)`` divides ``i``, and
to exactly one tile of that level (the one its xy falls in), so drawing the tiles of levels ``0..L`` over a
region shows the points of index ``i % 4**(levels - 1 - L) == 0`` there: each level is 4 times denser,
like the 4 times more tiles, and a tile holds about as many points at every level. ``levels`` is the
smallest depth whose densest tile (from a per-file grid of counts) holds at most ``tile_points`` points.

A tile is answered from the file chunk by chunk, reading only the level's stride where the format allows
(uncompressed LAS and PLY through a memory map): a small per-file index (:class:`PointTileIndex`: the xy
bounds of each chunk of points and a coarse grid of counts, built in one streamed pass and cached by path,
modification time and size) says which chunks can hold points of the tile; only those are read, and the
server holds one chunk plus one tile. A tile never returns more than ``4 * tile_points`` points: where the
index underestimates a clump, the tile is thinned by a power-of-two stride (``meta["thinned"]``).

Levels (:func:`point_level`): the whole cloud in levels of uniform stride, each one read in one streamed pass;
a level is gathered whole in memory, so it is for small clouds and peers (the tiles above are for the server).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pyproj import CRS
from tqdm.auto import tqdm

from ai4geo_kernel.io.pointcloud import PointCloudInfo, iter_point_ranges, iter_points, point_cloud_info
from ai4geo_kernel.scene3d._frame import SceneFrame

__all__ = [
    "POINTS_FIRST_LEVEL",
    "POINTS_PER_TILE",
    "POINTS_CHUNK",
    "PointTileIndex",
    "point_tile_index",
    "point_tile",
    "point_tile_bounds",
    "point_levels",
    "point_level",
    "points_payload",
]

#: About how many points level 0 holds.
POINTS_FIRST_LEVEL = 200_000
#: About how many points a tile holds at most (the densest tile of the finest level).
POINTS_PER_TILE = 150_000
#: Points read from the file at a time (and indexed as one part).
POINTS_CHUNK = 500_000
#: Side of the per-file grid of counts (a power of two: tiles of levels up to 8 are unions of its cells).
_GRID = 256
_GRID_LEVEL = 8
_MAX_LEVELS = 20


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


def _joined(parts: dict[str, list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The ``xyz``, ``rgb`` and ``classes`` pieces gathered chunk by chunk, each joined (None when absent)."""
    xyz = np.vstack(parts["xyz"]) if parts["xyz"] else np.zeros((0, 3))
    rgb = np.vstack(parts["rgb"]) if parts["rgb"] else None
    classes = np.concatenate(parts["classes"]) if parts["classes"] else None
    return xyz, rgb, classes


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
    xyz, rgb, classes = _joined(parts)
    meta = {
        "level": level,
        "levels": levels,
        "count": int(len(xyz)),
        "total": info.count,
        "zmin": info.bounds[2],
        "zmax": info.bounds[5],
    }
    return meta, points_payload(xyz, rgb, classes, info.crs, frame)


@dataclass(frozen=True, eq=False)
class PointTileIndex:
    """Where a cloud's points lie, built in one streamed pass (:func:`point_tile_index`).

    ``bounds`` (minx, miny, maxx, maxy) is the xy extent the quadtree divides; ``chunks`` is an ``(n, 6)``
    float64 table of each chunk's first point, point count and xy bounds (start, count, minx, miny,
    maxx, maxy); ``grid`` counts the points in ``256 x 256`` cells (row 0 to the north); ``classes`` the
    ASPRS classes present; ``levels`` the quadtree depth that keeps tiles under ``tile_points``; ``crs``
    the file's CRS (None for PLY).
    """

    count: int
    bounds: tuple[float, float, float, float]
    zrange: tuple[float, float]
    chunks: np.ndarray
    grid: np.ndarray
    classes: tuple[int, ...]
    levels: int
    tile_points: int
    chunk_size: int
    crs: CRS | None = None


def _cells(x: np.ndarray, y: np.ndarray, bounds: tuple[float, float, float, float], level: int) -> tuple:
    """Column (from the west) and row (from the north) of the level-``level`` tile of each point.

    ``u * 2**level`` is exact in floating point, so the cells of a level are the cells of the next one
    halved: tiles nest exactly and every point falls in one tile of each level.
    """
    minx, miny, maxx, maxy = bounds
    n = 1 << level
    u = (np.asarray(x, dtype=np.float64) - minx) / max(maxx - minx, 1e-9)
    v = (maxy - np.asarray(y, dtype=np.float64)) / max(maxy - miny, 1e-9)
    col = np.clip(np.floor(u * n), 0, n - 1).astype(np.int64)
    row = np.clip(np.floor(v * n), 0, n - 1).astype(np.int64)
    return col, row


def _depth(grid: np.ndarray, tile_points: int) -> int:
    """Levels needed for the densest tile of the finest level to hold at most ``tile_points`` points."""
    for level in range(_MAX_LEVELS):
        if level <= _GRID_LEVEL:
            k = _GRID >> level
            densest = grid.reshape(1 << level, k, 1 << level, k).sum(axis=(1, 3)).max()
        else:  # finer than the grid: the densest cell taken as uniform
            densest = grid.max() / 4 ** (level - _GRID_LEVEL)
        if densest <= tile_points:
            return level + 1
    return _MAX_LEVELS


#: one lock per file being indexed (entries are a path and a lock: a few bytes per file ever opened)
_INDEXING: dict[str, threading.Lock] = {}
_INDEXING_GUARD = threading.Lock()


@lru_cache(maxsize=16)  # entries are small (a 256 x 256 grid and one row per chunk)
def _cached_index(path: str, mtime_ns: int, size: int, tile_points: int, chunk_size: int) -> PointTileIndex:
    del mtime_ns, size  # only part of the cache key: a changed file gets a new index
    info = point_cloud_info(path)
    bounds = (info.bounds[0], info.bounds[1], info.bounds[3], info.bounds[4])
    grid = np.zeros((_GRID, _GRID), dtype=np.int64)
    classes = np.zeros(256, dtype=np.int64)
    rows = []
    zmin, zmax = math.inf, -math.inf
    with tqdm(total=info.count, unit="pt", desc=f"indexing {os.path.basename(path)}", leave=False) as bar:
        for chunk in iter_points(path, chunk_size=chunk_size):
            x, y = chunk.xyz[:, 0], chunk.xyz[:, 1]
            n = len(x)
            if n:
                rows.append((chunk.start, n, x.min(), y.min(), x.max(), y.max()))
                col, row = _cells(x, y, bounds, _GRID_LEVEL)
                grid += np.bincount(row * _GRID + col, minlength=_GRID * _GRID).reshape(_GRID, _GRID)
                zmin, zmax = min(zmin, float(chunk.xyz[:, 2].min())), max(zmax, float(chunk.xyz[:, 2].max()))
                if chunk.classification is not None:
                    classes += np.bincount(chunk.classification, minlength=256)
            bar.update(n)
    table = np.array(rows, dtype=np.float64).reshape(-1, 6)
    return PointTileIndex(
        count=int(grid.sum()),
        bounds=bounds,
        zrange=(zmin, zmax) if rows else (0.0, 0.0),
        chunks=table,
        grid=grid,
        classes=tuple(int(c) for c in np.flatnonzero(classes)),
        levels=_depth(grid, tile_points),
        tile_points=tile_points,
        chunk_size=chunk_size,
        crs=info.crs,
    )


def point_tile_index(
    path: str | os.PathLike[str], *, tile_points: int = POINTS_PER_TILE, chunk_size: int = POINTS_CHUNK
) -> PointTileIndex:
    """The tile index of a LAS/LAZ/PLY file: one streamed pass the first time, then cached in memory.

    The cache key is the resolved path, its modification time and size (a rewritten file is indexed
    again); at most 16 indexes are kept (least recently used dropped). Concurrent first requests for one
    file (the server answers in threads) wait for a single pass.
    """
    if tile_points < 1 or chunk_size < 1:
        raise ValueError("tile_points and chunk_size must be >= 1")
    location = os.path.realpath(os.fspath(path))
    stat = os.stat(location)
    key = (location, stat.st_mtime_ns, stat.st_size, tile_points, chunk_size)
    with _INDEXING_GUARD:
        lock = _INDEXING.setdefault(location, threading.Lock())
    with lock:
        return _cached_index(*key)


def _check_tile(index: PointTileIndex, level: int, x: int, y: int) -> None:
    if not 0 <= level < index.levels:
        raise ValueError(f"level {level} is outside 0..{index.levels - 1}")
    if not (0 <= x < 1 << level and 0 <= y < 1 << level):
        raise ValueError(f"tile {x}/{y} is outside level {level} (0..{(1 << level) - 1})")


def point_tile_bounds(index: PointTileIndex, level: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The xy bounds (minx, miny, maxx, maxy, in the file's CRS) of tile ``level/x/y``."""
    _check_tile(index, level, x, y)
    minx, miny, maxx, maxy = index.bounds
    w, h = (maxx - minx) / (1 << level), (maxy - miny) / (1 << level)
    return (minx + x * w, maxy - (y + 1) * h, minx + (x + 1) * w, maxy - y * h)


def _in_level(indices: np.ndarray, level: int, levels: int) -> np.ndarray:
    """Whether each file index belongs to ``level``: the coarsest ``L`` with ``i % 4**(levels-1-L) == 0``."""
    step = 4 ** (levels - 1 - level)
    selected = indices % step == 0
    return selected if level == 0 else selected & (indices % (4 * step) != 0)


def _tile_chunks(index: PointTileIndex, level: int, x: int, y: int) -> Iterator[tuple[int, int]]:
    """The (start, count) of the chunks that can hold points of tile ``level/x/y``, from the first index of
    the level's stride in each chunk."""
    step = 4 ** (index.levels - 1 - level)
    for start, count, minx, miny, maxx, maxy in index.chunks:
        start, count = int(start), int(count)
        cols, rows = _cells(np.array([minx, maxx]), np.array([maxy, miny]), index.bounds, level)
        if not (cols[0] <= x <= cols[1] and rows[0] <= y <= rows[1]):
            continue  # the chunk lies outside the tile
        first = -(-start // step) * step
        if first >= start + count:
            continue  # no index of the level's stride in the chunk
        yield first, start + count - first


def point_tile(
    path: str | os.PathLike[str],
    level: int,
    x: int,
    y: int,
    frame: SceneFrame,
    *,
    index: PointTileIndex | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The points of tile ``level/x/y`` (see the module docstring), positioned in ``frame``.

    Reads only the chunks whose bounds meet the tile, one at a time. Raises ``ValueError`` for a level or
    tile outside the quadtree. A PLY file has no CRS: its coordinates are taken as the scene CRS.
    """
    index = index or point_tile_index(path)
    _check_tile(index, level, x, y)
    cap = 4 * index.tile_points
    kept: dict[str, list[np.ndarray]] = {"xyz": [], "rgb": [], "classes": [], "rank": []}
    seen, thinned = 0, 1
    step = 4 ** (index.levels - 1 - level)  # a level's points are among the indices i % step == 0
    for chunk in iter_point_ranges(path, _tile_chunks(index, level, x, y), step=step):
        ids = chunk.start + chunk.step * np.arange(len(chunk.xyz))
        col, row = _cells(chunk.xyz[:, 0], chunk.xyz[:, 1], index.bounds, level)
        keep = np.flatnonzero((col == x) & (row == y) & _in_level(ids, level, index.levels))
        rank = seen + np.arange(len(keep))
        seen += len(keep)
        keep, rank = keep[rank % thinned == 0], rank[rank % thinned == 0]
        kept["xyz"].append(chunk.xyz[keep])
        kept["rank"].append(rank)
        if chunk.rgb is not None:
            kept["rgb"].append(chunk.rgb[keep])
        if chunk.classification is not None:
            kept["classes"].append(chunk.classification[keep])
        while sum(len(r) for r in kept["rank"]) > cap:  # a clump the grid did not see: thin by 2
            thinned *= 2
            for i, ranks in enumerate(kept["rank"]):
                sub = ranks % thinned == 0
                for name in ("xyz", "rgb", "classes", "rank"):
                    if kept[name]:
                        kept[name][i] = kept[name][i][sub]
        del chunk
    xyz, rgb, classes = _joined(kept)
    meta = {
        "level": level,
        "x": x,
        "y": y,
        "levels": index.levels,
        "count": int(len(xyz)),
        "total": index.count,
        "thinned": thinned,
        "zmin": index.zrange[0],
        "zmax": index.zrange[1],
    }
    return meta, points_payload(xyz, rgb, classes, index.crs, frame)
