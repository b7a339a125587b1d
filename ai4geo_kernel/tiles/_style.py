"""How a layer is drawn: bands, rescale ranges, colormap; checked once, carried in tile URLs."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np

from ai4geo_kernel.errors import ConfigurationError

__all__ = [
    "Range",
    "TileStyle",
    "default_bands",
    "check_bands",
    "check_band_indexes",
    "check_rescale",
    "check_colormap",
    "style_query",
]

#: ``(minimum, maximum)`` mapped to 0..255.
Range = tuple[float, float]


@dataclass(frozen=True)
class TileStyle:
    """Rendering of a layer's tiles.

    Attributes
    ----------
    bands : tuple of int
        One band (grey or colormapped) or three (red, green, blue); 1-based indices.
    rescale : tuple of Range, optional
        One range per band (or one for all); ``None`` means the layer's automatic range.
    colormap : str, optional
        Name in rio-tiler's colormap registry; single band only.
    """

    bands: tuple[int, ...]
    rescale: tuple[Range, ...] | None = None
    colormap: str | None = None


def default_bands(count: int) -> tuple[int, ...]:
    """Bands 1, 2, 3 of a multi-band raster (as red, green, blue), else band 1."""
    return (1, 2, 3) if count >= 3 else (1,)


def check_bands(bands: int | Sequence[int] | None, count: int) -> tuple[int, ...]:
    """Validate 1-based band indices against a raster of ``count`` bands (``None``: the default)."""
    if bands is None:
        return default_bands(count)
    chosen = (bands,) if isinstance(bands, numbers.Integral) else tuple(bands)
    if len(chosen) not in (1, 3):
        raise ConfigurationError(f"bands must name 1 band or 3 (red, green, blue), got {chosen!r}")
    checked = []
    for band in chosen:
        if isinstance(band, bool) or not isinstance(band, numbers.Integral) or not 1 <= band <= count:
            raise ConfigurationError(f"band {band!r} does not exist: bands are numbered 1 to {count}")
        checked.append(int(band))
    return tuple(checked)


def check_band_indexes(bands: Sequence[int], count: int) -> tuple[int, ...]:
    """Validate any number of 1-based band indices (statistics, point values) against ``count`` bands."""
    checked = []
    for band in bands:
        if isinstance(band, bool) or not isinstance(band, numbers.Integral) or not 1 <= band <= count:
            raise ConfigurationError(f"band {band!r} does not exist: bands are numbered 1 to {count}")
        checked.append(int(band))
    if not checked:
        raise ConfigurationError("name at least one band")
    return tuple(checked)


def check_rescale(rescale: Any, band_count: int) -> tuple[Range, ...] | None:
    """Validate ``rescale``: ``None``, ``(min, max)`` for all bands, or one ``(min, max)`` per band."""
    if rescale is None:
        return None
    problem = f"rescale must be (min, max) or one (min, max) per band, got {rescale!r}"
    if isinstance(rescale, str):
        raise ConfigurationError(problem)
    try:
        ranges = np.asarray(rescale, dtype="float64")
    except (TypeError, ValueError) as error:
        raise ConfigurationError(problem) from error
    if ranges.ndim == 1:
        ranges = ranges[np.newaxis]
    if ranges.ndim != 2 or ranges.shape[1] != 2:
        raise ConfigurationError(problem)
    if len(ranges) not in (1, band_count):
        raise ConfigurationError(f"rescale gives {len(ranges)} ranges for {band_count} bands")
    for low, high in ranges:
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ConfigurationError(
                f"rescale range ({low}, {high}) must be two finite numbers, min below max"
            )
    return tuple((float(low), float(high)) for low, high in ranges)


def check_colormap(colormap: str | None, band_count: int) -> str | None:
    """Validate a colormap name against rio-tiler's registry; only single-band layers take one."""
    if colormap is None:
        return None
    from rio_tiler.colormap import cmap

    name = str(colormap).lower()
    if name not in cmap.list():
        raise ConfigurationError(
            f"unknown colormap {colormap!r}; try viridis, terrain, gray, rdylgn, ... "
            f"({len(cmap.list())} in rio_tiler.colormap.cmap.list())"
        )
    if band_count != 1:
        raise ConfigurationError("a colormap applies to a single band; pass one band (bands=1)")
    return name


def style_query(style: TileStyle, rescale: Sequence[Range]) -> str:
    """Query string of a tile URL: ``bands=1,2,3&rescale=0,3500&colormap=viridis``.

    Every range of ``rescale`` is written (repeated ``rescale=`` keys), so the URL alone says how
    the tile is drawn.
    """
    parts = ["bands=" + ",".join(str(band) for band in style.bands)]
    parts += ["rescale=" + quote(f"{low!r},{high!r}", safe=",") for low, high in rescale]
    if style.colormap:
        parts.append("colormap=" + quote(style.colormap))
    return "&".join(parts)


def parse_style_query(query: Mapping[str, Sequence[str]], default: TileStyle, count: int) -> TileStyle:
    """Read a tile request's query string (as from :func:`urllib.parse.parse_qs`) over ``default``.

    Raises
    ------
    ConfigurationError
        On any malformed or out-of-range value (the server answers 400).
    """
    unknown = set(query) - {"bands", "rescale", "colormap"}
    if unknown:
        raise ConfigurationError(f"unknown tile parameter(s): {', '.join(sorted(unknown))}")
    bands = default.bands
    if "bands" in query:
        try:
            bands = tuple(int(part) for part in query["bands"][-1].split(","))
        except ValueError as error:
            raise ConfigurationError("bands must be comma-separated integers") from error
    bands = check_bands(bands, count)
    rescale = default.rescale if bands == default.bands else None
    if "rescale" in query:
        try:
            ranges = [tuple(float(part) for part in value.split(",")) for value in query["rescale"]]
        except ValueError as error:
            raise ConfigurationError("rescale must be min,max numbers") from error
        rescale = check_rescale(ranges, len(bands))
    colormap = query["colormap"][-1] if "colormap" in query else default.colormap
    if len(bands) != 1:
        colormap = colormap if "colormap" in query else None
    return TileStyle(bands=bands, rescale=rescale, colormap=check_colormap(colormap, len(bands)))
