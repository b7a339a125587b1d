"""Tests of ai4geo_kernel.io: atomic COG writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from affine import Affine
from rio_cogeo.cogeo import cog_validate

from ai4geo_kernel.errors import MissingCRSError, RasterError
from ai4geo_kernel.io import atomic_path, write_cog
from ai4geo_kernel.io import cog as cog_module
from ai4geo_kernel.io.cog import overview_count

TRANSFORM = Affine(1.0, 0.0, 373780.0, 0.0, -1.0, 4829710.0)


def _image(bands: int = 3, rows: int = 700, cols: int = 600, dtype: str = "uint16") -> np.ndarray:
    rng = np.random.default_rng(42)
    return (rng.random((bands, rows, cols)) * 4000).astype(dtype)


def test_numpy_array_is_a_valid_cog_with_overviews_and_round_trips(tmp_path: Path) -> None:
    data = _image()
    path = write_cog(
        data,
        tmp_path / "image.tif",
        transform=TRANSFORM,
        crs="EPSG:32631",
        nodata=0,
        band_names=["red", "green", "blue"],
    )
    assert path == tmp_path / "image.tif"
    valid, errors, warnings = cog_validate(path, quiet=True)
    assert valid, errors
    assert not warnings
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32631
        assert src.transform == TRANSFORM
        assert src.nodata == 0
        assert src.descriptions == ("red", "green", "blue")
        assert src.block_shapes[0] == (256, 256)
        overviews = src.overviews(1)
        assert overviews == [2, 4]
        assert max(src.height, src.width) / overviews[-1] <= 256
        np.testing.assert_array_equal(src.read(), data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["image.tif"]


def test_float_2d_with_512_blocks_and_nan_nodata(tmp_path: Path) -> None:
    data = np.linspace(140.0, 180.0, 1100 * 1300, dtype=np.float32).reshape(1100, 1300)
    data[0, 0] = np.nan
    path = write_cog(data, tmp_path / "dsm.tif", transform=TRANSFORM, crs=32631, nodata=np.nan, blocksize=512)
    assert cog_validate(path, quiet=True)[0]
    with rasterio.open(path) as src:
        assert src.count == 1
        assert src.block_shapes[0] == (512, 512)
        assert src.overviews(1) == [2, 4, 8]
        out = src.read(1)
    np.testing.assert_array_equal(out, data)


def test_small_raster_needs_no_overview(tmp_path: Path) -> None:
    path = write_cog(_image(1, 128, 128), tmp_path / "s2.tif", transform=TRANSFORM, crs="EPSG:32631")
    assert cog_validate(path, quiet=True)[0]
    with rasterio.open(path) as src:
        assert src.overviews(1) == []


def test_overview_count() -> None:
    assert overview_count(256, 100) == 0
    assert overview_count(257, 100) == 1
    assert overview_count(5120, 5120) == 5
    assert 5120 / 2 ** overview_count(5120, 5120) <= 256


def test_dataarray_with_rioxarray_crs(tmp_path: Path) -> None:
    data = _image(2, 300, 400).astype(np.float32)
    array = xr.DataArray(
        data,
        dims=("band", "y", "x"),
        coords={"band": ["vv", "vh"], "y": 4829710.0 - 0.5 - np.arange(300), "x": 373780.5 + np.arange(400)},
    ).rio.write_crs("EPSG:32631")
    path = write_cog(array, tmp_path / "s1.tif", nodata=0)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32631
        assert src.transform.almost_equals(TRANSFORM)
        assert src.descriptions == ("vv", "vh")
        np.testing.assert_array_equal(src.read(), data)


def test_dataarray_without_crs_raises(tmp_path: Path) -> None:
    array = xr.DataArray(
        np.zeros((10, 10), dtype=np.uint8),
        dims=("y", "x"),
        coords={"y": np.arange(10.0), "x": np.arange(10.0)},
    )
    with pytest.raises(MissingCRSError):
        write_cog(array, tmp_path / "x.tif")
    assert not any(tmp_path.iterdir())


def test_numpy_without_crs_or_transform_raises(tmp_path: Path) -> None:
    with pytest.raises(MissingCRSError):
        write_cog(np.zeros((10, 10)), tmp_path / "x.tif", transform=TRANSFORM)
    with pytest.raises(RasterError):
        write_cog(np.zeros((10, 10)), tmp_path / "x.tif", crs="EPSG:32631")
    with pytest.raises(RasterError):
        write_cog(np.zeros((2, 2, 2, 2)), tmp_path / "x.tif", transform=TRANSFORM, crs="EPSG:32631")
    with pytest.raises(RasterError):
        write_cog(
            np.zeros((2, 4, 4)), tmp_path / "x.tif", transform=TRANSFORM, crs="EPSG:32631", band_names=["one"]
        )
    assert not any(tmp_path.iterdir())


def test_failure_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(cog_module, "_write_bands", boom)
    with pytest.raises(OSError, match="disk full"):
        write_cog(_image(), tmp_path / "image.tif", transform=TRANSFORM, crs="EPSG:32631")
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _image(1, 300, 300)
    path = write_cog(first, tmp_path / "image.tif", transform=TRANSFORM, crs="EPSG:32631")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(cog_module, "_write_bands", boom)
    with pytest.raises(RuntimeError):
        write_cog(first + 1, path, transform=TRANSFORM, crs="EPSG:32631")
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(src.read(), first)
    assert [p.name for p in tmp_path.iterdir()] == ["image.tif"]


def test_atomic_path_removes_the_temporary_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "file.json"
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        assert tmp.parent == target.parent
        tmp.write_text("half")
        raise ValueError("stop")
    assert list(target.parent.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]
