"""Terrain by level of detail: a DSM/DTM cut into a quadtree of tiles, each read decimated to a fixed grid
of vertices (rasterio ``out_shape`` reads from the overviews), so a tile costs the same at every level and
no request reads more than one grid's worth of an overview.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window, from_bounds

from ai4geo_kernel.errors import MissingCRSError
from ai4geo_kernel.scene3d._frame import SceneFrame

__all__ = ["TERRAIN_SAMPLES", "terrain_levels", "terrain_tile", "grid_mesh", "drape_kind"]

#: Vertices along a tile side (tiles have (SAMPLES - 1)^2 cells).
TERRAIN_SAMPLES = 65


def terrain_levels(width: int, height: int, *, samples: int = TERRAIN_SAMPLES) -> int:
    """Number of quadtree levels until a tile's cell is about one source pixel."""
    return max(1, math.ceil(math.log2(max(width, height) / (samples - 1))) + 1)


@dataclass(frozen=True)
class _Grid:
    heights: np.ndarray  # (samples, samples) float32, NaN where nodata
    x: np.ndarray  # (samples,) map x of vertex columns
    y: np.ndarray  # (samples,) map y of vertex rows


def grid_mesh(
    heights: np.ndarray, xs: np.ndarray, ys: np.ndarray, frame: SceneFrame, crs: Any
) -> dict[str, np.ndarray]:
    """A triangle mesh of a height grid: positions relative to the scene origin, normals, indices.

    Parameters
    ----------
    heights : numpy.ndarray
        ``(rows, cols)`` float32, NaN for nodata (triangles touching one are dropped).
    xs, ys : numpy.ndarray
        Map coordinates of the columns and rows (in ``crs``).
    frame : SceneFrame
        The scene's CRS and origin.
    crs
        CRS of ``xs``/``ys``.
    """
    rows, cols = heights.shape
    gx, gy = np.meshgrid(xs, ys)
    lx, ly = frame.local(crs, gx.ravel(), gy.ravel())
    valid = np.isfinite(heights)
    fill = float(np.nanmin(heights)) if valid.any() else 0.0
    z = np.where(valid, heights, fill).astype(np.float32)
    positions = np.column_stack([lx, ly, z.ravel()]).astype(np.float32)
    # normals from central differences on the grid (in the local metric frame)
    px, py = lx.reshape(rows, cols), ly.reshape(rows, cols)
    dzdx = np.gradient(z, axis=1) / np.where(
        np.abs(np.gradient(px, axis=1)) > 1e-6, np.gradient(px, axis=1), 1
    )
    dzdy = np.gradient(z, axis=0) / np.where(
        np.abs(np.gradient(py, axis=0)) > 1e-6, np.gradient(py, axis=0), 1
    )
    normals = np.dstack([-dzdx, -dzdy, np.ones_like(z)]).reshape(-1, 3)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    b, d, e = a + 1, a + cols, a + cols + 1
    keep = valid.ravel()[a] & valid.ravel()[b] & valid.ravel()[d] & valid.ravel()[e]
    indices = np.column_stack([a, d, b, b, d, e])[keep].reshape(-1, 3).astype(np.uint32)
    return {"positions": positions, "normals": normals.astype(np.float32), "indices": indices}


def _read_grid(dataset: Any, window: Window, samples: int, resampling: Resampling) -> np.ndarray:
    """Heights at the vertices: the window grows by half a cell on each side so that the centres of the
    ``samples`` output pixels fall on the vertices (tile edges then agree with their neighbours)."""
    cell_w, cell_h = window.width / (samples - 1), window.height / (samples - 1)
    grown = Window(
        window.col_off - cell_w / 2,
        window.row_off - cell_h / 2,
        window.width + cell_w,
        window.height + cell_h,
    )
    outside = (
        grown.col_off < 0
        or grown.row_off < 0
        or grown.col_off + grown.width > dataset.width
        or grown.row_off + grown.height > dataset.height
    )
    data = dataset.read(
        1, window=grown, out_shape=(samples, samples), resampling=resampling, masked=True, boundless=outside
    )
    heights = np.ma.filled(data.astype(np.float32), np.nan)
    # the raster's own edge: half a cell outside, take the inner neighbour
    for edge, inner in (
        (np.s_[0, :], np.s_[1, :]),
        (np.s_[-1, :], np.s_[-2, :]),
        (np.s_[:, 0], np.s_[:, 1]),
        (np.s_[:, -1], np.s_[:, -2]),
    ):
        heights[edge] = np.where(np.isnan(heights[edge]), heights[inner], heights[edge])
    return heights


def drape_kind(dataset: Any) -> str:
    """``classes`` for a one-band integer raster, ``image`` for three bands or more, else ``values``."""
    if dataset.count >= 3:
        return "image"
    if (
        np.dtype(dataset.dtypes[0]).kind in "ui"
        and dataset.count == 1
        and np.dtype(dataset.dtypes[0]).itemsize == 1
    ):
        return "classes"
    return "values"


def terrain_tile(
    path: str,
    level: int,
    x: int,
    y: int,
    frame: SceneFrame,
    *,
    drape: str | None = None,
    samples: int = TERRAIN_SAMPLES,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Tile ``(level, x, y)`` of the terrain quadtree of a DSM/DTM, optionally draped with a raster.

    Parameters
    ----------
    path : str
        The elevation raster (band 1, metres).
    level, x, y : int
        Level 0 is one tile over the whole raster; level ``l`` has ``2**l`` by ``2**l`` tiles, ``x`` the
        column from the west and ``y`` the row from the north.
    frame : SceneFrame
        Scene CRS and origin of the positions.
    drape : str, optional
        A raster sampled at the same vertices: RGB image (``rgb``, 8-bit, stretched 2-98 %), one-band
        8-bit class raster (``classes``), or other values (``values``).
    samples : int
        Vertices along a tile side.

    Returns
    -------
    tuple of dict and dict
        Meta (``level``, ``x``, ``y``, ``bounds`` in the raster CRS, ``zmin``, ``zmax``) and arrays
        (``positions``, ``normals``, ``indices`` and the drape array).
    """
    with rasterio.open(path) as dataset:
        if dataset.crs is None:
            raise MissingCRSError(f"{path} has no CRS")
        tiles = 2**level
        if not (0 <= x < tiles and 0 <= y < tiles):
            raise ValueError(f"tile {x},{y} is outside level {level} ({tiles} x {tiles})")
        width, height = dataset.width / tiles, dataset.height / tiles
        window = Window(x * width, y * height, width, height)
        heights = _read_grid(dataset, window, samples, Resampling.bilinear)
        left, top = dataset.transform * (window.col_off, window.row_off)
        right, bottom = dataset.transform * (window.col_off + window.width, window.row_off + window.height)
        xs = np.linspace(left, right, samples)
        ys = np.linspace(top, bottom, samples)
        mesh = grid_mesh(heights, xs, ys, frame, dataset.crs)
        meta: dict[str, Any] = {
            "level": level,
            "x": x,
            "y": y,
            "bounds": [left, bottom, right, top],
            "samples": samples,
        }
        finite = heights[np.isfinite(heights)]
        meta["zmin"], meta["zmax"] = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        crs = dataset.crs
    if drape:
        kind, values = _drape_values(drape, crs, (left, bottom, right, top), samples)
        meta["drape"] = kind
        mesh[kind] = values
    return meta, mesh


def _drape_values(
    path: str, crs: Any, bounds: tuple[float, float, float, float], samples: int
) -> tuple[str, np.ndarray]:
    with rasterio.open(path) as source:
        dataset = source if source.crs == crs else WarpedVRT(source, crs=crs)
        try:
            kind = drape_kind(dataset)
            window = from_bounds(*bounds, transform=dataset.transform)
            resampling = Resampling.nearest if kind == "classes" else Resampling.bilinear
            if kind == "image":
                data = dataset.read(
                    [1, 2, 3],
                    window=window,
                    out_shape=(3, samples, samples),
                    resampling=resampling,
                    boundless=True,
                    fill_value=0,
                )
                return "rgb", _stretch(dataset, data)
            data = dataset.read(
                1,
                window=window,
                out_shape=(samples, samples),
                resampling=resampling,
                boundless=True,
                fill_value=0,
            )
            if kind == "classes":
                return "classes", data.astype(np.uint8)
            return "values", data.astype(np.float32)
        finally:
            if dataset is not source:
                dataset.close()


def _stretch(dataset: Any, data: np.ndarray) -> np.ndarray:
    """8-bit RGB per vertex; non-8-bit bands stretched between the 2nd and 98th percentiles of the coarsest
    overview (a few thousand pixels, cheap at any size)."""
    if data.dtype == np.uint8:
        return np.moveaxis(data, 0, -1).reshape(-1, 3)
    factor = max(1, max(dataset.width, dataset.height) // 256)
    sample = dataset.read(
        [1, 2, 3], out_shape=(3, max(1, dataset.height // factor), max(1, dataset.width // factor))
    )
    out = np.empty((data.shape[1] * data.shape[2], 3), dtype=np.uint8)
    for band in range(3):
        values = sample[band][sample[band] > 0]
        low, high = np.percentile(values, [2, 98]) if values.size else (0, 1)
        scaled = (data[band].astype(np.float32) - low) / max(float(high - low), 1e-6)
        out[:, band] = np.clip(scaled * 255, 0, 255).ravel().astype(np.uint8)
    return out
