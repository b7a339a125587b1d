"""Spectral indices and the segmentation tensor: values, nodata, laziness, grids."""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
import rioxarray  # noqa: F401
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ai4geo_kernel import indices
from ai4geo_kernel.errors import MissingCRSError, RasterError

CRS = "EPSG:32631"


def _raster(
    values: np.ndarray, *, res: float = 1.0, x0: float = 374000.0, y0: float = 4829000.0
) -> xr.DataArray:
    rows, cols = values.shape[-2:]
    coords = {"y": y0 - res * (np.arange(rows) + 0.5), "x": x0 + res * (np.arange(cols) + 0.5)}
    dims = ("y", "x")
    if values.ndim == 3:
        coords["band"] = np.arange(1, values.shape[0] + 1)
        dims = ("band", "y", "x")
    return xr.DataArray(values, coords=coords, dims=dims).rio.write_crs(CRS)


def _image(blue, green, red, nir) -> xr.DataArray:  # type: ignore[no-untyped-def]
    image = _raster(np.stack([blue, green, red, nir]))
    image.attrs["long_name"] = ("blue", "green", "red", "nir")
    return image


reflectance = arrays(np.float32, (4, 5), elements=st.floats(0, 10000, width=32))


@given(red=reflectance, nir=reflectance)
@settings(max_examples=60, deadline=None)
def test_ndvi_is_bounded_and_matches_the_formula(red: np.ndarray, nir: np.ndarray) -> None:
    out = indices.ndvi(_raster(red), _raster(nir)).values
    total = red.astype(np.float64) + nir
    defined = total > 0
    assert np.all(np.isnan(out[~defined])), "NaN where NIR + red is 0"
    assert np.all((out[defined] >= -1 - 1e-6) & (out[defined] <= 1 + 1e-6))
    expected = (nir.astype(np.float64) - red)[defined] / total[defined]
    np.testing.assert_allclose(out[defined], expected, atol=1e-5)


@given(r=reflectance, g=reflectance, b=reflectance)
@settings(max_examples=60, deadline=None)
def test_c3_is_arctan_of_blue_over_brightest(r: np.ndarray, g: np.ndarray, b: np.ndarray) -> None:
    out = indices.c3(_raster(r), _raster(g), _raster(b)).values
    brightest = np.maximum(r, g).astype(np.float64)
    defined = brightest > 0
    assert np.all(np.isnan(out[~defined]))
    np.testing.assert_allclose(out[defined], np.arctan(b[defined] / brightest[defined]), atol=1e-5)
    assert np.all((out[defined] >= 0) & (out[defined] <= np.pi / 2 + 1e-6))


@given(
    values=arrays(np.uint16, (4, 3, 4), elements=st.integers(0, 4000)),
    holes=arrays(np.bool_, (4, 3, 4)),
)
@settings(max_examples=40, deadline=None)
def test_nodata_in_any_input_band_gives_nan(values: np.ndarray, holes: np.ndarray) -> None:
    values = np.where(holes, 0, np.maximum(values, 1)).astype(np.uint16)
    image = _image(*values).rio.write_nodata(0)
    ndvi, c3 = indices.ndvi(image).values, indices.c3(image).values
    blue, green, red, nir = holes
    assert np.array_equal(np.isnan(ndvi), red | nir)
    assert np.array_equal(np.isnan(c3), red | green | blue)


def test_nan_in_red_is_not_hidden_by_green() -> None:
    r = np.array([[np.nan, 1.0]], dtype=np.float32)
    g = np.array([[5.0, 1.0]], dtype=np.float32)
    out = indices.c3(_raster(r), _raster(g), _raster(g)).values
    assert np.isnan(out[0, 0]) and np.isfinite(out[0, 1])


def _never_compute(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise AssertionError("a Dask graph was computed")


def test_indices_and_stack_are_lazy_on_dask_arrays() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 3000, (4, 64, 64)).astype(np.float32)
    image = _image(*values)
    image = image.copy(data=da.from_array(values, chunks=(1, 32, 32)))
    dhm = _raster(da.from_array(rng.uniform(0, 20, (64, 64)).astype(np.float32), chunks=32))
    with dask.config.set(scheduler=_never_compute):
        ndvi = indices.ndvi(image)
        c3 = indices.c3(image)
        tensor = indices.stack_channels(image, dhm)
    for result in (ndvi, c3, tensor):
        assert isinstance(result.data, da.Array)
    np.testing.assert_allclose(tensor.sel(channel="ndvi").values, ndvi.values, equal_nan=True)
    np.testing.assert_allclose(tensor.sel(channel="dhm").values, dhm.values)


def test_stack_channels_on_the_image_grid_with_a_coarser_dhm() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(1, 3000, (4, 40, 60)).astype(np.float32)
    image = _image(*values)
    # A 2 m DHM covering the image: a plane whose bilinear resampling is exact inside.
    rows, cols = np.mgrid[0:20, 0:30]
    dhm = _raster((0.5 * rows + 0.25 * cols).astype(np.float32), res=2.0)
    tensor = indices.stack_channels(image, dhm)
    assert tensor.dims == ("channel", "y", "x")
    assert list(tensor.channel.values) == list(indices.CHANNELS)
    assert tensor.shape == (7, 40, 60)
    np.testing.assert_array_equal(tensor.x.values, image.x.values)
    np.testing.assert_array_equal(tensor.y.values, image.y.values)
    assert tensor.rio.crs == image.rio.crs
    assert tensor.rio.transform() == image.rio.transform()
    np.testing.assert_array_equal(tensor.sel(channel="red").values, values[2])
    # The 1 m cell centre (i + 0.5) lies at 2 m row (i + 0.5) / 2 - 0.5: the plane there.
    r1, c1 = np.mgrid[0:40, 0:60]
    expected = 0.5 * ((r1 + 0.5) / 2 - 0.5) + 0.25 * ((c1 + 0.5) / 2 - 0.5)
    inner = (slice(2, -2), slice(2, -2))
    np.testing.assert_allclose(tensor.sel(channel="dhm").values[inner], expected[inner], atol=1e-4)


def test_band_errors_are_clear() -> None:
    image = _raster(np.ones((4, 3, 3), dtype=np.float32))
    with pytest.raises(RasterError, match="no 'red' band"):
        indices.ndvi(image)
    out = indices.ndvi(image, bands={"red": 3, "nir": 4})
    assert np.all(out.values == 0)
    with pytest.raises(RasterError, match="out of 1..4"):
        indices.ndvi(image, bands={"red": 5, "nir": 4})
    with pytest.raises(MissingCRSError):
        indices.stack_channels(image.drop_vars("spatial_ref"), image[0])
