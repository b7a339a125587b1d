"""Tiles of a Dask-backed DataArray line up with rio-tiler's tiles of the same array written as a GeoTIFF:
adjacent tiles, at zooms where tile edges cut the array, full resolution and decimated (zoomed-out) reads.

A shift of a few pixels between tiles (a seam at tile boundaries) shows as a best-matching offset
other than zero between the two renderings of a tile."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import morecantile
import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr
from affine import Affine
from rio_tiler.io import Reader

from ai4geo_kernel.tiles import ArraySource

pytestmark = pytest.mark.integration
TMS = morecantile.tms.get("WebMercatorQuad")
SIZE, PIXEL, WEST, NORTH = 3000, 10.0, 360_000.0, 4_840_000.0


@pytest.fixture(scope="module", params=["centre", "centre+transform", "stackstac"])
def dask_array(request, tmp_path_factory) -> tuple[xr.DataArray, Path]:  # type: ignore[no-untyped-def]
    """A (band, y, x) float32 array on Dask, with x/y at pixel centres (rioxarray), at centres with a
    ``transform`` attribute, or like stackstac (``xy_coords="topleft"``: x/y at the pixels' top-left
    corners, the grid in a ``transform`` attribute); the same pixels written as a tiled GeoTIFF with the
    true grid."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    values = np.stack(
        [
            np.sin(rows / 37.0) * 100 + np.cos(cols / 23.0) * 100,
            np.cos(cols / 29.0) * 100 + np.sin(rows / 41.0) * 50,
        ]
    )
    array = xr.DataArray(
        da.from_array(values.astype("float32"), chunks=(1, 256, 256)),
        dims=("band", "y", "x"),
        coords={
            "band": [1, 2],
            "x": WEST + PIXEL * (np.arange(SIZE) + 0.5),
            "y": NORTH - PIXEL * (np.arange(SIZE) + 0.5),
        },
        name="waves",
    ).rio.write_crs("EPSG:32631")
    path = tmp_path_factory.mktemp("seam") / f"{request.param}.tif"
    array.compute().rio.to_raster(path, tiled=True, blockxsize=256, blockysize=256)
    if request.param != "centre":
        array.attrs["transform"] = Affine(PIXEL, 0, WEST, 0, -PIXEL, NORTH)
    if request.param == "stackstac":
        array = array.assign_coords(x=array.x - PIXEL / 2, y=array.y + PIXEL / 2)
    return array, path


def _best_shift(a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> tuple[int, int]:
    """Offset (dy, dx) in -4..4 that makes ``a`` closest to ``b``, on pixels valid in both after the shift."""
    scores = {}
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            shifted = np.roll(a, (dy, dx), axis=(0, 1))
            inner = valid & np.roll(valid, (dy, dx), axis=(0, 1))
            inner[:4], inner[-4:], inner[:, :4], inner[:, -4:] = False, False, False, False
            scores[(dy, dx)] = float(np.mean(np.abs(shifted - b)[inner])) if inner.sum() > 100 else np.inf
    return min(scores, key=lambda key: (scores[key], abs(key[0]) + abs(key[1])))


@pytest.mark.parametrize("zoom", [11, 12, 14, 15])
def test_adjacent_tiles_match_rio_tiler_on_the_same_array(dask_array, zoom: int) -> None:
    array, path = dask_array
    source = ArraySource(array)
    west, south, east, north = source.bounds
    centre = TMS.tile((west + east) / 2, (south + north) / 2, zoom)
    compared = 0
    with Reader(str(path)) as reader:
        for dx in (-1, 0, 1):
            for dy in (0, 1):
                tile = morecantile.Tile(centre.x + dx, centre.y + dy, zoom)
                if not reader.tile_exists(*tile):
                    continue
                ours = source.tile(tile.x, tile.y, zoom, bands=(1, 2))
                theirs = reader.tile(tile.x, tile.y, zoom, indexes=(1, 2), tilesize=256)
                assert ours is not None
                valid = ~np.ma.getmaskarray(ours.array).any(axis=0) & ~np.ma.getmaskarray(theirs.array).any(
                    axis=0
                )
                if valid.any(axis=0).sum() < 64 or valid.any(axis=1).sum() < 64:
                    continue  # a thin strip along the array's edge: too narrow to find an offset in
                for band in range(2):
                    a, b = ours.array.data[band], theirs.array.data[band]
                    assert _best_shift(a, b, valid) == (0, 0), (tile, band)
                    if source._level_for(tile.x, tile.y, zoom).factor == 1:
                        np.testing.assert_array_equal(a[valid], b[valid])
                    else:  # a decimated read: nearest neighbour of every 2**k-th pixel, close to GDAL's
                        assert np.median(np.abs(a - b)[valid]) < 5.0
                compared += 1
    assert compared >= 2


def test_decimated_levels_cover_exactly_the_array(dask_array) -> None:
    array, _ = dask_array
    source = ArraySource(array)
    for level in (1, 2, 3):
        view = source._level(level).reader.input
        assert view.rio.resolution() == (PIXEL * 2**level, -PIXEL * 2**level)
        np.testing.assert_allclose(
            view.rio.bounds(), (WEST, NORTH - SIZE * PIXEL, WEST + SIZE * PIXEL, NORTH), atol=1e-6
        )
