"""Search parameters, checked before anything is sent to a provider (pure functions, no I/O)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
import shapely.geometry
import shapely.validation
from shapely.geometry.base import BaseGeometry

from ai4geo_kernel.errors import (
    InvalidBBoxError,
    InvalidDateRangeError,
    InvalidGeometryError,
    InvalidSearchError,
)

__all__ = ["SearchParameters", "parse_bbox", "parse_geometry", "parse_datetime", "parse_cloud_cover"]

DateLike = str | dt.date | dt.datetime


def parse_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    """Check a WGS84 bounding box ``(west, south, east, north)`` and return it as floats.

    Raises
    ------
    InvalidBBoxError
        Not four numbers, out of range, inverted, or empty.
    """
    if isinstance(bbox, str | bytes) or not isinstance(bbox, Sequence) or len(bbox) != 4:
        raise InvalidBBoxError(
            f"bbox must be four numbers (west, south, east, north) in degrees, got {bbox!r}"
        )
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InvalidBBoxError(
            f"bbox must be four numbers (west, south, east, north), got {bbox!r}"
        ) from None
    for name, value, limit in (
        ("west", west, 180),
        ("east", east, 180),
        ("south", south, 90),
        ("north", north, 90),
    ):
        if not -limit <= value <= limit:
            raise InvalidBBoxError(
                f"bbox {name}={value} is out of range [-{limit}, {limit}]: bbox is (west, south, east, north) "
                "in WGS84 degrees, not projected coordinates"
            )
    if south >= north:
        raise InvalidBBoxError(f"bbox is inverted or empty: south={south} must be below north={north}")
    if west >= east:
        raise InvalidBBoxError(
            f"bbox is inverted or empty: west={west} must be less than east={east} "
            "(to cross the antimeridian, search each side separately)"
        )
    return west, south, east, north


def parse_geometry(geometry: Any) -> BaseGeometry:
    """Read a search geometry: GeoJSON (dict or string, Feature or FeatureCollection too), WKT or shapely.

    Raises
    ------
    InvalidGeometryError
        Not readable, empty, invalid as a polygon, or not in WGS84 degrees.
    """
    geom: BaseGeometry
    try:
        if isinstance(geometry, BaseGeometry):
            geom = geometry
        elif isinstance(geometry, str):
            text = geometry.strip()
            geom = parse_geometry(json.loads(text)) if text.startswith("{") else shapely.from_wkt(text)
        elif isinstance(geometry, Mapping) and geometry.get("type") == "Feature":
            geom = parse_geometry(geometry.get("geometry"))
        elif isinstance(geometry, Mapping) and geometry.get("type") == "FeatureCollection":
            parts = [parse_geometry(f) for f in geometry.get("features", [])]
            if not parts:
                raise InvalidGeometryError("geometry is an empty FeatureCollection")
            geom = shapely.union_all(parts)
        elif isinstance(geometry, Mapping):
            geom = shapely.geometry.shape(geometry)
        elif hasattr(geometry, "__geo_interface__"):
            geom = shapely.geometry.shape(geometry.__geo_interface__)
        else:
            raise InvalidGeometryError(
                f"geometry must be GeoJSON, WKT or a shapely geometry, got {type(geometry)}"
            )
    except InvalidGeometryError:
        raise
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        json.JSONDecodeError,
        shapely.errors.ShapelyError,
    ) as exc:
        raise InvalidGeometryError(f"geometry is malformed: {exc}") from None
    if geom.is_empty:
        raise InvalidGeometryError("geometry is empty")
    if not geom.is_valid:
        raise InvalidGeometryError(f"geometry is invalid: {shapely.validation.explain_validity(geom)}")
    west, south, east, north = geom.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidGeometryError(
            f"geometry bounds {geom.bounds} are outside WGS84 degrees: reproject it to EPSG:4326 first"
        )
    return geom


def parse_datetime(value: DateLike, *, parameter: str, end_of_day: bool = False) -> dt.datetime:
    """Read a date or datetime as an aware UTC datetime.

    A date alone means the start of that day, or its last microsecond when ``end_of_day`` is true (so that
    ``end="2024-12-31"`` includes the acquisitions of December 31st). Naive datetimes are taken as UTC.
    """
    if isinstance(value, dt.datetime):
        parsed, date_only = value, False
    elif isinstance(value, dt.date):
        parsed, date_only = dt.datetime(value.year, value.month, value.day), True
    elif isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidDateRangeError(
                f"{parameter}={value!r} is not an ISO 8601 date or datetime (e.g. '2024-06-01')",
                parameter=parameter,
            ) from None
        date_only = len(text) <= 10
    else:
        raise InvalidDateRangeError(
            f"{parameter} must be a date, a datetime or an ISO 8601 string, got {value!r}",
            parameter=parameter,
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    if date_only and end_of_day:
        parsed = parsed + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return parsed


def parse_cloud_cover(value: float | None) -> float | None:
    """Check a maximum cloud cover in percent (0 to 100)."""
    if value is None:
        return None
    try:
        cover = float(value)
    except (TypeError, ValueError):
        raise InvalidSearchError(
            f"cloud_cover must be a number of percent, got {value!r}", parameter="cloud_cover"
        ) from None
    if not 0 <= cover <= 100:
        raise InvalidSearchError(
            f"cloud_cover={value} must be between 0 and 100 (percent)", parameter="cloud_cover"
        )
    return cover


@dataclass(frozen=True)
class SearchParameters:
    """A checked search: what :func:`ai4geo_kernel.catalog.search` sends, and how to write it again as code."""

    collection: str
    geometry: BaseGeometry | None = None
    bbox: tuple[float, float, float, float] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    cloud_cover: float | None = None
    limit: int | None = None
    provider: str | None = None
    query: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        collection: str,
        *,
        bbox: Sequence[float] | None = None,
        geometry: Any = None,
        start: DateLike | None = None,
        end: DateLike | None = None,
        cloud_cover: float | None = None,
        limit: int | None = None,
        provider: str | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> SearchParameters:
        """Check every parameter; raise the :class:`InvalidSearchError` subclass naming the first bad one."""
        if not isinstance(collection, str) or not collection.strip():
            raise InvalidSearchError("collection must be a non-empty string", parameter="collection")
        if bbox is not None and geometry is not None:
            raise InvalidSearchError("give bbox or geometry, not both", parameter="geometry")
        box = parse_bbox(bbox) if bbox is not None else None
        geom = parse_geometry(geometry) if geometry is not None else (shapely.box(*box) if box else None)
        begin = parse_datetime(start, parameter="start") if start is not None else None
        finish = parse_datetime(end, parameter="end", end_of_day=True) if end is not None else None
        if begin is not None and finish is not None and finish < begin:
            raise InvalidDateRangeError(f"end ({end}) is before start ({start})", parameter="end")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise InvalidSearchError(f"limit must be a positive integer, got {limit!r}", parameter="limit")
        return cls(
            collection=collection.strip(),
            geometry=geom,
            bbox=box,
            start=begin,
            end=finish,
            cloud_cover=parse_cloud_cover(cloud_cover),
            limit=limit,
            provider=provider,
            query=dict(query or {}),
        )
