"""Web Mercator arithmetic for the 2D viewer: fitting bounds into a map view, checking tile indices."""

from __future__ import annotations

import math

__all__ = [
    "TILE_SIZE",
    "MAX_LATITUDE",
    "MAX_ZOOM",
    "Bounds",
    "mercator_fraction_y",
    "bounds_center",
    "fit_zoom",
    "is_valid_tile",
]

#: Side of an XYZ tile in pixels.
TILE_SIZE = 256
#: Latitude limit of Web Mercator (EPSG:3857).
MAX_LATITUDE = 85.0511287798066
#: Deepest zoom the viewer serves (about 4 cm pixels at the equator).
MAX_ZOOM = 24

#: ``(west, south, east, north)`` in degrees (WGS84).
Bounds = tuple[float, float, float, float]


def mercator_fraction_y(latitude: float) -> float:
    """Position of ``latitude`` on the Web Mercator world square, 0 at the north edge, 1 at the south."""
    latitude = max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude))
    sine = math.sin(math.radians(latitude))
    return 0.5 - math.log((1 + sine) / (1 - sine)) / (4 * math.pi)


def _latitude_of_fraction(fraction: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * fraction))))


def bounds_center(bounds: Bounds) -> tuple[float, float]:
    """``(latitude, longitude)`` of the centre of ``bounds`` as drawn on a Web Mercator map.

    The latitude is the middle in Mercator space, not in degrees, so the bounds appear centred.
    """
    west, south, east, north = bounds
    middle = (mercator_fraction_y(north) + mercator_fraction_y(south)) / 2
    return _latitude_of_fraction(middle), (west + east) / 2


def fit_zoom(
    bounds: Bounds,
    *,
    width_px: int = 800,
    height_px: int = 400,
    tile_size: int = TILE_SIZE,
    max_zoom: int = MAX_ZOOM,
) -> int:
    """Deepest integer zoom at which ``bounds`` fits in a ``width_px`` x ``height_px`` map view.

    Parameters
    ----------
    bounds : tuple
        ``(west, south, east, north)`` in degrees, ``west <= east`` (no antimeridian crossing).
    width_px, height_px : int
        Size of the map view; 400 px is ipyleaflet's default height, 800 px a notebook's width.
    tile_size : int
        Tile side in pixels.
    max_zoom : int
        Cap for tiny (or point) bounds.

    Returns
    -------
    int
        Zoom in ``[0, max_zoom]``.
    """
    west, south, east, north = bounds
    span_x = max((east - west) / 360.0, 0.0)
    span_y = max(mercator_fraction_y(south) - mercator_fraction_y(north), 0.0)
    candidates = [max_zoom]
    for span, pixels in ((span_x, width_px), (span_y, height_px)):
        if span > 0:
            candidates.append(math.floor(math.log2(pixels / (tile_size * span))))
    return max(0, min(candidates))


def is_valid_tile(z: int, x: int, y: int, *, max_zoom: int = MAX_ZOOM) -> bool:
    """Whether ``z/x/y`` names a tile of the Web Mercator grid (``0 <= x, y < 2**z``)."""
    return 0 <= z <= max_zoom and 0 <= x < 2**z and 0 <= y < 2**z
