"""Unit tests of layer styles: argument checks and the tile URL query round trip."""

from __future__ import annotations

from urllib.parse import parse_qs

import numpy as np
import pytest

from ai4geo_kernel.errors import ConfigurationError
from ai4geo_kernel.tiles._style import (
    TileStyle,
    check_bands,
    check_colormap,
    check_rescale,
    default_bands,
    parse_style_query,
    style_query,
)


@pytest.mark.parametrize(("count", "bands"), [(1, (1,)), (2, (1,)), (3, (1, 2, 3)), (4, (1, 2, 3))])
def test_default_bands(count: int, bands: tuple[int, ...]) -> None:
    assert default_bands(count) == bands
    assert check_bands(None, count) == bands


def test_bands_are_checked() -> None:
    assert check_bands(4, 4) == (4,)
    assert check_bands([3, 2, 1], 4) == (3, 2, 1)
    assert check_bands(np.array([3, 2, 1]), 4) == (3, 2, 1)
    assert check_bands(np.int64(2), 4) == (2,)
    for bad in ([1, 2], [0], [5], [1, 2, 3, 4], ["1"], [True]):
        with pytest.raises(ConfigurationError):
            check_bands(bad, 4)


def test_rescale_forms() -> None:
    assert check_rescale(None, 3) is None
    assert check_rescale((0, 3500), 3) == ((0.0, 3500.0),)
    assert check_rescale([(0, 1), (0, 2), (0, 3)], 3) == ((0.0, 1.0), (0.0, 2.0), (0.0, 3.0))
    assert check_rescale(np.array([[0, 1], [0, 2], [0, 3]]), 3) == ((0.0, 1.0), (0.0, 2.0), (0.0, 3.0))
    assert check_rescale((np.float32(0.5), 2), 1) == ((0.5, 2.0),)
    for bad in ((1, 1), (2, 1), (0, float("nan")), [(0, 1), (0, 2)], "0,1", (0, 1, 2), [(0, 1), 2], "ab", 3):
        with pytest.raises(ConfigurationError):
            check_rescale(bad, 3)


def test_colormap_names_come_from_rio_tiler() -> None:
    assert check_colormap("Viridis", 1) == "viridis"
    assert check_colormap("terrain", 1) == "terrain"
    assert check_colormap(None, 3) is None
    with pytest.raises(ConfigurationError, match="unknown colormap"):
        check_colormap("not-a-colormap", 1)
    with pytest.raises(ConfigurationError, match="single band"):
        check_colormap("viridis", 3)


def test_query_round_trip() -> None:
    style = TileStyle(bands=(1,), rescale=((0.5, 97.25),), colormap="viridis")
    query = style_query(style, style.rescale or ())
    assert query == "bands=1&rescale=0.5,97.25&colormap=viridis"
    assert parse_style_query(parse_qs(query), TileStyle(bands=(2,)), 3) == style


def test_query_keeps_per_band_ranges_exactly() -> None:
    ranges = ((0.1 + 0.2, 1e5), (-3.5, 7.0), (1 / 3, 2 / 3))
    style = TileStyle(bands=(3, 2, 1), rescale=ranges)
    parsed = parse_style_query(parse_qs(style_query(style, ranges)), TileStyle(bands=(1, 2, 3)), 4)
    assert parsed.rescale == ranges  # repr() of floats round-trips exactly


def test_query_defaults_come_from_the_layer() -> None:
    default = TileStyle(bands=(1,), rescale=((0.0, 10.0),), colormap="terrain")
    assert parse_style_query({}, default, 1) == default
    # other bands: the layer's ranges do not apply to them (the automatic range is recomputed)
    assert parse_style_query({"bands": ["2"]}, default, 2) == TileStyle(bands=(2,), colormap="terrain")
    # three bands drop the layer's colormap
    assert parse_style_query({"bands": ["1,2,3"]}, default, 3).colormap is None


@pytest.mark.parametrize(
    "query",
    [
        {"bands": ["a"]},
        {"bands": ["9"]},
        {"rescale": ["1"]},
        {"rescale": ["x,y"]},
        {"colormap": ["nope"]},
        {"path": ["/etc/passwd"]},
        {"url": ["http://example.com/x.tif"]},
    ],
)
def test_bad_queries_are_rejected(query: dict[str, list[str]]) -> None:
    with pytest.raises(ConfigurationError):
        parse_style_query(query, TileStyle(bands=(1,)), 3)
