"""The one table that maps library errors to HTTP answers (used by every server extension)."""

from __future__ import annotations

import pytest

from ai4geo_kernel import errors


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.PathNotAllowedError("/etc/passwd"), 403),  # a RasterError, but refused first
        (FileNotFoundError("/srv/data/x.tif"), 404),
        (errors.InvalidBBoxError("west > east"), 400),
        (errors.UnknownCollectionError("nope", known=["demo-s2"]), 400),
        (errors.ProviderUnreachableError("peps", "http://127.0.0.1:9/"), 502),
        (errors.DownloadError("item 3 failed"), 502),
        (errors.CorruptRasterError("x.tif is truncated"), 422),
        (errors.MissingCRSError("x.tif has no CRS"), 422),
        (errors.ConfigurationError("unknown colormap"), 400),
        (errors.VectorError("not GeoJSON"), 400),
        (errors.PointCloudError("no x, y, z"), 400),
        (ValueError("tile outside level"), 400),
        (errors.ClusterError("scheduler died"), None),
        (RuntimeError("a bug"), None),
    ],
)
def test_http_status(error: BaseException, status: int | None) -> None:
    assert errors.http_status(error) == status


def test_http_reason_hides_server_paths_and_markup() -> None:
    assert errors.http_reason(errors.PathNotAllowedError("/root/secret.tif")) == "path not allowed"
    assert errors.http_reason(FileNotFoundError("/srv/data/x.tif")) == "no such file"
    reason = errors.http_reason(errors.ConfigurationError("bad <b>band</b> & more\nsecond line"))
    assert reason == "bad ?b?band?/b? ? more"
    assert len(errors.http_reason(ValueError("x" * 500))) == 200
    assert errors.http_reason(ValueError()) == "ValueError"
