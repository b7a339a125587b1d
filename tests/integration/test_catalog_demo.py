"""catalog.search against the real demo STAC API, results as pystac / GeoDataFrame / xarray, downloads."""

from __future__ import annotations

import datetime as dt
import filecmp
import json
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.windows import from_bounds

from ai4geo_kernel import catalog
from ai4geo_kernel._process import free_port
from ai4geo_kernel.errors import (
    InvalidBBoxError,
    InvalidDateRangeError,
    InvalidGeometryError,
    ProviderUnreachableError,
    UnknownCollectionError,
    UnknownProviderError,
)
from ai4geo_kernel.settings import ENV_DEMO_STAC_URL

pytestmark = pytest.mark.integration


def _static_items(area, collection: str) -> list[pystac.Item]:
    """The items as generated on disk, read without the API: what a search must find."""
    root = pystac.Catalog.from_file(str(area.catalog_href))
    return sorted(root.get_child(collection).get_items(recursive=True), key=lambda i: i.datetime)


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0", processes=True) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


def test_search_returns_the_expected_items(demo_area, demo_services) -> None:
    expected = [
        i.id
        for i in _static_items(demo_area, "demo-s2")
        if dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
        <= i.datetime
        <= dt.datetime(2024, 8, 31, 23, 59, tzinfo=dt.UTC)
    ]
    assert expected
    results = catalog.search("demo-s2", bbox=demo_area.bbox_wgs84, start="2024-03-01", end="2024-08-31")
    assert results.provider == catalog.DEMO_PROVIDER
    assert sorted(i.id for i in results) == sorted(expected)
    assert all(i.collection_id == "demo-s2" for i in results)


def test_cloud_cover_is_filtered_even_where_the_server_cannot(demo_area, demo_services) -> None:
    static = _static_items(demo_area, "demo-s2")
    covers = {i.id: i.properties["eo:cloud_cover"] for i in static}
    assert min(covers.values()) < 10 and max(covers.values()) > 50
    results = catalog.search("demo-s2", cloud_cover=10)
    assert sorted(i.id for i in results) == sorted(k for k, v in covers.items() if v <= 10)


def test_limit_pages_and_empty_result(demo_area, demo_services) -> None:
    assert len(catalog.search("demo-s1", limit=5)) == 5
    assert len(catalog.search("demo-s1")) == len(demo_area.s1_dates) >= 16
    far_away = catalog.search("demo-s2", bbox=[10.0, 50.0, 10.1, 50.1])  # Germany: nothing, not an error
    assert len(far_away) == 0


def test_conversions(demo_area, demo_services, tmp_path: Path) -> None:
    results = catalog.search("demo-s2", start="2024-01-01", end="2024-04-30")
    collection = results.to_item_collection()
    assert isinstance(collection, pystac.ItemCollection) and len(collection) == len(results)
    gdf = results.to_geodataframe()
    assert gdf.crs.to_epsg() == 4326 and list(gdf["id"]) == [i.id for i in results]
    assert gdf.geometry.intersects(gdf.geometry.iloc[0]).all()
    saved = results.save(tmp_path / "results.json")
    assert len(pystac.ItemCollection.from_file(str(saved))) == len(results)


def test_cube_matches_a_direct_read_of_the_cog(demo_area, demo_services, client) -> None:
    results = catalog.search("demo-s2", start="2024-06-01", end="2024-07-31")
    cube = results.to_xarray(assets=["red", "nir"], chunks=64, rescale=False, dtype="uint16", fill_value=0)
    assert cube.dims == ("time", "band", "y", "x")
    assert cube.rio.crs.to_epsg() == 32631
    first = results[0]
    rows, cols = first.assets["red"].extra_fields.get("proj:shape") or first.properties["proj:shape"]
    assert cube.shape == (len(results), 2, rows, cols)
    assert list(cube.band.values) == ["red", "nir"]
    # The same window, read directly with rasterio from the generated file.
    xmin, ymax = float(cube.x[10]) - 5, float(cube.y[20]) + 5
    bounds = (xmin, ymax - 300, xmin + 400, ymax)
    computed = client.compute(
        cube.isel(time=0).sel(x=slice(bounds[0], bounds[2]), y=slice(bounds[3], bounds[1]))
    ).result()
    static = {i.id: i for i in _static_items(demo_area, "demo-s2")}
    for b, key in enumerate(["red", "nir"]):
        path = static[first.id].assets[key].get_absolute_href()
        with rasterio.open(path) as src:
            direct = src.read(1, window=from_bounds(*bounds, transform=src.transform))
        np.testing.assert_array_equal(computed.values[b], direct)
    # Scaled reflectance when rescaling (raster:bands scale), NaN fill by default.
    scaled = results.to_xarray(assets=["red"], chunks=64).isel(time=0, band=0).compute()
    assert float(np.nanmax(scaled)) <= 1.5 and scaled.dtype == np.float64


def test_unknown_collection_lists_the_known_ones(demo_services) -> None:
    with pytest.raises(
        UnknownCollectionError, match="unknown collection 'demo-s3'.*known collections: .*demo-s2"
    ):
        catalog.search("demo-s3")


def test_bad_parameters_raise_before_any_request(demo_services) -> None:
    with pytest.raises(InvalidBBoxError, match="inverted"):
        catalog.search("demo-s2", bbox=[1.5, 43.5, 1.4, 43.7])
    with pytest.raises(InvalidDateRangeError, match="before start"):
        catalog.search("demo-s2", start="2024-05-01", end="2024-04-01")
    with pytest.raises(InvalidGeometryError):
        catalog.search("demo-s2", geometry={"type": "Polygon", "coordinates": [[[0, 0]]]})


def test_unreachable_provider_is_named(demo_services, monkeypatch) -> None:
    monkeypatch.setenv(ENV_DEMO_STAC_URL, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderUnreachableError, match="provider 'ai4geo_demo' is unreachable"):
        catalog.search("demo-s2")


def test_unknown_provider(demo_services) -> None:
    with pytest.raises(UnknownProviderError, match="unknown provider 'nowhere'"):
        catalog.search("demo-s2", provider="nowhere")


def test_download_is_complete_and_leaves_no_partial_file(demo_area, demo_services, tmp_path: Path) -> None:
    results = catalog.search("demo-s2", limit=2)
    folders = catalog.download(results, tmp_path / "dl", assets=["red", "nir"], progress=False)
    static = {i.id: i for i in _static_items(demo_area, "demo-s2")}
    assert [f.name for f in folders] == [i.id for i in results]
    for folder, item in zip(folders, results, strict=True):
        names = sorted(p.name for p in folder.rglob("*") if p.is_file())
        assert len(names) == 2, names
        for key in ("red", "nir"):
            source = Path(static[item.id].assets[key].get_absolute_href())
            copies = [p for p in folder.rglob("*") if p.name == source.name]
            assert copies and filecmp.cmp(copies[0], source, shallow=False)
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == sorted(f.name for f in folders)


def test_collections_and_providers(demo_services) -> None:
    ids = {c["id"] for c in catalog.collections(catalog.DEMO_PROVIDER)}
    assert {"demo-s2", "demo-s1", "demo-vhr", "demo-elevation", "demo-truth"} <= ids
    assert catalog.providers()[0] == catalog.DEMO_PROVIDER
    assert json.dumps(catalog.collections(catalog.DEMO_PROVIDER))  # serialisable for the panel


def test_cube_grid_options(demo_area, demo_services) -> None:
    results = catalog.search("demo-s2", limit=2)
    xmin, ymin, xmax, ymax = demo_area.bbox_utm
    window = (xmin + 100, ymin + 100, xmin + 300, ymin + 260)
    cube = results.to_xarray(assets=["red"], resolution=20, bounds=window)
    # stackstac snaps the bounds outwards to the 20 m grid
    rows = int(np.ceil(window[3] / 20) - np.floor(window[1] / 20))
    cols = int(np.ceil(window[2] / 20) - np.floor(window[0] / 20))
    assert cube.shape == (2, 1, rows, cols)
    assert window[0] - 20 <= float(cube.x.min()) and float(cube.x.max()) <= window[2] + 20
    mercator = results.to_xarray(assets=["red"], resolution=10, crs="EPSG:3857")
    assert mercator.rio.crs.to_epsg() == 3857
    assert float(mercator.x.min()) > 150_000  # ~1.44 degrees east in metres of WebMercator
    assert np.isfinite(mercator.isel(time=0, band=0).compute().values).mean() > 0.5


def test_multiband_asset_is_refused_with_a_way_out(demo_services) -> None:
    from ai4geo_kernel.errors import ConfigurationError

    vhr = catalog.search("demo-vhr")
    with pytest.raises(ConfigurationError, match="single-band assets only.*rioxarray.open_rasterio"):
        vhr.to_xarray(assets=["image"])
