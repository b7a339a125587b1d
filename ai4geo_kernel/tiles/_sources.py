"""Where tiles come from: a GeoTIFF/COG (path or URL) or a georeferenced xarray DataArray."""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ai4geo_kernel.errors import MissingCRSError, RasterError
from ai4geo_kernel.tiles._geometry import TILE_SIZE, Bounds
from ai4geo_kernel.tiles._statistics import SAMPLE_SIZE

__all__ = ["TileSource", "RasterSource", "ArraySource", "open_source", "GDAL_HTTP_OPTIONS"]

#: GDAL settings for COGs read over HTTP (/vsicurl): no directory listing, merged range requests.
GDAL_HTTP_OPTIONS: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "VSI_CACHE": "TRUE",
}

#: Rasters larger than this (pixels on a side) without overviews get a warning: zoomed-out tiles are slow.
_OVERVIEW_ADVICE_SIZE = 4096


class TileSource(Protocol):
    """A raster the tile server can cut Web Mercator tiles from.

    Attributes
    ----------
    name : str
        Default layer name.
    count : int
        Number of bands.
    bounds : tuple
        ``(west, south, east, north)`` in WGS84 degrees.
    minzoom, maxzoom : int
        Zoom range where the raster's own resolution lies (``maxzoom``: native resolution).
    """

    name: str
    count: int
    bounds: Bounds
    minzoom: int
    maxzoom: int

    def tile(self, x: int, y: int, z: int, *, bands: tuple[int, ...]) -> Any | None:
        """Return the tile as a rio-tiler ``ImageData``, or ``None`` when it misses the raster."""
        ...

    def sample(self, *, bands: tuple[int, ...]) -> np.ma.MaskedArray:
        """Return a decimated ``(bands, rows, cols)`` read of the whole raster, for statistics."""
        ...

    def point(self, lon: float, lat: float) -> list[tuple[str, float | None]]:
        """Return ``(band name, value)`` of every band at ``lon, lat`` (WGS84); ``[]`` off the raster."""
        ...

    def close(self) -> None:
        """Release files and readers."""
        ...


def _point_values(point: Any, names: list[str]) -> list[tuple[str, float | None]]:
    """``(name, value)`` pairs of a rio-tiler ``PointData``; masked, NaN or infinite values are ``None``."""
    data = np.ma.masked_invalid(np.ma.asarray(point.array, dtype="float64"))
    values = [None if value is np.ma.masked else float(value) for value in data]
    return list(zip(names, values, strict=False))


def _mask_invalid(image: Any) -> Any:
    """Mask NaN and infinities too (float rasters often carry NaN without declaring it as nodata)."""
    array = image.array
    if np.issubdtype(array.dtype, np.floating):
        array.mask = np.ma.getmaskarray(array) | ~np.isfinite(array.data)
    return image


class RasterSource:
    """A GeoTIFF or COG, local or served over HTTP, read with rio-tiler.

    Opening a dataset costs about 9 ms a tile (RECIPES), so readers stay open: a small pool of
    ``rio_tiler.io.Reader`` (GDAL datasets are not thread-safe, so each reader serves one tile at
    a time) grows up to ``max_readers`` under concurrent requests and is reused afterwards.

    Parameters
    ----------
    location : str or os.PathLike
        A file path or an ``http(s)://`` URL of a COG (the server must answer HTTP Range requests).
    max_readers : int
        Most datasets opened at once for this layer.

    Raises
    ------
    FileNotFoundError
        If a local path does not exist.
    MissingCRSError
        If the raster has no coordinate reference system.
    RasterError
        If the raster cannot be opened.
    """

    def __init__(self, location: str | os.PathLike[str], *, max_readers: int = 4) -> None:
        self.location = str(location)
        self.is_remote = self.location.startswith(("http://", "https://"))
        if not self.is_remote and not Path(self.location).exists():
            raise FileNotFoundError(f"no raster at {self.location}")
        self.name = Path(self.location.split("?")[0]).stem or "raster"
        self._max_readers = max(1, max_readers)
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._opened = 0
        self._lock = threading.Lock()
        self._closed = False
        reader = self._open()
        dataset = reader.dataset
        if dataset.crs is None:
            reader.close()
            raise MissingCRSError(f"{self.location} has no coordinate reference system")
        self.count = int(dataset.count)
        self.dtype = str(dataset.dtypes[0])
        self.nodata = dataset.nodata
        self.bounds: Bounds = tuple(reader.get_geographic_bounds("EPSG:4326"))  # type: ignore[assignment]
        self.minzoom, self.maxzoom = int(reader.minzoom), int(reader.maxzoom)
        if not dataset.overviews(1) and max(dataset.width, dataset.height) > _OVERVIEW_ADVICE_SIZE:
            warnings.warn(
                f"{self.name} ({dataset.width} x {dataset.height}) has no overviews: zoomed-out tiles "
                "read it at full resolution and take seconds; write it as a COG (rio cogeo) or add "
                "overviews (gdaladdo)",
                UserWarning,
                stacklevel=3,
            )
        self._idle.put(reader)

    def _env(self) -> Any:
        import rasterio

        return rasterio.Env(**GDAL_HTTP_OPTIONS) if self.is_remote else contextlib.nullcontext()

    def _open(self) -> Any:
        """Open one more reader, counted against ``max_readers``."""
        from rio_tiler.io import Reader

        with self._lock:
            self._opened += 1
        try:
            with self._env():
                return Reader(self.location)
        except Exception as error:
            with self._lock:
                self._opened -= 1
            if "crs" in str(error).lower():
                raise MissingCRSError(f"{self.location} has no coordinate reference system") from error
            raise RasterError(f"cannot open {self.location}: {error}") from error

    @contextmanager
    def reader(self) -> Iterator[Any]:
        """Borrow an open ``Reader`` for one read; it goes back to the pool afterwards."""
        if self._closed:
            raise RasterError(f"layer source {self.location} is closed")
        try:
            reader = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                may_open = self._opened < self._max_readers
            # two threads may both open the last allowed reader: the pool then holds one extra
            reader = self._open() if may_open else self._idle.get()
        try:
            with self._env():
                yield reader
        finally:
            if self._closed:
                reader.close()
            else:
                self._idle.put(reader)

    def tile(self, x: int, y: int, z: int, *, bands: tuple[int, ...]) -> Any | None:
        """Read tile ``z/x/y`` (256 px, Web Mercator); ``None`` when it misses the raster."""
        from rio_tiler.errors import TileOutsideBounds

        with self.reader() as reader:
            if not reader.tile_exists(x, y, z):
                return None
            try:
                image = reader.tile(x, y, z, indexes=bands, tilesize=TILE_SIZE)
            except TileOutsideBounds:
                return None
        return _mask_invalid(image)

    def sample(self, *, bands: tuple[int, ...]) -> np.ma.MaskedArray:
        """Read the whole raster decimated to ``SAMPLE_SIZE`` pixels, from overviews when present."""
        with self.reader() as reader:
            image = reader.preview(indexes=bands, max_size=SAMPLE_SIZE)
        return _mask_invalid(image).array

    def point(self, lon: float, lat: float) -> list[tuple[str, float | None]]:
        """Every band's value at ``lon, lat`` (WGS84), named by band description; ``[]`` off the raster."""
        from rio_tiler.errors import PointOutsideBounds

        with self.reader() as reader:
            try:
                found = reader.point(lon, lat)
            except PointOutsideBounds:
                return []
            names = [d or f"band {i + 1}" for i, d in enumerate(reader.dataset.descriptions)]
        return _point_values(found, names)

    def close(self) -> None:
        """Close every idle reader; readers in use close when they come back."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break


def _centre_coordinates(array: Any) -> Any:
    """The array with x/y coordinates at pixel centres, as rioxarray reads them.

    stackstac (``xy_coords="topleft"``, its default) labels each pixel with its top-left corner and
    writes the true grid as a ``transform`` attribute; read as centres, those coordinates put the
    whole layer half a pixel north-west of where it belongs. When the attribute's origin is the first
    coordinate, the coordinates are corners: they are moved to the centres and the attribute dropped.
    """
    transform = array.attrs.get("transform")
    if transform is None:
        return array
    try:
        from affine import Affine

        affine = transform if isinstance(transform, Affine) else Affine(*tuple(transform)[:6])
    except (TypeError, ValueError):
        return array
    x_dim, y_dim = array.rio.x_dim, array.rio.y_dim
    if affine.b or affine.d or array.sizes[x_dim] < 1 or array.sizes[y_dim] < 1:
        return array
    x0, y0 = float(array[x_dim][0]), float(array[y_dim][0])
    tolerance = 1e-6 * max(abs(affine.a), abs(affine.e))
    attrs = {key: value for key, value in array.attrs.items() if key != "transform"}
    if abs(x0 - affine.c) <= tolerance and abs(y0 - affine.f) <= tolerance:
        array = array.assign_coords({x_dim: array[x_dim] + affine.a / 2, y_dim: array[y_dim] + affine.e / 2})
    array.attrs = attrs  # the coordinates now say where the pixels are; a stale affine would win over them
    return array


@dataclass
class _Level:
    factor: int
    reader: Any


class ArraySource:
    """A georeferenced ``xarray.DataArray`` (2D, or ``band x y x``), possibly lazy (Dask).

    Tiles go through rio-tiler's ``XarrayReader``, which clips the array to the tile's footprint
    before reprojecting it, so a Dask-backed array computes only the chunks the tile touches. For
    zoomed-out tiles, where that footprint covers many source pixels per output pixel, the read is
    taken from a decimated view (every ``2**k``-th row and column, nearest neighbour) so a tile
    never materialises much more than about twice its own size in pixels.

    Parameters
    ----------
    array : xarray.DataArray
        With a CRS (``array.rio.crs``) and regular x/y coordinates.

    Raises
    ------
    MissingCRSError
        If the array has no CRS.
    RasterError
        If it has more than one non-spatial dimension.
    """

    def __init__(self, array: Any) -> None:
        import rioxarray  # noqa: F401  (registers the .rio accessor)

        if array.rio.crs is None:
            raise MissingCRSError(
                "the DataArray has no CRS: set one with array.rio.write_crs('EPSG:32631') before showing it"
            )
        x_dim, y_dim = array.rio.x_dim, array.rio.y_dim
        others = [dim for dim in array.dims if dim not in (x_dim, y_dim)]
        if len(others) > 1:
            raise RasterError(f"cannot show an array with dimensions {array.dims}: select one {others[0]!r}")
        array = _centre_coordinates(array.transpose(*others, y_dim, x_dim))
        self.array = array
        self.name = str(array.name) if array.name is not None else "array"
        self.count = int(array.sizes[others[0]]) if others else 1
        self.dtype = str(array.dtype)
        self._levels: dict[int, _Level] = {}
        self._lock = threading.Lock()
        base = self._level(0)
        self.bounds: Bounds = tuple(base.reader.get_geographic_bounds("EPSG:4326"))  # type: ignore[assignment]
        self.minzoom, self.maxzoom = int(base.reader.minzoom), int(base.reader.maxzoom)
        xres, yres = (abs(value) for value in array.rio.resolution())
        self._resolution = min(xres, yres)
        self._max_level = max(0, int(math.log2(max(1, max(array.rio.width, array.rio.height) // TILE_SIZE))))

    def _level(self, level: int) -> _Level:
        with self._lock:
            if level not in self._levels:
                from rio_tiler.io import XarrayReader

                factor = 2**level
                view = self.array
                if factor > 1:
                    offset = factor // 2  # centre the kept pixel in its block
                    x_dim, y_dim = view.rio.x_dim, view.rio.y_dim
                    step_x = float(view[x_dim][1] - view[x_dim][0]) if view.sizes[x_dim] > 1 else 0.0
                    step_y = float(view[y_dim][1] - view[y_dim][0]) if view.sizes[y_dim] > 1 else 0.0
                    view = view.isel({x_dim: slice(offset, None, factor), y_dim: slice(offset, None, factor)})
                    # the kept pixel sits half a source pixel after its block's centre: put the coarse pixel
                    # on the block (otherwise zoomed-out tiles shift by half a source pixel)
                    view = view.assign_coords(
                        {x_dim: view[x_dim] - step_x / 2, y_dim: view[y_dim] - step_y / 2}
                    )
                    # a full-resolution affine left in the attributes (stackstac writes one) would win over
                    # the coordinates and give the coarse view the source pixel size
                    view.attrs = {
                        k: v for k, v in view.attrs.items() if k not in ("transform", "res", "resolution")
                    }
                try:
                    reader = XarrayReader(view)
                except Exception as error:
                    raise RasterError(f"cannot tile this array: {error}") from error
                self._levels[level] = _Level(factor=factor, reader=reader)
            return self._levels[level]

    def _level_for(self, x: int, y: int, z: int) -> _Level:
        """Coarsest decimation whose pixels stay at least twice finer than the tile's pixels."""
        import morecantile
        from rasterio.warp import transform_bounds

        tms = morecantile.tms.get("WebMercatorQuad")
        left, bottom, right, top = tms.xy_bounds(morecantile.Tile(x, y, z))
        try:
            west, south, east, north = transform_bounds(
                "EPSG:3857", self.array.rio.crs, left, bottom, right, top
            )
        except Exception:
            return self._level(0)
        extent = min(abs(east - west), abs(north - south))
        if not math.isfinite(extent) or extent <= 0:
            return self._level(0)
        source_pixels = extent / self._resolution
        ratio = source_pixels / (2 * TILE_SIZE)
        level = int(math.floor(math.log2(ratio))) if ratio >= 2 else 0
        return self._level(min(level, self._max_level))

    def tile(self, x: int, y: int, z: int, *, bands: tuple[int, ...]) -> Any | None:
        """Read tile ``z/x/y`` (256 px, Web Mercator); ``None`` when it misses the array."""
        from rio_tiler.errors import TileOutsideBounds

        level = self._level_for(x, y, z)
        if not level.reader.tile_exists(x, y, z):
            return None
        indexes = bands if self.array.ndim == 3 else None
        try:
            image = level.reader.tile(x, y, z, indexes=indexes, tilesize=TILE_SIZE)
        except TileOutsideBounds:
            return None
        return _mask_invalid(image)

    def sample(self, *, bands: tuple[int, ...]) -> np.ma.MaskedArray:
        """Every ``k``-th pixel of the chosen bands so the longest side is about ``SAMPLE_SIZE``."""
        array = self.array
        step = max(1, math.ceil(max(array.rio.width, array.rio.height) / SAMPLE_SIZE))
        view = array.isel(
            {array.rio.x_dim: slice(None, None, step), array.rio.y_dim: slice(None, None, step)}
        )
        if view.ndim == 3:
            view = view.isel({view.dims[0]: [band - 1 for band in bands]})
        data = np.ma.masked_invalid(np.asarray(view.values, dtype="float64"))
        nodata = array.rio.nodata if array.rio.nodata is not None else array.rio.encoded_nodata
        if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
            data = np.ma.masked_equal(data, nodata)
        return data

    def point(self, lon: float, lat: float) -> list[tuple[str, float | None]]:
        """Every band's value at ``lon, lat`` (WGS84): one pixel computed; ``[]`` off the array."""
        from rio_tiler.errors import PointOutsideBounds

        try:
            found = self._level(0).reader.point(lon, lat)
        except PointOutsideBounds:
            return []
        if self.array.ndim == 3:
            names = [str(value) for value in self.array[self.array.dims[0]].values]
        else:
            names = [self.name]
        return _point_values(found, names)

    def close(self) -> None:
        """Drop the readers (the array itself belongs to the caller)."""
        with self._lock:
            self._levels.clear()


def open_source(obj: Any) -> TileSource:
    """Return the :class:`TileSource` for ``obj``: a path or URL of a GeoTIFF/COG, or a DataArray.

    Raises
    ------
    TypeError
        For anything else (an ``xarray.Dataset`` names its variables to choose from).
    """
    if isinstance(obj, (str, os.PathLike)):
        return RasterSource(obj)
    try:
        import xarray
    except ImportError:  # pragma: no cover - xarray is a dependency
        xarray = None  # type: ignore[assignment]
    if xarray is not None and isinstance(obj, xarray.DataArray):
        return ArraySource(obj)
    if xarray is not None and isinstance(obj, xarray.Dataset):
        raise TypeError(
            f"show() takes one variable of a Dataset, e.g. ds[{next(iter(obj.data_vars), 'name')!r}]"
        )
    raise TypeError(
        f"show() takes a GeoTIFF/COG path or URL, or an xarray.DataArray, not {type(obj).__name__}"
    )
