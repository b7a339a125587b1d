"""Unit tests of the layer registry (opaque ids) and automatic display ranges."""

from __future__ import annotations

import numpy as np
import pytest

from ai4geo_kernel.tiles._statistics import percentile_ranges
from ai4geo_kernel.tiles._style import TileStyle
from ai4geo_kernel.viz._layers import LAYER_ID_PATTERN, LayerRegistry
from ai4geo_kernel.viz._server import _TILE_PATH


class _FakeSource:
    name = "fake"
    count = 3
    bounds = (0.0, 0.0, 1.0, 1.0)
    minzoom, maxzoom = 5, 12

    def __init__(self) -> None:
        self.samples = 0
        self.closed = False

    def tile(self, x, y, z, *, bands):  # pragma: no cover - not used here
        return None

    def sample(self, *, bands):
        self.samples += 1
        data = np.arange(len(bands) * 100, dtype="float64").reshape(len(bands), 10, 10)
        return np.ma.MaskedArray(data, mask=np.zeros_like(data, dtype=bool))

    def close(self) -> None:
        self.closed = True


def test_ids_are_opaque_unique_and_url_safe() -> None:
    registry = LayerRegistry()
    ids = {registry.add(_FakeSource(), TileStyle(bands=(1,))).id for _ in range(200)}
    assert len(ids) == 200
    assert all(LAYER_ID_PATTERN.fullmatch(layer_id) for layer_id in ids)
    assert all("/" not in layer_id and "." not in layer_id for layer_id in ids)


@pytest.mark.parametrize(
    "layer_id",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "..",
        "",
        "http://127.0.0.1/x.tif",
        "a" * 22 + "/",
        "%2e%2e",
        "a" * 22,
        None,
    ],
)
def test_anything_but_a_registered_id_is_unknown(layer_id: object) -> None:
    registry = LayerRegistry()
    registry.add(_FakeSource(), TileStyle(bands=(1,)))
    assert registry.get(layer_id) is None  # type: ignore[arg-type]
    assert layer_id not in registry


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/../../etc/passwd/1/2/3.png",
        "/tiles/%2e%2e%2f%2e%2e%2fetc%2fpasswd/1/2/3.png",
        "/tiles/abc/1/2/3.png/../../x",
        "/tiles/abc/1/2/3.jpg",
        "/etc/passwd",
        "/tiles/abc/1/2/-3.png",
    ],
)
def test_tile_route_matches_only_tile_paths(path: str) -> None:
    assert _TILE_PATH.fullmatch(path) is None


def test_tile_route_reads_id_and_indices() -> None:
    match = _TILE_PATH.fullmatch("/tiles/AbC-_09xyzAbC-_09xyzAB/14/8329/5951.png")
    assert match is not None
    assert (match["layer"], match["z"], match["x"], match["y"]) == (
        "AbC-_09xyzAbC-_09xyzAB",
        "14",
        "8329",
        "5951",
    )


def test_remove_closes_the_source() -> None:
    registry = LayerRegistry()
    source = _FakeSource()
    layer = registry.add(source, TileStyle(bands=(1,)), name="dsm")
    assert layer.name == "dsm"
    assert registry.get(layer.id) is layer
    assert registry.remove(layer.id) is True
    assert source.closed and registry.get(layer.id) is None
    assert registry.remove(layer.id) is False


def test_automatic_range_is_computed_once_per_band_set() -> None:
    source = _FakeSource()
    layer = LayerRegistry().add(source, TileStyle(bands=(1, 2, 3)))
    first = layer.rescale_for(layer.style)
    assert layer.rescale_for(layer.style) == first
    assert source.samples == 1
    assert len(first) == 3
    layer.rescale_for(TileStyle(bands=(2,)))
    assert source.samples == 2
    explicit = TileStyle(bands=(1,), rescale=((0.0, 1.0),))
    assert layer.rescale_for(explicit) == ((0.0, 1.0),)
    assert source.samples == 2


def test_percentile_ranges_ignore_masked_and_nan_pixels() -> None:
    data = np.ma.MaskedArray(np.linspace(0, 100, 101).reshape(1, 101), mask=False)
    data[0, :10] = np.ma.masked
    data.data[0, 50] = np.nan
    ((low, high),) = percentile_ranges(data)
    valid = np.delete(np.linspace(0, 100, 101)[10:], 40)
    assert (low, high) == pytest.approx(tuple(np.percentile(valid, [2, 98])))


def test_percentile_ranges_of_degenerate_bands() -> None:
    constant = np.ma.MaskedArray(np.full((2, 4, 4), 7.0), mask=False)
    constant.mask = np.zeros_like(constant.data, dtype=bool)
    constant.mask[1] = True
    assert percentile_ranges(constant) == ((7.0, 8.0), (0.0, 1.0))
    # percentiles equal (a few outliers): fall back to min and max
    mostly_constant = np.ma.MaskedArray(np.array([[1.0] * 100 + [5.0]]), mask=False)
    assert percentile_ranges(mostly_constant) == ((1.0, 5.0),)
