"""Tiles, point values, bounds and statistics of rasters under a root folder (what the server serves)."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ai4geo_kernel.errors import (
    ConfigurationError,
    CorruptRasterError,
    PathNotAllowedError,
    RasterError,
    VectorError,
)
from ai4geo_kernel.tiles._cog import CogJob, cog_job, start_cog_conversion
from ai4geo_kernel.tiles._geometry import is_valid_tile
from ai4geo_kernel.tiles._paths import resolve_path
from ai4geo_kernel.tiles._rendering import FORMATS, render_image, transparent_image
from ai4geo_kernel.tiles._sources import RasterSource
from ai4geo_kernel.tiles._stac import AssetRef, asset_href, demo_item, raster_asset_keys
from ai4geo_kernel.tiles._statistics import SAMPLE_SIZE, percentile_ranges
from ai4geo_kernel.tiles._style import Range, TileStyle, check_band_indexes, default_bands, parse_style_query

__all__ = ["TileService", "parse_categories"]

#: Vector formats the viewer can overlay (returned as GeoJSON in WGS84).
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".fgb", ".shp")
#: Most features returned for one vector layer.
MAX_FEATURES = 50_000


def parse_categories(text: str) -> dict[int, tuple[int, int, int, int]]:
    """``{"1": "#ff0000", "2": "#00ff00aa"}`` (JSON) -> ``{1: (255, 0, 0, 255), ...}``."""
    try:
        raw = json.loads(text)
        table: dict[int, tuple[int, int, int, int]] = {}
        for key, colour in raw.items():
            hex_colour = str(colour).lstrip("#")
            if len(hex_colour) == 6:
                hex_colour += "ff"
            if len(hex_colour) != 8:
                raise ValueError(colour)
            rgba = tuple(int(hex_colour[i : i + 2], 16) for i in range(0, 8, 2))
            table[int(key)] = rgba  # type: ignore[assignment]
    except (ValueError, AttributeError, TypeError) as error:
        raise ConfigurationError('categories must be JSON {"value": "#rrggbb[aa]", ...}') from error
    if not table or len(table) > 1024:
        raise ConfigurationError("categories must name between 1 and 1024 classes")
    return table


class TileService:
    """Rasters under ``root`` (and allow-listed URLs), opened once and kept in a small LRU.

    Every method taking ``path`` also takes an :class:`AssetRef`: an asset of a STAC item, the item being a
    JSON file under ``root`` or ``collection/item_id`` of the demo catalog (``AI4GEO_DEMO_STAC_URL``). The
    asset's href must then lie under ``root``, start with an allowed URL prefix, or with the demo asset
    server's URL (``AI4GEO_DEMO_ASSETS_URL``, a setting of this server, never taken from a request).

    Parameters
    ----------
    root : str or os.PathLike
        Only files under this folder are read (see :func:`resolve_path`).
    allowed_urls : sequence of str
        URL prefixes that may be read remotely.
    max_open : int
        Rasters kept open at once (each keeps a small pool of GDAL readers).
    """

    def __init__(
        self, root: str | os.PathLike[str], *, allowed_urls: Sequence[str] = (), max_open: int = 16
    ) -> None:
        self.root = Path(root).resolve()
        self.allowed_urls = tuple(allowed_urls)
        self._max_open = max_open
        self._sources: OrderedDict[tuple[str, float], RasterSource] = OrderedDict()
        self._ranges: dict[tuple[str, float, tuple[int, ...]], tuple[Range, ...]] = {}
        self._assets: OrderedDict[tuple[AssetRef, float], str] = OrderedDict()
        self._lock = threading.Lock()

    # -- opening ------------------------------------------------------------------------------
    def locate(self, path: str | AssetRef) -> str:
        """The checked location of ``path`` (raises ``PathNotAllowedError`` / ``FileNotFoundError``)."""
        if isinstance(path, AssetRef):
            return self.locate_asset(path)
        return resolve_path(self.root, path, allowed_urls=self.allowed_urls)

    def locate_asset(self, ref: AssetRef) -> str:
        """The checked location of a STAC item's asset (resolved once per item file version).

        Raises
        ------
        PathNotAllowedError
            For an item file outside the root, or an asset href outside the root / off the allow-list.
        FileNotFoundError
            For a missing item file, item or asset file.
        ConfigurationError
            For an unknown or non-raster asset key, or a demo item named while no demo catalog runs.
        """
        import pystac

        from ai4geo_kernel import settings

        item_file = None if ref.is_demo else self.locate(ref.item)
        key = (ref, 0.0 if item_file is None else os.stat(item_file).st_mtime)
        with self._lock:
            if key in self._assets:
                self._assets.move_to_end(key)
                return self._assets[key]
        if item_file is None:
            stac_url = settings.demo_stac_url()
            collection, _, item_id = ref.item.partition("/")
            if not stac_url:
                raise ConfigurationError(
                    f"{ref.item} names a demo catalog item, but no demo catalog runs (AI4GEO_DEMO_STAC_URL); "
                    "give a STAC item .json file under the server root instead"
                )
            item = demo_item(stac_url, collection, item_id)
        else:
            try:
                item = pystac.Item.from_file(item_file)
            except Exception as error:  # not JSON, not a Feature, a Collection...
                raise ConfigurationError(
                    f"{ref.item} is not a STAC item: {str(error).splitlines()[0][:120]}"
                ) from error
        rasters = raster_asset_keys(item)
        if ref.asset not in rasters:
            raise ConfigurationError(
                f"item {item.id} has no raster asset {ref.asset!r}; "
                f"raster assets: {', '.join(rasters) or 'none'}"
            )
        href = asset_href(item, ref.asset)
        demo_assets = settings.demo_assets_url()
        allowed = self.allowed_urls + ((demo_assets.rstrip("/") + "/",) if demo_assets else ())
        location = resolve_path(self.root, href, allowed_urls=allowed)
        with self._lock:
            self._assets[key] = location
            while len(self._assets) > 256:
                self._assets.popitem(last=False)
        return location

    def _key(self, location: str) -> tuple[str, float]:
        mtime = 0.0 if location.startswith(("http://", "https://")) else os.stat(location).st_mtime
        return (location, mtime)

    def source(self, path: str | AssetRef) -> RasterSource:
        """The open raster of ``path`` (reopened when the file changed on disk)."""
        location = self.locate(path)
        key = self._key(location)
        with self._lock:
            found = self._sources.get(key)
            if found is not None:
                self._sources.move_to_end(key)
                return found
        import warnings

        with warnings.catch_warnings(), self._reading(path, location):
            warnings.simplefilter("ignore", UserWarning)  # "no overviews": the info endpoint says it
            opened = RasterSource(location)
        with self._lock:
            self._sources[key] = opened
            while len(self._sources) > self._max_open:
                _, old = self._sources.popitem(last=False)
                old.close()
        return opened

    @staticmethod
    @contextmanager
    def _reading(path: str | AssetRef, location: str | None = None) -> Iterator[None]:
        """Turn GDAL failures while opening or reading ``path`` into :class:`CorruptRasterError` that name the
        path as the client gave it (never the server's absolute location)."""
        from rasterio.errors import RasterioError

        path = str(path)
        try:
            yield
        except PathNotAllowedError:
            raise
        except RasterError as error:
            message = str(error).replace(location or path, path).splitlines()[0]
            message = message.replace(f"cannot open {path}: ", f"{path} cannot be read: ")
            kind = CorruptRasterError if type(error) is RasterError else type(error)  # keep MissingCRSError
            raise kind(message) from error
        except RasterioError as error:
            # rasterio's "Read failed. See previous exception" keeps GDAL's message in the cause
            cause = error.__cause__ if error.__cause__ is not None else error
            detail = (str(cause).replace(location or path, path).splitlines() or ["read failed"])[0]
            raise CorruptRasterError(f"{path} cannot be read as a raster: {detail}") from error

    def close(self) -> None:
        """Close every open raster."""
        with self._lock:
            sources, self._sources = list(self._sources.values()), OrderedDict()
        for source in sources:
            source.close()

    # -- styles and ranges -----------------------------------------------------------------------
    def style(self, path: str | AssetRef, query: Mapping[str, Sequence[str]]) -> TileStyle:
        """The :class:`TileStyle` of a request's ``bands``/``rescale``/``colormap`` parameters."""
        source = self.source(path)
        picked = {key: list(query[key]) for key in ("bands", "rescale", "colormap") if key in query}
        return parse_style_query(picked, TileStyle(bands=default_bands(source.count)), source.count)

    def auto_rescale(self, path: str | AssetRef, bands: tuple[int, ...]) -> tuple[Range, ...]:
        """2nd-98th percentiles of ``bands`` from the overviews (or a decimated read), computed once."""
        source = self.source(path)
        key = (*self._key(source.location), bands)
        with self._lock:
            found = self._ranges.get(key)  # type: ignore[arg-type]
        if found is None:
            with self._reading(path, source.location):
                sample = source.sample(bands=bands)
            found = percentile_ranges(sample)
            with self._lock:
                self._ranges[key] = found  # type: ignore[index]
        return found

    # -- answers ---------------------------------------------------------------------------------
    def tile(
        self,
        path: str | AssetRef,
        z: int,
        x: int,
        y: int,
        *,
        style: TileStyle | None = None,
        categories: Mapping[int, tuple[int, int, int, int]] | None = None,
        fmt: str = "png",
    ) -> bytes:
        """Tile ``z/x/y`` (Web Mercator, 256 px) of ``path`` as PNG or WebP bytes.

        Raises
        ------
        ConfigurationError
            For a tile index or format that does not exist, or bad style values.
        """
        if fmt not in FORMATS:
            raise ConfigurationError(f"tile format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        if not is_valid_tile(z, x, y):
            raise ConfigurationError(f"no tile {z}/{x}/{y}")
        source = self.source(path)
        style = style or TileStyle(bands=default_bands(source.count))
        if categories is not None and len(style.bands) != 1:
            raise ConfigurationError("categories apply to a single band")
        with self._reading(path, source.location):
            image = source.tile(x, y, z, bands=style.bands)
        if image is None:
            return transparent_image(fmt)
        rescale = None if categories is not None else (style.rescale or self.auto_rescale(path, style.bands))
        return render_image(image, rescale=rescale, colormap=style.colormap, categories=categories, fmt=fmt)

    def info(self, path: str | AssetRef) -> dict[str, Any]:
        """Size, CRS, bounds (raster CRS and WGS84), bands, dtype, nodata, overviews, zoom range."""
        source = self.source(path)
        with source.reader() as reader:
            dataset = reader.dataset
            return {
                "path": str(path),
                "width": dataset.width,
                "height": dataset.height,
                "count": dataset.count,
                "dtype": dataset.dtypes[0],
                "nodata": None
                if dataset.nodata is None or not np.isfinite(dataset.nodata)
                else dataset.nodata,
                "crs": dataset.crs.to_string(),
                "bounds": list(dataset.bounds),
                "geographic_bounds": list(source.bounds),
                "resolution": list(dataset.res),
                "overviews": dataset.overviews(1),
                "minzoom": source.minzoom,
                "maxzoom": source.maxzoom,
                "band_descriptions": [d or f"band {i + 1}" for i, d in enumerate(dataset.descriptions)],
                "colorinterp": [c.name for c in dataset.colorinterp],
            }

    def point(self, path: str | AssetRef, lon: float, lat: float) -> dict[str, Any]:
        """Every band's value at ``lon, lat`` (WGS84), with the point in the raster CRS and its pixel.

        Values are ``None`` where the pixel is nodata; ``inside`` is false off the raster.
        """
        from rasterio.warp import transform as warp_transform

        if not (np.isfinite(lon) and np.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise ConfigurationError(f"lon, lat out of range: {lon}, {lat}")
        source = self.source(path)
        with source.reader() as reader:
            dataset = reader.dataset
            xs, ys = warp_transform("EPSG:4326", dataset.crs, [lon], [lat])
            x, y = float(xs[0]), float(ys[0])
            row, col = dataset.index(x, y)
            inside = 0 <= row < dataset.height and 0 <= col < dataset.width
            values: list[float | None] = [None] * dataset.count
            if inside:
                from rasterio.windows import Window

                window = Window(col, row, 1, 1)
                with self._reading(path, source.location):
                    data = dataset.read(window=window, masked=True)
                for index in range(dataset.count):
                    cell = data[index, 0, 0]
                    if cell is not np.ma.masked and np.isfinite(float(cell)):
                        values[index] = float(cell) if data.dtype.kind == "f" else int(cell)
            return {
                "lon": lon,
                "lat": lat,
                "crs": dataset.crs.to_string(),
                "x": x,
                "y": y,
                "row": int(row),
                "col": int(col),
                "inside": bool(inside),
                "values": values,
                "bands": [d or f"band {i + 1}" for i, d in enumerate(dataset.descriptions)],
            }

    def statistics(
        self, path: str | AssetRef, *, bands: Sequence[int] | None = None, bins: int = 64
    ) -> dict[str, Any]:
        """Per-band min/max/mean/std, 2nd and 98th percentiles and a histogram, from the overviews."""
        source = self.source(path)
        chosen = check_band_indexes(bands, source.count) if bands else tuple(range(1, source.count + 1))
        if not 2 <= bins <= 1024:
            raise ConfigurationError("bins must lie between 2 and 1024")
        with self._reading(path, source.location):
            sample = np.ma.masked_invalid(np.ma.asarray(source.sample(bands=chosen), dtype="float64"))
        if sample.ndim == 2:
            sample = sample[np.newaxis]
        ranges = percentile_ranges(sample)
        result = {}
        for band, data, (low, high) in zip(chosen, sample, ranges, strict=True):
            valid = data.compressed()
            if valid.size == 0:
                result[str(band)] = {"valid": 0}
                continue
            counts, edges = np.histogram(valid, bins=bins)
            result[str(band)] = {
                "min": float(valid.min()),
                "max": float(valid.max()),
                "mean": float(valid.mean()),
                "std": float(valid.std()),
                "p2": low,
                "p98": high,
                "valid": int(valid.size),
                "histogram": {"counts": counts.tolist(), "edges": edges.tolist()},
            }
        return {"path": str(path), "sample_size": SAMPLE_SIZE, "bands": result}

    def vector(self, path: str) -> dict[str, Any]:
        """A GeoJSON/GeoPackage/FlatGeobuf file under the root as a GeoJSON FeatureCollection in WGS84."""
        location = self.locate(path)
        if not location.lower().endswith(VECTOR_SUFFIXES):
            raise ConfigurationError(f"not a vector file ({', '.join(VECTOR_SUFFIXES)}): {path}")
        import geopandas

        try:
            frame = geopandas.read_file(location, rows=MAX_FEATURES)
        except Exception as error:  # pyogrio's DataSourceError / DataLayerError, fiona's, GDAL's
            detail = str(error).replace(location, path).splitlines()[0][:160]
            raise VectorError(
                f"{path} is not a vector file GDAL/OGR can read (GeoJSON FeatureCollection, GeoPackage, "
                f"FlatGeobuf, shapefile): {detail}"
            ) from error
        if "geometry" not in frame or frame.geometry.isna().all() and len(frame):
            raise VectorError(f"{path} has no geometries to draw")
        if frame.crs is not None:
            frame = frame.to_crs("EPSG:4326")
        return json.loads(frame.to_json(drop_id=True))

    def convert_to_cog(self, path: str) -> CogJob:
        """Start writing ``name.cog.tif`` with overviews beside ``path`` (a file under the root)."""
        location = self.locate(path)
        if location.startswith(("http://", "https://")):
            raise ConfigurationError("only files under the server root can be converted")
        self.source(path)  # a file that is no raster is refused now, not in the background job
        return start_cog_conversion(location)

    @staticmethod
    def job(job_id: str) -> CogJob | None:
        """A conversion job by id."""
        return cog_job(job_id)

    def relative(self, location: str) -> str:
        """``location`` relative to the root (for answers)."""
        return str(Path(location).relative_to(self.root))
