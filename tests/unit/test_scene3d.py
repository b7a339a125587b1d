"""3D scene payloads: terrain tiles by level (bounded reads, seams, nodata), point levels, framing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from ai4geo_kernel import io, scene3d
from ai4geo_kernel.errors import PathNotAllowedError


def _dsm(path: Path, size: int = 512) -> Path:
    rows, cols = np.mgrid[0:size, 0:size]
    heights = (100 + rows * 0.1 + cols * 0.2).astype("float32")
    heights[:8, :8] = -9999
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "nodata": -9999,
        "crs": "EPSG:32631",
        "transform": from_origin(374000, 4829000, 1.0, 1.0),
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(heights, 1)
    return path


FRAME = scene3d.SceneFrame.parse("EPSG:32631", "374000,4828000")


def test_terrain_levels_cover_the_raster_and_share_edges(tmp_path: Path) -> None:
    dsm = str(_dsm(tmp_path / "dsm.tif"))
    assert scene3d.terrain_levels(512, 512) == 4  # level 3: 8 x 8 tiles of 64 cells of one pixel
    meta, whole = scene3d.terrain_tile(dsm, 0, 0, 0, FRAME)
    assert meta["bounds"] == [374000, 4828488, 374512, 4829000]
    assert whole["positions"].shape == (65 * 65, 3)
    assert whole["positions"][:, 0].min() == 0 and whole["positions"][:, 0].max() == 512
    _, west = scene3d.terrain_tile(dsm, 1, 0, 0, FRAME)
    _, east = scene3d.terrain_tile(dsm, 1, 1, 0, FRAME)
    # the east column of the west tile lies on the west column of the east tile
    assert np.array_equal(
        west["positions"].reshape(65, 65, 3)[:, -1, :2], east["positions"].reshape(65, 65, 3)[:, 0, :2]
    )
    # the heights follow the plane 100 + 0.1 row + 0.2 col (about one pixel of resampling)
    p = east["positions"]
    expected = 100 + (4829000 - (p[:, 1] + 4828000)) * 0.1 + (p[:, 0]) * 0.2
    assert np.abs(p[:, 2] - expected).max() < 0.5
    # triangles touching nodata are dropped, the others kept
    assert len(west["indices"]) < 64 * 64 * 2 == len(east["indices"])
    with pytest.raises(ValueError):
        scene3d.terrain_tile(dsm, 1, 2, 0, FRAME)


def test_point_levels_partition_the_cloud(tmp_path: Path) -> None:
    xyz = np.column_stack([np.arange(1000.0) + 374000, np.full(1000, 4828000.0), np.arange(1000.0)])
    io.write_las(tmp_path / "p.las", xyz, crs="EPSG:32631")
    levels = scene3d.point_levels(1000, first=100)
    assert levels == 5
    seen = []
    for level in range(levels):
        meta, arrays = scene3d.point_level(str(tmp_path / "p.las"), level, FRAME, first=100)
        seen.append(arrays["positions"][:, 2])
        assert meta["levels"] == levels
    all_z = np.sort(np.concatenate(seen))
    assert np.allclose(all_z, np.arange(1000.0))  # every point once, no duplicate
    assert len(seen[0]) == 63  # a uniform stride of 16


def test_framing_round_trip_and_service_paths(tmp_path: Path) -> None:
    payload = scene3d.pack_arrays(
        {"a": 1}, {"x": np.arange(5, dtype=np.float32), "c": np.arange(3, dtype=np.uint8)}
    )
    meta, arrays = scene3d.unpack_arrays(payload)
    assert meta == {"a": 1} and arrays["x"].tolist() == [0, 1, 2, 3, 4] and arrays["c"].tolist() == [0, 1, 2]
    _dsm(tmp_path / "dsm.tif", 128)
    service = scene3d.Scene3DService(tmp_path)
    info = service.info("dsm.tif")
    assert (info["kind"], info["crs"], info["levels"]) == ("terrain", "EPSG:32631", 2)
    for bad in ("../dsm.tif", "/etc/passwd", "http://example.com/a.tif", "/vsicurl/x"):
        with pytest.raises(PathNotAllowedError):
            service.info(bad)
    with pytest.raises(FileNotFoundError):
        service.info("missing.tif")
