"""``viz.show3d(..., compare=...)``: two dates of one place in the scene a notebook output carries."""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401 - registers .rio
import xarray as xr

from ai4geo_kernel import viz
from ai4geo_kernel.errors import ConfigurationError


def _dsm(offset: float) -> xr.DataArray:
    x = 374_000 + 0.5 + np.arange(64)
    y = 4_829_000 - 0.5 - np.arange(64)
    data = np.full((64, 64), 150 + offset, dtype="float32")
    dsm = xr.DataArray(data, dims=("y", "x"), coords={"x": x, "y": y}, name="dsm")
    return dsm.rio.write_crs("EPSG:32631")


def test_two_dates_default_to_left_and_right() -> None:
    data = viz.show3d(_dsm(0), _dsm(10), compare="slider")._repr_mimebundle_()[viz.SCENE3D_MIME_TYPE]
    assert data["compare"] == "slider"
    assert [layer["side"] for layer in data["layers"]] == ["left", "right"]
    # two DataArrays of one name: the viewer finds layers by name, so the second is numbered
    assert [layer["info"]["path"] for layer in data["layers"]] == ["dsm", "dsm (2)"]
    assert [layer["info"]["zmin"] for layer in data["layers"]] == [150.0, 160.0]


def test_sides_and_default_without_compare() -> None:
    data = viz.show3d(_dsm(0), _dsm(10)).to_json()
    assert data["compare"] == "off" and [layer["side"] for layer in data["layers"]] == ["both", "both"]
    data = viz.show3d(_dsm(0), _dsm(5), _dsm(10), compare="side", sides=["both", "left", "right"]).to_json()
    assert [layer["side"] for layer in data["layers"]] == ["both", "left", "right"]
    data = viz.show3d(_dsm(0), _dsm(5), _dsm(10), compare="side").to_json()
    assert [layer["side"] for layer in data["layers"]] == ["both", "both", "both"]


@pytest.mark.parametrize(
    ("compare", "sides"),
    [("swipe", None), ("slider", ["left"]), ("slider", ["left", "middle"])],
)
def test_bad_compare_or_sides(compare: str, sides: list[str] | None) -> None:
    with pytest.raises(ConfigurationError):
        viz.show3d(_dsm(0), _dsm(10), compare=compare, sides=sides)  # type: ignore[arg-type]
