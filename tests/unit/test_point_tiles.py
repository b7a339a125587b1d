"""Point-cloud tiles for the 3D viewer (scene3d.point_tile): a quadtree partition of the cloud, tiles
capped, an index cached by file state, bad tiles refused, server memory bounded by a chunk and a tile."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from ai4geo_kernel import io, scene3d

FRAME = scene3d.SceneFrame.parse("EPSG:32631", "374500,4828500")


def _cloud(path: Path, n: int, *, seed: int = 0, spread: float = 1000.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    xyz = np.column_stack(
        [
            374000 + rng.uniform(0, spread, n),
            4828000 + rng.uniform(0, spread, n),
            np.round(rng.uniform(100, 200, n), 2),
        ]
    )
    classes = (np.arange(n) % 5 + 1).astype(np.uint8)
    if path.suffix == ".ply":
        io.write_ply(path, xyz, classification=classes)
    else:
        io.write_las(path, xyz, crs="EPSG:32631", classification=classes)
    return xyz


def _all_tiles(path: Path, index: scene3d.PointTileIndex):  # type: ignore[no-untyped-def]
    for level in range(index.levels):
        for x in range(2**level):
            for y in range(2**level):
                yield (level, x, y), *scene3d.point_tile(str(path), level, x, y, FRAME, index=index)


@pytest.mark.parametrize("suffix", [".las", ".laz", ".ply"])
def test_tiles_partition_the_cloud_and_stay_under_the_cap(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"p{suffix}"
    xyz = _cloud(path, 12_000)
    index = scene3d.point_tile_index(path, tile_points=400, chunk_size=2_500)
    # 12,000 uniform points: 64 tiles of ~190 at level 3, but a level-2 tile holds ~750 > 400
    assert index.levels == 4 and index.count == 12_000 and index.classes == (1, 2, 3, 4, 5)
    assert len(index.chunks) == 5 and index.chunks[:, 1].sum() == 12_000
    positions, per_level = [], [0] * index.levels
    for (level, x, y), meta, arrays in _all_tiles(path, index):
        assert meta["count"] == len(arrays["positions"]) <= 400 and meta["thinned"] == 1
        assert set(np.unique(arrays["classes"])) <= {1, 2, 3, 4, 5}
        # every point lies in its tile's bounds
        west, south, east, north = scene3d.point_tile_bounds(index, level, x, y)
        local = arrays["positions"].astype(np.float64) + [374500, 4828500, 0]
        assert (local[:, 0] >= west - 0.01).all() and (local[:, 0] <= east + 0.01).all()
        assert (local[:, 1] >= south - 0.01).all() and (local[:, 1] <= north + 0.01).all()
        positions.append(local)
        per_level[level] += meta["count"]
    drawn = np.vstack(positions)
    # every point exactly once across all tiles of all levels
    assert len(drawn) == len(xyz)
    order = np.lexsort(drawn.T)
    expected = xyz[np.lexsort(xyz.T)]
    assert np.abs(drawn[order] - expected).max() < 0.02
    # the sampling rule: levels 0..L hold the points of index i % 4**(levels - 1 - L) == 0
    for level in range(index.levels):
        assert sum(per_level[: level + 1]) == len(range(0, 12_000, 4 ** (index.levels - 1 - level)))


def test_a_region_shows_a_uniform_stride_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.las"
    xyz = _cloud(path, 8_000)
    index = scene3d.point_tile_index(path, tile_points=300, chunk_size=1_000)
    # the north-west quarter at levels 0..2: points of index % 4**(levels - 3) == 0 there
    stride = 4 ** (index.levels - 3)
    got = []
    for level in range(3):
        n = 2 ** (level - 1) if level else 1
        for x in range(n):
            for y in range(n):
                _, arrays = scene3d.point_tile(str(path), level, x, y, FRAME, index=index)
                local = arrays["positions"].astype(np.float64) + [374500, 4828500, 0]
                west, south, east, north = scene3d.point_tile_bounds(index, 1, 0, 0)
                inside = (local[:, 0] <= east) & (local[:, 1] >= south)
                got.append(local[inside])
    got_z = np.sort(np.vstack(got)[:, 2])
    minx, miny, maxx, maxy = index.bounds
    ids = np.arange(len(xyz))
    west_half = xyz[:, 0] < (minx + maxx) / 2
    north_half = xyz[:, 1] >= (miny + maxy) / 2
    expected_z = np.sort(xyz[(ids % stride == 0) & west_half & north_half, 2])
    assert len(got_z) == len(expected_z) and np.allclose(got_z, expected_z, atol=0.01)


def test_a_clump_finer_than_the_index_grid_is_thinned_to_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "clump.las"
    rng = np.random.default_rng(3)
    # 9,000 points in a 1 m square and one far corner: a 256 x 256 grid cell of a 2 km cloud holds them all
    xyz = np.vstack(
        [
            np.column_stack(
                [374000 + rng.uniform(0, 1, 9000), 4828000 + rng.uniform(0, 1, 9000), np.zeros(9000)]
            ),
            [[376000.0, 4830000.0, 0.0]],
        ]
    )
    io.write_las(path, xyz, crs="EPSG:32631")
    index = scene3d.point_tile_index(path, tile_points=500, chunk_size=2_000)
    assert index.levels == 12  # the grid's densest cell (9,000 points) taken as uniform: 9,000 / 4**3 <= 500
    # the tiles over the clump (the south-west corner) at each level: none holds more than 4 * 500 points
    metas = [
        scene3d.point_tile(str(path), level, 0, 2**level - 1, FRAME, index=index)[0] for level in range(12)
    ]
    assert max(meta["count"] for meta in metas) <= 4 * 500
    assert max(meta["thinned"] for meta in metas) > 1


def test_index_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "p.laz"
    _cloud(path, 3_000)
    first = scene3d.point_tile_index(path, tile_points=500)
    assert scene3d.point_tile_index(path, tile_points=500) is first  # cached
    assert scene3d.point_tile_index(tmp_path / "." / "p.laz", tile_points=500) is first  # by resolved path
    _cloud(path, 5_000, seed=1)  # rewritten (atomically: a new file, another size and mtime)
    os.utime(path, ns=(first_mtime := os.stat(path).st_mtime_ns, first_mtime + 10**9))
    second = scene3d.point_tile_index(path, tile_points=500)
    assert second is not first and second.count == 5_000


def test_concurrent_first_requests_index_a_file_once(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "p.las"
    _cloud(path, 20_000)
    with ThreadPoolExecutor(4) as pool:
        indexes = list(pool.map(lambda _: scene3d.point_tile_index(path, tile_points=321), range(4)))
    assert all(index is indexes[0] for index in indexes)


def test_bad_levels_and_tiles_are_value_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.las"
    _cloud(path, 2_000)
    index = scene3d.point_tile_index(path, tile_points=500)
    for level, x, y in ((-1, 0, 0), (index.levels, 0, 0), (0, 1, 0), (1, 0, 2), (1, -1, 0)):
        with pytest.raises(ValueError):
            scene3d.point_tile(str(path), level, x, y, FRAME, index=index)
    with pytest.raises(ValueError):
        scene3d.point_tile_index(path, tile_points=0)


def test_read_point_range_seeks_into_las_laz_and_ply(tmp_path: Path) -> None:
    for suffix in (".las", ".laz", ".ply"):
        path = tmp_path / f"r{suffix}"
        xyz = _cloud(path, 3_000)
        part = io.read_point_range(path, 1_234, 500)
        assert part.start == 1_234 and np.allclose(part.xyz, xyz[1_234:1_734], atol=0.006)
        assert np.array_equal(part.classification, (np.arange(1_234, 1_734) % 5 + 1).astype(np.uint8))
        assert len(io.read_point_range(path, 2_900, 500).xyz) == 100  # fewer at the end of the file
        # every 16th point of two ranges, the file opened once (a strided memory map for LAS and PLY)
        first, second = io.iter_point_ranges(path, [(32, 1_000), (2_000, 2_000)], step=16)
        assert (first.start, first.step, second.start) == (32, 16, 2_000)
        assert np.allclose(first.xyz, xyz[32:1_032:16], atol=0.006)
        assert np.allclose(second.xyz, xyz[2_000:3_000:16], atol=0.006)
        assert np.array_equal(second.classification, (np.arange(2_000, 3_000, 16) % 5 + 1).astype(np.uint8))


def test_answering_a_tile_holds_one_chunk_plus_one_tile_not_the_file(tmp_path: Path) -> None:
    """Peak Python/numpy allocations (tracemalloc) while answering tiles of a cloud 40 times the chunk."""
    path = tmp_path / "big.las"
    n, chunk = 400_000, 10_000
    _cloud(path, n)
    file_arrays = n * (3 * 8 + 1)  # the whole cloud as float64 xyz + classes: 10 MB
    tracemalloc.start()
    try:
        index = scene3d.point_tile_index(path, tile_points=5_000, chunk_size=chunk)
        _, indexing_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        tile_peaks = []
        for level, x, y in ((0, 0, 0), (index.levels - 1, 3, 5)):
            meta, arrays = scene3d.point_tile(str(path), level, x, y, FRAME, index=index)
            assert 0 < meta["count"] <= 5_000
            tile_peaks.append(tracemalloc.get_traced_memory()[1])
            del arrays
            tracemalloc.reset_peak()
    finally:
        tracemalloc.stop()
    assert index.levels >= 5 and len(index.chunks) == 40
    # one chunk (10,000 points, read and converted: ~1 MB) plus one tile, far below the file's 10 MB
    assert indexing_peak < file_arrays / 4, indexing_peak
    assert max(tile_peaks) < file_arrays / 4, tile_peaks
