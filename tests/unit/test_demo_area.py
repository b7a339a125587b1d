"""Tests of the generated demo area: determinism, reuse, atomicity, files, physics, STAC, command line.

Generations run at scale 0.25 (320 m x 320 m, about 2 s each) in temporary folders.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pystac
import pystac.validation
import pytest
import rasterio
from rio_cogeo.cogeo import cog_validate

from ai4geo_kernel.demo import _build
from ai4geo_kernel.demo.__main__ import main
from ai4geo_kernel.demo._generate import (
    COLLECTION_ELEVATION,
    COLLECTION_S1,
    COLLECTION_S2,
    COLLECTION_STEREO,
    COLLECTION_TRUTH,
    COLLECTION_VHR,
    COLLECTIONS,
    MANIFEST_NAME,
    DemoArea,
    generate,
    load,
)
from ai4geo_kernel.demo._landcover import GRASS, ROAD, TREE, WATER
from ai4geo_kernel.errors import ConfigurationError

SCALE = 0.25
COG_MEDIA = "image/tiff; application=geotiff; profile=cloud-optimized"


@pytest.fixture(scope="session")
def area(tmp_path_factory: pytest.TempPathFactory) -> DemoArea:
    return generate(tmp_path_factory.mktemp("demo-a") / "area", seed=0, scale=SCALE, progress=False)


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> DemoArea:
    return generate(tmp_path_factory.mktemp("demo-b") / "area", seed=0, scale=SCALE, progress=False)


@pytest.fixture(scope="session")
def other(tmp_path_factory: pytest.TempPathFactory) -> DemoArea:
    return generate(tmp_path_factory.mktemp("demo-c") / "area", seed=1, scale=SCALE, progress=False)


def _read(path: Path, band: int | None = None) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(band) if band else src.read()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _items(area: DemoArea, collection: str) -> list[dict[str, Any]]:
    """The raw item JSON of a collection (as a server would serve it: no pystac migration)."""
    folder = area.root / collection
    return [json.loads((d / f"{d.name}.json").read_text()) for d in sorted(folder.iterdir()) if d.is_dir()]


# --------------------------------------------------------------------------------------- generation


def test_same_seed_gives_identical_files_and_another_seed_differs(
    area: DemoArea, twin: DemoArea, other: DemoArea
) -> None:
    tifs = sorted(p.relative_to(area.root) for p in area.root.rglob("*.tif"))
    # vhr, elevation, s2 (6 a date), s1 (2 a date), truth, stereo pair
    assert len(tifs) == 1 + 2 + 24 * 6 + 31 * 2 + 5 + 2
    files = sorted(p.relative_to(area.root) for p in area.root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(twin.root) for p in twin.root.rglob("*") if p.is_file())
    for relative in files:  # rasters, vectors, thumbnails, STAC: all but the manifest's timestamps
        if relative.name != MANIFEST_NAME:
            assert _digest(area.root / relative) == _digest(twin.root / relative), relative
    for path in (area.vhr_image, area.dsm, area.s2_asset(3, "nir"), area.s1_asset(5, "vv"), area.landcover):
        np.testing.assert_array_equal(_read(path), _read(twin.root / path.relative_to(area.root)))
    assert not np.array_equal(_read(area.vhr_image), _read(other.vhr_image))
    assert not np.array_equal(_read(area.dsm), _read(other.dsm))
    assert area.changes == twin.changes
    assert area.s2_cloud_cover == twin.s2_cloud_cover


def test_second_call_reuses_the_area(area: DemoArea) -> None:
    manifest = area.root / MANIFEST_NAME
    before = manifest.stat().st_mtime_ns
    start = time.perf_counter()
    again = generate(area.root, seed=0, scale=SCALE, progress=False)
    assert time.perf_counter() - start < 0.5
    assert again == area
    assert manifest.stat().st_mtime_ns == before
    assert load(area.root) == area


def test_other_parameters_or_force_regenerate_in_place(tmp_path: Path) -> None:
    dest = tmp_path / "area"
    first = generate(dest, seed=5, scale=0.1, progress=False)
    first_dsm = _digest(first.dsm)
    mtime = (dest / MANIFEST_NAME).stat().st_mtime_ns
    forced = generate(dest, seed=5, scale=0.1, force=True, progress=False)
    assert (dest / MANIFEST_NAME).stat().st_mtime_ns != mtime
    assert _digest(forced.dsm) == first_dsm
    changed = generate(dest, seed=6, scale=0.1, progress=False)
    assert changed.seed == 6 and load(dest) == changed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area"]  # no staging or retired folder left


def test_failure_midway_leaves_no_area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed while writing the SAR series")

    monkeypatch.setattr(_build, "_write_s1", boom)
    dest = tmp_path / "area"
    with pytest.raises(RuntimeError, match="killed"):
        generate(dest, seed=0, scale=0.1, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_the_previous_area(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "area"
    previous = generate(dest, seed=2, scale=0.1, progress=False)

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(_build, "_write_truth", boom)
    with pytest.raises(KeyboardInterrupt):
        generate(dest, seed=3, scale=0.1, progress=False)
    assert load(dest) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["area"]


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(ConfigurationError, match="not a demo area"):
        generate(tmp_path, scale=0.1, progress=False)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


@pytest.mark.parametrize(("seed", "scale"), [(-1, 1.0), (1.5, 1.0), (0, 0.0), (0, 50.0), (True, 1.0)])
def test_invalid_parameters(tmp_path: Path, seed: Any, scale: Any) -> None:
    with pytest.raises(ConfigurationError):
        generate(tmp_path / "area", seed=seed, scale=scale, progress=False)
    assert not (tmp_path / "area").exists()


def test_default_destination_is_the_settings_folder(area: DemoArea, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI4GEO_DEMO_DIR", str(area.root))
    assert generate(seed=0, scale=SCALE, progress=False).root == area.root


def test_command_line(area: DemoArea, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--dest", str(area.root), "--seed", "0", "--scale", str(SCALE), "--quiet"]) == 0
    assert capsys.readouterr().out.strip() == str(area.root)
    assert main(["generate", "--dest", str(area.root), "--scale", "99", "--quiet"]) == 2
    assert "scale" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])


# ------------------------------------------------------------------------------------- files and sizes


def test_every_raster_is_a_valid_cog(area: DemoArea) -> None:
    for path in area.root.rglob("*.tif"):
        valid, errors, _ = cog_validate(path, quiet=True)
        assert valid, (path, errors)
        with rasterio.open(path) as src:
            if COLLECTION_STEREO in path.parts:  # sensor geometry: located by the RPC model in its tags
                assert src.crs is None and src.rpcs is not None
            else:
                assert src.crs.to_epsg() == 32631
            assert max(src.height, src.width) <= 256 or src.overviews(1)


def test_raster_grids_types_and_nodata(area: DemoArea) -> None:
    rows, cols = area.shape
    assert area.shape == (320, 320) and area.shape_10m == (32, 32)
    expected = {
        area.vhr_image: (4, rows, "uint16", 0),
        area.dsm: (1, rows, "float32", -9999),
        area.dtm: (1, rows, "float32", -9999),
        area.landcover: (1, rows, "uint8", 0),
        area.landcover_10m: (1, rows // 10, "uint8", 0),
        area.change_dates: (2, rows // 10, "uint8", None),
        area.s2_asset(0, "red"): (1, rows // 10, "uint16", 0),
        area.s2_asset(0, "scl"): (1, rows // 10, "uint8", 0),
        area.s1_asset(0, "vv"): (1, rows // 10, "float32", 0),
        area.shadows: (1, rows, "uint8", None),
        area.building_ids: (1, rows, "uint32", None),
    }
    for path, (count, size, dtype, nodata) in expected.items():
        with rasterio.open(path) as src:
            assert (src.count, src.height, src.width, src.dtypes[0], src.nodata) == (
                count,
                size,
                size,
                dtype,
                nodata,
            )
            assert tuple(src.transform)[:6] == (area.transform if size == rows else area.transform_10m)
    with rasterio.open(area.vhr_image) as src:
        assert src.descriptions == ("blue", "green", "red", "nir")
        assert 0 < src.read().min() and src.read().max() <= 10000


def test_truth_vectors(area: DemoArea) -> None:
    buildings = gpd.read_file(area.buildings_gpkg, layer="buildings")
    assert buildings.crs.to_epsg() == 32631
    assert len(buildings) == area.building_count > 0
    assert {"id", "height", "eaves_height", "roof_type", "ground_elevation"} <= set(buildings.columns)
    assert buildings.geometry.is_valid.all()
    assert (
        not buildings.geometry.overlaps(buildings.geometry.union_all().buffer(0)).all() or len(buildings) == 1
    )
    west, south, east, north = area.bbox_utm
    assert buildings.total_bounds[0] >= west and buildings.total_bounds[2] <= east
    assert buildings.total_bounds[1] >= south and buildings.total_bounds[3] <= north
    wgs84 = gpd.read_file(area.buildings_geojson)
    assert wgs84.crs.to_epsg() == 4326 and len(wgs84) == len(buildings)
    lon0, lat0, lon1, lat1 = area.bbox_wgs84
    bounds = wgs84.total_bounds
    assert lon0 <= bounds[0] and bounds[2] <= lon1 and lat0 <= bounds[1] and bounds[3] <= lat1
    changes = gpd.read_file(area.changes_geojson)
    assert changes.crs.to_epsg() == 4326
    assert len(changes) == len(area.changes) >= 4
    assert set(changes["kind"]) == {"step", "peak"}
    assert {"date", "date_index", "amplitude_db_vv", "cause"} <= set(changes.columns)
    classes = json.loads(area.landcover_classes_json.read_text())
    assert {c["value"]: c["name"] for c in classes["classes"]} == area.landcover_classes


def test_building_footprints_match_the_rasters(area: DemoArea) -> None:
    buildings = gpd.read_file(area.buildings_gpkg).set_index("id")
    ids = _read(area.building_ids, 1)
    dsm, dtm = _read(area.dsm, 1), _read(area.dtm, 1)
    transform = rasterio.transform.Affine(*area.transform)
    for bid, row in buildings.iterrows():
        mask = ids == bid
        burnt = (
            rasterio.features.rasterize([(row.geometry, 1)], out_shape=area.shape, transform=transform) > 0
        )
        assert (mask & burnt).sum() / (mask | burnt).sum() > 0.85
        roof = dsm[mask] - row.ground_elevation
        assert float(roof.max()) == pytest.approx(row.height, abs=0.02)
        above_dtm = dsm[mask] - dtm[mask]
        assert float(np.median(above_dtm)) == pytest.approx(
            float(np.median(roof)), abs=max(0.5, 0.05 * row.height)
        )


def test_change_map_encodes_the_known_changes(area: DemoArea) -> None:
    dates, kinds = _read(area.change_dates)
    expected = np.zeros_like(dates)
    for change in area.changes:
        rows, cols = change.slices_10m
        assert (dates[rows, cols] == change.date_index).all()
        assert change.s1_date_ok if hasattr(change, "s1_date_ok") else True
        assert area.s1_dates[change.date_index - 1] == change.date
        code = 3 if change.kind == "peak" else (1 if change.direction == "increase" else 2)
        assert (kinds[rows, cols] == code).all()
        expected[rows, cols] = change.date_index
    np.testing.assert_array_equal(dates, expected)
    assert {c.kind for c in area.changes} == {"step", "peak"}


# ------------------------------------------------------------------------------------------------ physics


def test_dsm_above_dtm_and_flat_water(area: DemoArea) -> None:
    dsm, dtm = _read(area.dsm, 1), _read(area.dtm, 1)
    landcover = _read(area.landcover, 1)
    assert (dsm >= dtm).all()
    water = landcover == WATER
    assert water.any()
    assert np.all(dsm[water] == area.water_level) and np.all(dtm[water] == area.water_level)
    land = ~water & (dtm > area.water_level)
    assert 140.0 <= dtm[land].min() and dtm.max() <= 185.0


def _direction_px(azimuth: float, distance: int) -> tuple[int, int]:
    """(row, col) offset of ``distance`` pixels towards an azimuth."""
    a = np.radians(azimuth)
    return round(-np.cos(a) * distance), round(np.sin(a) * distance)


def _shift(mask: np.ndarray, drow: int, dcol: int) -> np.ndarray:
    out = np.zeros_like(mask)
    rows, cols = mask.shape
    out[max(0, drow) : rows + min(0, drow), max(0, dcol) : cols + min(0, dcol)] = mask[
        max(0, -drow) : rows + min(0, -drow), max(0, -dcol) : cols + min(0, -dcol)
    ]
    return out


def test_shadows_fall_opposite_the_sun_and_darken_every_band(area: DemoArea) -> None:
    shadows = _read(area.shadows, 1).astype(bool)
    buildings = _read(area.building_ids, 1) > 0
    away = _shift(buildings, *_direction_px(area.sun_azimuth + 180.0, 3)) & ~buildings
    towards = _shift(buildings, *_direction_px(area.sun_azimuth, 3)) & ~buildings
    assert shadows[away].mean() > 0.7
    assert shadows[towards].mean() < 0.3
    image = _read(area.vhr_image).astype(np.float64)
    road = _read(area.landcover, 1) == ROAD
    for band in image:
        assert band[road & shadows].mean() < 0.6 * band[road & ~shadows].mean()


def _clear(area: DemoArea, index: int) -> np.ndarray:
    return np.isin(_read(area.s2_asset(index, "scl"), 1), (4, 5, 6))


def test_vegetation_is_greener_in_summer(area: DemoArea) -> None:
    lc = _read(area.landcover, 1)
    n = area.shape_10m[0]
    tree_share = (lc == TREE).reshape(n, 10, n, 10).mean(axis=(1, 3))
    grass_share = (lc == GRASS).reshape(n, 10, n, 10).mean(axis=(1, 3))

    def ndvi(months: set[int], share: np.ndarray) -> float:
        values = []
        for index, when in enumerate(area.s2_dates):
            if when.month not in months:
                continue
            red = _read(area.s2_asset(index, "red"), 1).astype(np.float64)
            nir = _read(area.s2_asset(index, "nir"), 1).astype(np.float64)
            keep = _clear(area, index) & (share >= 0.5)
            values.extend(((nir - red) / (nir + red))[keep].tolist())
        assert len(values) >= 5
        return float(np.mean(values))

    winter, summer = {1, 2}, {6, 7}
    assert ndvi(summer, tree_share) > ndvi(winter, tree_share) + 0.2
    assert ndvi(summer, grass_share) > ndvi(winter, grass_share) + 0.05
    assert ndvi(winter, grass_share) > ndvi(winter, tree_share)  # lawns stay green, plane trees lose leaves


def test_cloud_cover_matches_the_cloud_mask(area: DemoArea) -> None:
    items = {item["id"]: item for item in _items(area, COLLECTION_S2)}
    assert len(items) == len(area.s2_dates) >= 12
    for index, when in enumerate(area.s2_dates):
        scl = _read(area.s2_asset(index, "scl"), 1)
        measured = 100.0 * np.isin(scl, (8, 9)).mean()
        item = items[f"demo-s2-{when:%Y%m%d}"]
        assert item["properties"]["eo:cloud_cover"] == pytest.approx(measured, abs=0.01)
        assert area.s2_cloud_cover[index] == pytest.approx(measured, abs=0.01)
        if measured > 20:  # clouds are bright in every band
            blue = _read(area.s2_asset(index, "blue"), 1)
            assert blue[scl == 9].mean() > 2.5 * blue[np.isin(scl, (4, 5))].mean()
    covers = np.array(area.s2_cloud_cover)
    assert (covers < 1.0).sum() >= 2
    assert (covers > 50.0).sum() >= 2


def test_sar_changes_show_at_their_dates(area: DemoArea) -> None:
    stack = np.stack([_read(area.s1_asset(k, "vv"), 1) for k in range(len(area.s1_dates))]).astype(np.float64)
    intensity = stack**2
    for change in area.changes:
        rows, cols = change.slices_10m
        series = intensity[:, rows, cols].mean(axis=(1, 2))
        k = change.date_index - 1
        if change.kind == "step":
            ratio_db = 10 * np.log10(series[k:].mean() / series[:k].mean())
            assert abs(ratio_db) > 5.0, change
            assert np.sign(ratio_db) == (1 if change.direction == "increase" else -1)
        else:
            others = np.delete(series, k)
            ratio_db = 10 * np.log10(series[k] / np.median(others))
            assert ratio_db > 6.0, change
            assert 10 * np.log10(others.max() / np.median(others)) < 3.0
        assert ratio_db == pytest.approx(change.amplitude_db_vv, abs=2.5)


def test_speckle_has_the_stated_number_of_looks(area: DemoArea) -> None:
    stack = np.stack([_read(area.s1_asset(k, "vv"), 1) for k in range(len(area.s1_dates))]).astype(np.float64)
    water10 = _read(area.landcover_10m, 1) == WATER
    for change in area.changes:
        water10[change.slices_10m] = False
    intensity = stack[:, water10] ** 2
    cv = intensity.std(axis=0) / intensity.mean(axis=0)
    assert np.mean(cv) == pytest.approx(1 / np.sqrt(4.4), rel=0.15)


# --------------------------------------------------------------------------------------------------- STAC


class _OfflineValidator(pystac.validation.JsonSchemaSTACValidator):
    """Core STAC schemas only (shipped with pystac); extension schemas would need the internet."""

    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        if schema_uri not in self.schema_cache:
            raise pystac.validation.GetSchemaError(schema_uri, RuntimeError("offline"))
        return self.schema_cache[schema_uri]

    def validate_extension(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_catalog_validates_offline(area: DemoArea, monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def local_only(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"test tried to reach {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    pystac.validation.set_validator(_OfflineValidator())
    try:
        catalog = pystac.Catalog.from_file(area.catalog_href)
        assert catalog.validate_all() == 1 + 1 + 24 + 31 + 1 + 2  # the number of items validated
    finally:
        pystac.validation.RegisteredValidator._validator = None
    assert catalog.id == "ai4geo-demo"
    assert tuple(c.id for c in catalog.get_children()) == COLLECTIONS == area.collections
    counts = {c.id: len(list(c.get_items())) for c in catalog.get_children()}
    assert counts == {
        COLLECTION_VHR: 1,
        COLLECTION_ELEVATION: 1,
        COLLECTION_S2: 24,
        COLLECTION_S1: 31,
        COLLECTION_TRUTH: 1,
        COLLECTION_STEREO: 2,
    }


def test_collections_have_extents_license_and_say_they_are_simulated(area: DemoArea) -> None:
    for collection_id in COLLECTIONS:
        collection = json.loads((area.root / collection_id / "collection.json").read_text())
        assert collection["license"] == "CC-BY-4.0"
        assert (
            "simulated" in collection["description"].lower()
            or "generated" in collection["description"].lower()
        )
        assert collection["extent"]["spatial"]["bbox"] == [list(area.bbox_wgs84)]
        start, end = collection["extent"]["temporal"]["interval"][0]
        for item in _items(area, collection_id):
            assert start <= item["properties"]["datetime"] <= end
        for link in collection["links"]:
            assert not link["href"].startswith(("/", "http"))


def test_items_carry_the_required_fields(area: DemoArea) -> None:
    lon0, lat0, lon1, lat1 = area.bbox_wgs84
    for collection_id in COLLECTIONS:
        for item in _items(area, collection_id):
            props = item["properties"]
            ring = np.array(item["geometry"]["coordinates"][0])
            assert lon0 <= ring[:, 0].min() and ring[:, 0].max() <= lon1
            assert lat0 <= ring[:, 1].min() and ring[:, 1].max() <= lat1
            assert props["datetime"].endswith("Z")
            if collection_id == COLLECTION_STEREO:  # sensor geometry: its own footprint, no CRS
                assert item["bbox"] == [
                    ring[:, 0].min(),
                    ring[:, 1].min(),
                    ring[:, 0].max(),
                    ring[:, 1].max(),
                ]
                assert props["proj:code"] is None
            else:
                assert item["bbox"] == list(area.bbox_wgs84)
                assert props["proj:code"] == "EPSG:32631" and props["proj:epsg"] == 32631
            if collection_id != COLLECTION_TRUTH:
                assert props["platform"].startswith("demo-") and props["constellation"].startswith("demo-")
            folder = area.root / collection_id / item["id"]
            for key, asset in item["assets"].items():
                assert asset["href"].startswith("./"), asset["href"]
                assert (folder / asset["href"]).is_file()
                assert asset["roles"] and asset["type"]
                if asset["href"].endswith(".tif"):
                    assert asset["type"] == COG_MEDIA
                    assert "raster:bands" in asset
                    # sensor geometry (stereo) has a shape but no transform nor projected bbox
                    georeferenced = collection_id != COLLECTION_STEREO
                    for field in ("proj:shape", "proj:transform", "proj:bbox")[: 3 if georeferenced else 1]:
                        assert field in asset or field in props, (key, field)
                    shape = asset.get("proj:shape", props.get("proj:shape"))
                    with rasterio.open(folder / asset["href"]) as src:
                        assert [src.height, src.width] == shape
                        assert len(asset["raster:bands"]) == src.count
                elif key == "thumbnail":
                    assert asset["type"] == "image/png" and asset["roles"] == ["thumbnail"]


def test_optical_sar_and_truth_metadata(area: DemoArea) -> None:
    (vhr,) = _items(area, COLLECTION_VHR)
    assert vhr["properties"]["view:sun_azimuth"] == area.sun_azimuth
    assert vhr["properties"]["view:sun_elevation"] == area.sun_elevation
    bands = vhr["assets"]["image"]["eo:bands"]
    assert [b["common_name"] for b in bands] == ["blue", "green", "red", "nir"]
    assert all(b["center_wavelength"] > 0.4 for b in bands)
    for item in _items(area, COLLECTION_S2):
        assert 0.0 <= item["properties"]["eo:cloud_cover"] <= 100.0
        for key in ("blue", "green", "red", "nir"):
            asset = item["assets"][key]
            assert len(asset["eo:bands"]) == 1 and asset["eo:bands"][0]["common_name"] == key
            assert asset["raster:bands"][0]["scale"] == 0.0001 and asset["raster:bands"][0]["nodata"] == 0
    for item in _items(area, COLLECTION_S1):
        props = item["properties"]
        assert props["sar:instrument_mode"] == "IW" and props["sar:frequency_band"] == "C"
        assert props["sar:polarizations"] == ["VV", "VH"]
        assert set(item["assets"]) == {"vv", "vh", "thumbnail"}
    (truth,) = _items(area, COLLECTION_TRUTH)
    assert set(truth["assets"]) >= {
        "buildings",
        "buildings_geojson",
        "landcover",
        "landcover_10m",
        "change_dates",
        "changes_geojson",
    }
    assert truth["assets"]["buildings"]["type"] == "application/geopackage+sqlite3"
    assert truth["assets"]["changes_geojson"]["type"] == "application/geo+json"
    classes = truth["assets"]["landcover"]["classification:classes"]
    assert {c["value"]: c["name"] for c in classes} == area.landcover_classes
    assert truth["assets"]["landcover_10m"]["proj:shape"] == list(area.shape_10m)


def test_stackstac_reads_the_s2_items(area: DemoArea) -> None:
    stackstac = pytest.importorskip("stackstac")
    items = _items(area, COLLECTION_S2)[:3]
    for item in items:
        folder = area.root / COLLECTION_S2 / item["id"]
        for asset in item["assets"].values():
            asset["href"] = os.fspath((folder / asset["href"]).resolve())
    cube = stackstac.stack(items, assets=["red", "nir"], rescale=False, dtype="float64")
    assert cube.shape == (3, 2) + area.shape_10m
    assert cube.rio.crs.to_epsg() == 32631 if hasattr(cube, "rio") else cube.attrs["crs"] == "epsg:32631"
    values = cube.isel(time=0).sel(band="red").values
    np.testing.assert_array_equal(values, _read(area.s2_asset(0, "red"), 1))
