"""Search parameters are checked before any request, each bad one with an error that names it."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from ai4geo_kernel.catalog import SearchParameters
from ai4geo_kernel.catalog._params import parse_bbox, parse_datetime, parse_geometry
from ai4geo_kernel.errors import (
    Ai4geoError,
    InvalidBBoxError,
    InvalidDateRangeError,
    InvalidGeometryError,
    InvalidSearchError,
)

lon = st.floats(-180, 180, allow_nan=False)
lat = st.floats(-90, 90, allow_nan=False)


@given(lon, lon, lat, lat)
def test_bbox_accepted_iff_ordered_and_in_range(a: float, b: float, c: float, d: float) -> None:
    if a < b and c < d:
        assert parse_bbox([a, c, b, d]) == (a, c, b, d)
    else:
        with pytest.raises(InvalidBBoxError, match="inverted or empty"):
            parse_bbox([a, c, b, d])


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ([1.5, 43.5, 1.4, 43.7], "west=1.5 must be less than east=1.4"),
        ([1.4, 43.7, 1.5, 43.5], "south=43.7 must be below north=43.5"),
        ([1.4, 43.5, 1.5], "four numbers"),
        ("1,2,3,4", "four numbers"),
        ([374000, 4829000, 375000, 4830000], "out of range"),
        ([1.4, -91, 1.5, 43], "south=-91.0 is out of range"),
        (["a", 1, 2, 3], "four numbers"),
    ],
)
def test_bad_bbox_names_the_problem(bbox: object, message: str) -> None:
    with pytest.raises(InvalidBBoxError, match=message) as info:
        SearchParameters.build("demo-s2", bbox=bbox)  # type: ignore[arg-type]
    assert info.value.parameter == "bbox"
    assert isinstance(info.value, Ai4geoError) and isinstance(info.value, ValueError)


def test_end_before_start() -> None:
    with pytest.raises(
        InvalidDateRangeError, match=r"end \(2024-01-01\) is before start \(2024-05-01\)"
    ) as info:
        SearchParameters.build("demo-s2", start="2024-05-01", end="2024-01-01")
    assert info.value.parameter == "end"


def test_unparsable_date_names_the_parameter() -> None:
    with pytest.raises(InvalidDateRangeError, match="start='yesterday' is not an ISO 8601") as info:
        SearchParameters.build("demo-s2", start="yesterday")
    assert info.value.parameter == "start"


def test_date_only_end_includes_the_whole_day() -> None:
    end = parse_datetime("2024-12-31", parameter="end", end_of_day=True)
    assert end == dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    start = parse_datetime(dt.date(2024, 1, 1), parameter="start")
    assert start == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    aware = parse_datetime("2024-06-01T12:00:00+02:00", parameter="start")
    assert aware == dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC)


def test_same_day_range_is_valid() -> None:
    params = SearchParameters.build("demo-s2", start="2024-03-01", end="2024-03-01")
    assert params.start is not None and params.end is not None and params.start < params.end


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
        ("{not json", "malformed"),
        ({"type": "Polygon", "coordinates": "nope"}, "malformed"),
        ("POLYGON ((374000 4829000, 375000 4829000, 375000 4830000, 374000 4829000))", "outside WGS84"),
        ({"type": "FeatureCollection", "features": []}, "empty FeatureCollection"),
        (42, "must be GeoJSON, WKT or a shapely geometry"),
    ],
)
def test_bad_geometry_names_the_problem(geometry: object, message: str) -> None:
    with pytest.raises(InvalidGeometryError, match=message) as info:
        SearchParameters.build("demo-s2", geometry=geometry)
    assert info.value.parameter == "geometry"


def test_geometry_forms_agree() -> None:
    poly = shapely.box(1.43, 43.59, 1.46, 43.61)
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(poly)}
    for form in (
        poly,
        poly.wkt,
        shapely.to_geojson(poly),
        feature,
        {"type": "FeatureCollection", "features": [feature]},
    ):
        assert parse_geometry(form).equals(poly)


def test_bbox_becomes_the_search_geometry() -> None:
    params = SearchParameters.build("demo-s2", bbox=[1.43, 43.59, 1.46, 43.61])
    assert params.geometry is not None and params.geometry.equals(shapely.box(1.43, 43.59, 1.46, 43.61))


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"cloud_cover": 120}, "cloud_cover"),
        ({"cloud_cover": "lots"}, "cloud_cover"),
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"bbox": [1, 43, 2, 44], "geometry": "POINT (1 43)"}, "geometry"),
    ],
)
def test_other_bad_parameters(kwargs: dict[str, object], parameter: str) -> None:
    with pytest.raises(InvalidSearchError) as info:
        SearchParameters.build("demo-s2", **kwargs)  # type: ignore[arg-type]
    assert info.value.parameter == parameter


def test_empty_collection_name() -> None:
    with pytest.raises(InvalidSearchError, match="collection"):
        SearchParameters.build("  ")
