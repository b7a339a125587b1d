"""Point clouds: LAS/LAZ through laspy (lazrs for LAZ), PLY through plyfile, read in chunks.

:func:`iter_points` never holds more than one chunk of the file in memory (laspy's ``chunk_iterator``;
binary PLY is memory-mapped by plyfile), so callers can decimate a file larger than RAM.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import laspy
import numpy as np
from plyfile import PlyData, PlyElement
from pyproj import CRS

from ai4geo_kernel.errors import PointCloudError
from ai4geo_kernel.io.atomic import atomic_path

__all__ = [
    "PointChunk",
    "PointCloudInfo",
    "point_cloud_info",
    "iter_points",
    "read_point_range",
    "iter_point_ranges",
    "write_las",
    "write_ply",
    "POINT_CLOUD_SUFFIXES",
]

POINT_CLOUD_SUFFIXES = (".las", ".laz", ".ply")


@dataclass(frozen=True)
class PointCloudInfo:
    """What a point cloud holds: ``count`` points within ``bounds`` (minx, miny, minz, maxx, maxy, maxz)."""

    count: int
    bounds: tuple[float, float, float, float, float, float]
    crs: CRS | None
    has_rgb: bool
    has_classification: bool


@dataclass(frozen=True)
class PointChunk:
    """Points of a file starting at point ``start``, every ``step``-th one (1: consecutive): ``xyz`` (n, 3)
    float64, optional ``rgb`` (n, 3) uint8 and ``classification`` (n,) uint8."""

    start: int
    xyz: np.ndarray
    rgb: np.ndarray | None
    classification: np.ndarray | None
    step: int = 1


def _kind(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in POINT_CLOUD_SUFFIXES:
        raise PointCloudError(f"not a point cloud file (LAS, LAZ, PLY): {os.fspath(path)}")
    return suffix


def _ply_vertex(path: str | os.PathLike[str]) -> np.ndarray:
    try:
        ply = PlyData.read(os.fspath(path), mmap="c")
    except Exception as error:  # noqa: BLE001 - plyfile raises plain exceptions for malformed files
        raise PointCloudError(f"cannot read PLY {os.fspath(path)}: {error}") from error
    if "vertex" not in ply or not {"x", "y", "z"} <= set(ply["vertex"].data.dtype.names or ()):
        raise PointCloudError(f"{os.fspath(path)} has no vertex element with x, y, z")
    return ply["vertex"].data


def point_cloud_info(path: str | os.PathLike[str]) -> PointCloudInfo:
    """Read a point cloud's header (LAS/LAZ) or scan its vertices once (PLY, chunk by chunk)."""
    if _kind(path) == ".ply":
        _, dtype, _, count = _ply_layout(path)
        names = set(dtype.names or ())
        low, high = np.full(3, np.inf), np.full(3, -np.inf)
        for chunk in iter_points(path):
            if len(chunk.xyz):
                low, high = np.minimum(low, chunk.xyz.min(axis=0)), np.maximum(high, chunk.xyz.max(axis=0))
        return PointCloudInfo(
            count,
            (*map(float, low), *map(float, high)) if count else (0.0,) * 6,
            None,
            {"red", "green", "blue"} <= names,
            "classification" in names or "class" in names,
        )  # type: ignore[arg-type]
    try:
        with laspy.open(os.fspath(path)) as reader:
            header = reader.header
            try:
                crs = header.parse_crs()
            except Exception:  # noqa: BLE001 - a malformed CRS VLR leaves the CRS unset
                crs = None
            names = set(header.point_format.dimension_names)
            return PointCloudInfo(
                int(header.point_count),
                (*map(float, header.mins), *map(float, header.maxs)),
                CRS.from_user_input(crs) if crs is not None else None,
                {"red", "green", "blue"} <= names,
                "classification" in names,
            )  # type: ignore[arg-type]
    except laspy.LaspyException as error:
        raise PointCloudError(f"cannot read {os.fspath(path)}: {error}") from error


def _rgb8(red: np.ndarray, green: np.ndarray, blue: np.ndarray) -> np.ndarray:
    rgb = np.column_stack([red, green, blue])
    if rgb.dtype != np.uint8:  # LAS stores 16-bit colours; some writers use only the low byte
        rgb = (rgb >> 8 if rgb.max(initial=0) > 255 else rgb).astype(np.uint8)
    return rgb


def _read_records(
    path: str | os.PathLike[str], dtype: np.dtype, offset: int, start: int, stop: int, step: int
) -> np.ndarray:
    """Records ``start:stop:step`` of a table of fixed-size records at byte ``offset`` of a file, copied out
    of a memory map of that range alone, unmapped on return: resident memory holds one range at a time,
    never the file (a map of the whole file keeps every page it touched resident while it lives)."""
    if stop <= start:
        return np.zeros(0, dtype=dtype)
    view = np.memmap(
        os.fspath(path), dtype=dtype, mode="r", offset=offset + start * dtype.itemsize, shape=(stop - start,)
    )
    records = np.array(view[::step])
    del view  # the last reference: numpy unmaps the range
    return records


def _ply_layout(path: str | os.PathLike[str]) -> tuple[np.ndarray | None, np.dtype, int, int]:
    """A PLY file's vertex table: ``(None, dtype, byte offset, count)`` when binary (read by ranges with
    :func:`_read_records`), else ``(vertices, dtype, 0, count)`` parsed whole (ASCII PLY)."""
    vertex = _ply_vertex(path)
    if isinstance(vertex, np.memmap) and vertex.base is not None:
        return None, vertex.dtype, int(vertex.offset), len(vertex)  # plyfile's map goes with ``vertex``
    return vertex, vertex.dtype, 0, len(vertex)


def _ply_range(path: str | os.PathLike[str], layout: tuple, start: int, stop: int, step: int) -> PointChunk:
    vertex, dtype, offset, _ = layout
    if vertex is not None:
        return _ply_chunk(vertex[start:stop:step], start, step)
    return _ply_chunk(_read_records(path, dtype, offset, start, stop, step), start, step)


def _ply_chunk(part: np.ndarray, start: int, step: int = 1) -> PointChunk:
    names = set(part.dtype.names or ())
    label = "classification" if "classification" in names else ("class" if "class" in names else None)
    xyz = np.column_stack([part["x"], part["y"], part["z"]]).astype(np.float64)
    rgb = _rgb8(part["red"], part["green"], part["blue"]) if {"red", "green", "blue"} <= names else None
    cls = np.asarray(part[label], dtype=np.uint8) if label else None
    return PointChunk(start, xyz, rgb, cls, step)


def _las_chunk(points: laspy.ScaleAwarePointRecord, names: set[str], start: int, step: int = 1) -> PointChunk:
    xyz = np.column_stack([np.asarray(points.x), np.asarray(points.y), np.asarray(points.z)])
    rgb = (
        _rgb8(np.asarray(points.red), np.asarray(points.green), np.asarray(points.blue))
        if {"red", "green", "blue"} <= names
        else None
    )
    cls = np.asarray(points.classification, dtype=np.uint8) if "classification" in names else None
    return PointChunk(start, xyz, rgb, cls, step)


def iter_points(path: str | os.PathLike[str], *, chunk_size: int = 1_000_000) -> Iterator[PointChunk]:
    """Yield the points of a LAS/LAZ/PLY file in chunks of at most ``chunk_size``, in file order."""
    if _kind(path) == ".ply":
        layout = _ply_layout(path)
        for start in range(0, layout[3], chunk_size):
            yield _ply_range(path, layout, start, min(start + chunk_size, layout[3]), 1)
        return
    try:
        with laspy.open(os.fspath(path)) as reader:
            names = set(reader.header.point_format.dimension_names)
            start = 0
            for points in reader.chunk_iterator(chunk_size):
                yield _las_chunk(points, names, start)
                start += len(points)
    except laspy.LaspyException as error:
        raise PointCloudError(f"cannot read {os.fspath(path)}: {error}") from error


def iter_point_ranges(
    path: str | os.PathLike[str], ranges: Iterable[tuple[int, int]], *, step: int = 1
) -> Iterator[PointChunk]:
    """Yield, for each ``(start, count)`` of ``ranges``, the points ``start, start + step, ...`` below
    ``start + count`` of a LAS/LAZ/PLY file (fewer at the end of the file), opening the file once.

    LAS/LAZ seek to ``start`` (laspy; lazrs decompresses from the enclosing LAZ chunk only). With ``step``
    above 1, uncompressed LAS and PLY read only every ``step``-th record through a memory map (the pages
    between are not read when a step spans more than a page); LAZ decompresses the range and keeps every
    ``step``-th point. Used to read only the parts of a file that a spatial index points to.
    """
    if step < 1:
        raise ValueError(f"step {step} must be >= 1")
    if _kind(path) == ".ply":
        layout = _ply_layout(path)
        total = layout[3]
        for start, count in ranges:
            _check_range(start, count)
            yield _ply_range(path, layout, min(start, total), min(start + count, total), step)
        return
    try:
        with laspy.open(os.fspath(path)) as reader:
            header = reader.header
            names = set(header.point_format.dimension_names)
            total = int(header.point_count)
            # laspy reads consecutive records only: strided reads of uncompressed LAS map the range instead
            strided = step > 1 and not header.are_points_compressed
            for start, count in ranges:
                _check_range(start, count)
                start = min(start, total)
                stop = min(start + count, total)
                if strided:
                    dtype = header.point_format.dtype()
                    part = _read_records(path, dtype, header.offset_to_point_data, start, stop, step)
                    points = laspy.ScaleAwarePointRecord(
                        part, header.point_format, header.scales, header.offsets
                    )
                    yield _las_chunk(points, names, start, step)
                    continue
                reader.seek(start)
                points = reader.read_points(stop - start)
                yield _las_chunk(points[::step] if step > 1 else points, names, start, step)
    except laspy.LaspyException as error:
        raise PointCloudError(f"cannot read {os.fspath(path)}: {error}") from error


def _check_range(start: int, count: int) -> None:
    if start < 0 or count < 0:
        raise ValueError(f"start {start} and count {count} must be >= 0")


def read_point_range(path: str | os.PathLike[str], start: int, count: int) -> PointChunk:
    """The ``count`` points of a LAS/LAZ/PLY file from point ``start`` (see :func:`iter_point_ranges`)."""
    return next(iter_point_ranges(path, [(start, count)]))


def write_las(
    path: str | os.PathLike[str],
    xyz: np.ndarray,
    *,
    crs: CRS | str | int | None = None,
    rgb: np.ndarray | None = None,
    classification: np.ndarray | None = None,
    scale: float = 0.01,
) -> None:
    """Write points as LAS 1.4 (``.laz``: compressed with lazrs), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        ``.las`` or ``.laz`` destination.
    xyz : numpy.ndarray
        ``(n, 3)`` coordinates (metres in ``crs``).
    crs : pyproj.CRS, str or int, optional
        Written as a WKT VLR.
    rgb : numpy.ndarray, optional
        ``(n, 3)`` uint8 colours (stored 16-bit).
    classification : numpy.ndarray, optional
        ``(n,)`` ASPRS classes.
    scale : float
        Coordinate resolution (metres).
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    header = laspy.LasHeader(point_format=7 if rgb is not None else 6, version="1.4")
    header.offsets = np.floor(xyz.min(axis=0)) if len(xyz) else np.zeros(3)
    header.scales = np.array([scale, scale, scale])
    if crs is not None:
        header.add_crs(CRS.from_user_input(crs))
    data = laspy.LasData(header)
    data.x, data.y, data.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    if rgb is not None:
        colours = np.asarray(rgb, dtype=np.uint16) * 257
        data.red, data.green, data.blue = colours[:, 0], colours[:, 1], colours[:, 2]
    if classification is not None:
        data.classification = np.asarray(classification, dtype=np.uint8)
    suffix = Path(path).suffix.lower()
    with atomic_path(path, suffix=suffix) as tmp:
        data.write(os.fspath(tmp), do_compress=suffix == ".laz")


def write_ply(
    path: str | os.PathLike[str],
    xyz: np.ndarray,
    *,
    rgb: np.ndarray | None = None,
    classification: np.ndarray | None = None,
) -> None:
    """Write points as binary little-endian PLY (plyfile), atomically; coordinates as float64."""
    xyz = np.asarray(xyz, dtype=np.float64)
    fields = [("x", "<f8"), ("y", "<f8"), ("z", "<f8")]
    if rgb is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    if classification is not None:
        fields += [("classification", "u1")]
    vertex = np.empty(len(xyz), dtype=fields)
    vertex["x"], vertex["y"], vertex["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    if rgb is not None:
        vertex["red"], vertex["green"], vertex["blue"] = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    if classification is not None:
        vertex["classification"] = classification
    with atomic_path(path) as tmp:
        PlyData([PlyElement.describe(vertex, "vertex")], byte_order="<").write(os.fspath(tmp))
