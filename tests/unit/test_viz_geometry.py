"""Unit tests of the Web Mercator arithmetic: centring and zooming a map on bounds."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai4geo_kernel.tiles._geometry import (
    MAX_LATITUDE,
    MAX_ZOOM,
    TILE_SIZE,
    bounds_center,
    fit_zoom,
    is_valid_tile,
    mercator_fraction_y,
)


def _pixels(bounds: tuple[float, float, float, float], zoom: int) -> tuple[float, float]:
    west, south, east, north = bounds
    world = TILE_SIZE * 2**zoom
    return (east - west) / 360 * world, (mercator_fraction_y(south) - mercator_fraction_y(north)) * world


def test_mercator_fraction_spans_the_world() -> None:
    assert mercator_fraction_y(0) == pytest.approx(0.5)
    assert mercator_fraction_y(MAX_LATITUDE) == pytest.approx(0, abs=1e-9)
    assert mercator_fraction_y(-MAX_LATITUDE) == pytest.approx(1, abs=1e-9)
    assert mercator_fraction_y(90) == mercator_fraction_y(MAX_LATITUDE)  # clamped


def test_whole_world_fits_at_zoom_zero_in_a_400px_high_view() -> None:
    assert fit_zoom((-180, -MAX_LATITUDE, 180, MAX_LATITUDE)) == 0
    assert fit_zoom((-180, -MAX_LATITUDE, 180, MAX_LATITUDE), width_px=1100, height_px=1100) == 2


def test_a_10km_scene_fits_at_zoom_12() -> None:
    # 10 km x 10 km near Montpellier: 13.1 zoom levels across 800 px, 12.1 down 400 px
    assert fit_zoom((3.8, 43.55, 3.925, 43.64)) == 12
    assert fit_zoom((3.8, 43.55, 3.925, 43.64), width_px=1600, height_px=800) == 13


def test_point_and_tiny_bounds_get_the_deepest_zoom() -> None:
    assert fit_zoom((3.0, 43.0, 3.0, 43.0)) == MAX_ZOOM
    assert fit_zoom((3.0, 43.0, 3.0 + 1e-9, 43.0 + 1e-9)) == MAX_ZOOM
    assert fit_zoom((3.0, 43.0, 3.0 + 1e-9, 43.0 + 1e-9), max_zoom=18) == 18


def test_center_is_the_mercator_middle() -> None:
    latitude, longitude = bounds_center((-10, -20, 10, 20))
    assert (latitude, longitude) == (pytest.approx(0, abs=1e-9), 0)
    # north of the equator the Mercator middle lies north of the degree middle
    latitude, _ = bounds_center((0, 40, 1, 60))
    assert 50 < latitude < 60
    assert mercator_fraction_y(latitude) == pytest.approx(
        (mercator_fraction_y(40) + mercator_fraction_y(60)) / 2
    )


@given(
    west=st.floats(-180, 179),
    width=st.floats(1e-6, 360),
    south=st.floats(-85, 84.9),
    height=st.floats(1e-6, 170),
    view_w=st.integers(200, 2000),
    view_h=st.integers(200, 1200),
)
def test_fit_zoom_is_the_deepest_zoom_that_fits(
    west: float, width: float, south: float, height: float, view_w: int, view_h: int
) -> None:
    bounds = (west, south, min(west + width, 180.0), min(south + height, 85.0))
    zoom = fit_zoom(bounds, width_px=view_w, height_px=view_h)
    assert 0 <= zoom <= MAX_ZOOM
    pixels_x, pixels_y = _pixels(bounds, zoom)
    if zoom > 0:  # at zoom 0 nothing smaller exists: it may not fit
        assert pixels_x <= view_w * (1 + 1e-9) and pixels_y <= view_h * (1 + 1e-9)
    if zoom < MAX_ZOOM:
        deeper_x, deeper_y = _pixels(bounds, zoom + 1)
        assert deeper_x > view_w * (1 - 1e-9) or deeper_y > view_h * (1 - 1e-9)


@given(
    west=st.floats(-180, 179),
    width=st.floats(1e-3, 1),
    south=st.floats(-80, 79),
    height=st.floats(1e-3, 1),
)
def test_center_lies_inside_the_bounds(west: float, width: float, south: float, height: float) -> None:
    bounds = (west, south, west + width, south + height)
    latitude, longitude = bounds_center(bounds)
    assert bounds[0] <= longitude <= bounds[2]
    assert bounds[1] - 1e-9 <= latitude <= bounds[3] + 1e-9
    assert math.isfinite(latitude)


@pytest.mark.parametrize(
    ("z", "x", "y", "valid"),
    [
        (0, 0, 0, True),
        (1, 1, 1, True),
        (1, 2, 0, False),
        (3, 0, 8, False),
        (-1, 0, 0, False),
        (25, 0, 0, False),
    ],
)
def test_tile_indices_are_checked(z: int, x: int, y: int, valid: bool) -> None:
    assert is_valid_tile(z, x, y) is valid
