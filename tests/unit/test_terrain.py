"""terrain.dtm / terrain.dhm on small synthetic DSMs: accuracy, grids, errors, the all-nodata guard."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr

from ai4geo_kernel import terrain
from ai4geo_kernel.errors import (
    ConfigurationError,
    DTMExtractionError,
    EmptyRasterError,
    GridMismatchError,
    MissingCRSError,
)

CRS = "EPSG:32631"


def _raster(values: np.ndarray, *, res: float = 1.0) -> xr.DataArray:
    rows, cols = values.shape
    coords = {"y": 4829000.0 - res * (np.arange(rows) + 0.5), "x": 374000.0 + res * (np.arange(cols) + 0.5)}
    return xr.DataArray(values.astype(np.float32), coords=coords, dims=("y", "x")).rio.write_crs(CRS)


def synthetic_scene(size: int = 160, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A gently curved terrain (a 5 % slope and a low hill) with box buildings 6-14 m wide, 4-15 m high."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float64)
    ground = (
        100 + 0.05 * cols + 4 * np.exp(-((rows - size / 2) ** 2 + (cols - size / 3) ** 2) / (2 * 25.0**2))
    )
    surface = ground.copy()
    for _ in range(14):
        h, w = rng.integers(6, 15, 2)
        r0, c0 = rng.integers(2, max(3, size - 16), 2)
        footprint = (slice(r0, r0 + h), slice(c0, c0 + w))
        surface[footprint] = ground[footprint].max() + rng.uniform(4, 15)
    return surface, ground


def test_dtm_removes_buildings_and_keeps_the_grid() -> None:
    surface, ground = synthetic_scene()
    dsm = _raster(surface)
    dtm = terrain.dtm(dsm, progress=False)
    assert dtm.shape == dsm.shape and dtm.dims == ("y", "x")
    np.testing.assert_array_equal(dtm.x.values, dsm.x.values)
    assert dtm.rio.crs == dsm.rio.crs and dtm.rio.transform() == dsm.rio.transform()
    assert dtm.dtype == np.float32 and dtm.name == "dtm"
    error = dtm.values - ground
    rmse = float(np.sqrt(np.mean(error**2)))
    raw = float(np.sqrt(np.mean((surface - ground) ** 2)))
    # Buildings (up to 15 m) are gone: what is left is the terrain curvature the cloth smooths, on a
    # noiseless DSM well under the 1 m pixel.
    assert rmse < 0.3, (rmse, raw)
    assert np.all(dtm.values <= surface + 1e-4), "a DTM is never above the DSM"
    assert dtm.attrs["bulldozer_max_object_size"] == 16.0


def test_refinement_beats_bulldozer_alone_on_a_ridge() -> None:
    surface, ground = synthetic_scene(seed=1)
    dsm = _raster(surface)
    plain = terrain.dtm(dsm, refine_iterations=0, progress=False).values
    refined = terrain.dtm(dsm, progress=False).values
    rmse = lambda a: float(np.sqrt(np.mean((a - ground) ** 2)))  # noqa: E731
    assert rmse(refined) < rmse(plain)


def test_nodata_border_stays_nodata_and_path_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    surface, _ = synthetic_scene(120)
    surface[:, :10] = np.nan
    dsm = _raster(surface)
    path = tmp_path / "dsm.tif"
    dsm.rio.write_nodata(-9999.0, encoded=True).rio.to_raster(path)
    out = tmp_path / "dtm.tif"
    dtm = terrain.dtm(path, output=out, progress=False)
    assert np.all(np.isnan(dtm.values[:, :10])) and np.all(np.isfinite(dtm.values[:, 10:]))
    written = rioxarray.open_rasterio(out, masked=True).squeeze(drop=True)
    np.testing.assert_allclose(written.values, dtm.values, equal_nan=True)
    assert written.rio.crs == dsm.rio.crs
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file left"


def test_errors() -> None:
    surface, _ = synthetic_scene(80)
    with pytest.raises(MissingCRSError):
        terrain.dtm(xr.DataArray(surface, dims=("y", "x")), progress=False)
    with pytest.raises(EmptyRasterError):
        terrain.dtm(_raster(np.full((50, 50), np.nan)), progress=False)
    with pytest.raises(ConfigurationError):
        terrain.dtm(_raster(surface), max_object_size=-1, progress=False)
    with pytest.raises(GridMismatchError, match="pixels"):
        terrain.dhm(_raster(surface), _raster(surface[:-1]))
    with pytest.raises(GridMismatchError, match="CRS"):
        terrain.dhm(_raster(surface), _raster(surface).rio.write_crs("EPSG:2154"))


def test_all_nodata_output_is_refused() -> None:
    # Bulldozer's pyramid must fit in the DSM: on a 40 x 40 DSM, max_object_size=30 m gives back
    # nothing but nodata from Bulldozer, with no error of its own.
    surface, _ = synthetic_scene(40)
    with pytest.raises(DTMExtractionError, match="no valid cell"):
        terrain.dtm(_raster(surface), max_object_size=30, progress=False)


def test_dhm_is_dsm_minus_dtm() -> None:
    surface, ground = synthetic_scene(60)
    dsm, dtm = _raster(surface), _raster(ground)
    dhm = terrain.dhm(dsm, dtm)
    np.testing.assert_allclose(dhm.values, surface - ground, atol=1e-4)
    assert dhm.name == "dhm" and dhm.rio.crs == dsm.rio.crs
    below = terrain.dhm(dtm, dsm)
    assert float(below.min()) == 0.0


def test_lazy_all_nodata_dsm_is_refused_when_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import dask.array as da

    dsm = _raster(np.full((300, 300), np.nan))
    dsm = dsm.copy(data=da.from_array(dsm.values, chunks=150))
    lazy = terrain.dtm(dsm, tile_size=150, progress=False)
    assert isinstance(lazy.data, da.Array)  # nothing computed yet
    with pytest.raises(EmptyRasterError):
        terrain.dtm(dsm, tile_size=150, output=tmp_path / "dtm.tif", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_tiled_numpy_dsm_matches_whole() -> None:
    surface, _ = synthetic_scene(300, seed=2)
    dsm = _raster(surface)
    whole = terrain.dtm(dsm, progress=False).values
    tiled = terrain.dtm(dsm, tile_size=128, progress=False)
    assert tiled.chunks is None and tiled.attrs["tile_size"] == 128
    assert float(np.sqrt(np.mean((tiled.values - whole) ** 2))) < 0.01


def test_edge_sharpness_tells_walls_from_stereo_ramps() -> None:
    from scipy import ndimage

    surface, _ = synthetic_scene(160, seed=3)
    walls = terrain.edge_sharpness(surface)
    # A 5-pixel correlation window spreads each wall over the cells it straddles, as stereo matching does.
    ramps = terrain.edge_sharpness(ndimage.uniform_filter(surface, size=5))
    assert walls is not None and walls > 0.9
    assert ramps is not None and ramps < 0.6
    assert terrain.edge_sharpness(np.full((50, 50), 100.0)) is None
    assert terrain.dtm_settings(_raster(surface)).refine_iterations == 16
    blurred = terrain.dtm_settings(_raster(ndimage.uniform_filter(surface, size=5)))
    assert blurred.refine_iterations == 0  # the DSM is not trusted on ground cells next to objects
