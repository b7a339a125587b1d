"""Write one complete demo area into a new folder: scene, rasters, vectors, STAC, and the manifest last.

The heavy half of the generator (numpy, scipy, scikit-image, rasterio, geopandas, pystac), imported only
when an area is generated.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ai4geo_kernel.demo._acquisitions import VHR_DATETIME, s1_datetimes, s2_datetimes, sun_position
from ai4geo_kernel.demo._area import (
    GENERATOR,
    GENERATOR_VERSION,
    MANIFEST_NAME,
    DemoArea,
    KnownChange,
)
from ai4geo_kernel.demo._changes import ChangeEvent, plan_changes
from ai4geo_kernel.demo._grid import CRS, S2_RESOLUTION, VHR_RESOLUTION, AreaGrid, area_grid
from ai4geo_kernel.demo._landcover import classes_as_json
from ai4geo_kernel.demo._layout import (
    COLLECTION_ELEVATION,
    COLLECTION_S1,
    COLLECTION_S2,
    COLLECTION_STEREO,
    COLLECTION_TRUTH,
    COLLECTION_VHR,
    COLLECTIONS,
    DSM_NODATA,
    S2_ASSETS,
    asset_file,
    item_dir,
    item_id,
    stereo_item_id,
)
from ai4geo_kernel.demo._random import stream
from ai4geo_kernel.demo._render import VHR_BANDS, intrinsic_reflectance, render_vhr, thumbnail
from ai4geo_kernel.demo._scene import Scene, synthesize_scene
from ai4geo_kernel.demo._sentinel1 import POLARIZATIONS, simulate_s1
from ai4geo_kernel.demo._sentinel2 import simulate_s2
from ai4geo_kernel.demo._stac import (
    S2Record,
    StereoRecord,
    build_catalog,
    elevation_collection,
    s1_collection,
    s2_collection,
    stereo_collection,
    truth_collection,
    vhr_collection,
)
from ai4geo_kernel.demo._stereo import B_OVER_H, GEOID_UNDULATION, build_view, stereo_views, write_view
from ai4geo_kernel.demo._truth import (
    buildings_frame,
    change_map,
    changes_frame,
    landcover_majority,
    write_buildings,
    write_geojson,
    write_json,
)
from ai4geo_kernel.io import write_cog

__all__ = ["STEPS", "build_area"]

#: The steps of a generation, in order (the progress bar counts them).
STEPS = ("scene", "vhr", "elevation", "stereo", "sentinel-2", "sentinel-1", "truth", "stac")


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    bar = tqdm(total=len(STEPS), desc="demo area", unit="step", disable=not enabled, leave=True)

    def advance(step: str) -> None:
        bar.set_postfix_str(step)
        bar.update(1)

    try:
        yield advance
    finally:
        bar.close()


def _blocksize(size: int) -> int:
    return 512 if size > 2048 else 256


def _write_vhr(
    root: Path, scene: Scene, seed: int
) -> tuple[np.ndarray, np.ndarray, float, float, np.ndarray]:
    grid = scene.grid
    reflectance = intrinsic_reflectance(scene, seed)
    azimuth, elevation = sun_position(VHR_DATETIME)
    image = render_vhr(scene, reflectance, azimuth=azimuth, elevation=elevation, seed=seed)
    folder = item_dir(root, COLLECTION_VHR, item_id(COLLECTION_VHR, VHR_DATETIME))
    write_cog(
        image.dn,
        folder / asset_file("image"),
        transform=grid.transform,
        crs=CRS,
        nodata=0,
        band_names=VHR_BANDS,
        blocksize=_blocksize(grid.size),
    )
    thumbnail(image.dn[[2, 1, 0]], low=0, high=2600).save(folder / asset_file("thumbnail"))
    return reflectance, image.shadow, azimuth, elevation, image.dn


def _hillshade(dsm: np.ndarray) -> np.ndarray:
    grad_row, grad_col = np.gradient(dsm)
    shade = (-grad_col * 0.5 - grad_row * 0.5 + 1.0) / np.sqrt(grad_col**2 + grad_row**2 + 1.0)
    return np.clip(shade, 0.0, 1.5)


def _write_elevation(root: Path, scene: Scene) -> None:
    grid = scene.grid
    folder = item_dir(root, COLLECTION_ELEVATION, item_id(COLLECTION_ELEVATION, VHR_DATETIME))
    for key, array in (("dsm", scene.dsm), ("dtm", scene.dtm)):
        write_cog(
            array.astype(np.float32),
            folder / asset_file(key),
            transform=grid.transform,
            crs=CRS,
            nodata=DSM_NODATA,
            band_names=[key],
            blocksize=_blocksize(grid.size),
        )
    thumbnail(_hillshade(scene.dsm), low=0.2, high=1.3).save(folder / asset_file("thumbnail"))


def _write_stereo(root: Path, scene: Scene, vhr_dn: np.ndarray, seed: int) -> list[StereoRecord]:
    """The synthetic along-track pair (sensor geometry, RPC tags) and what its STAC items say."""
    records = []
    dsm = scene.dsm.astype(np.float64)
    for sensor in stereo_views(scene.grid, dsm):
        view = build_view(sensor, scene.grid, dsm, vhr_dn, seed)
        folder = item_dir(root, COLLECTION_STEREO, stereo_item_id(VHR_DATETIME, sensor.name))
        write_view(view, folder / asset_file("image"))
        thumbnail(view.image, low=0, high=3000).save(folder / asset_file("thumbnail"))
        off_nadir = math.degrees(math.atan(math.hypot(sensor.tan_along, sensor.tan_across)))
        # view:azimuth points from the ground to the sensor; tops lean away from it, by dh * tan
        azimuth = math.degrees(math.atan2(-sensor.tan_across, -sensor.tan_along)) % 360.0
        records.append(
            StereoRecord(
                sensor.name,
                sensor.size,
                view.footprint_lonlat,
                round(off_nadir, 4),
                round(azimuth, 4),
                view.rpc_error_px,
            )
        )
    return records


def _write_s2(
    root: Path, scene: Scene, reflectance: np.ndarray, events: tuple[ChangeEvent, ...], seed: int
) -> list[S2Record]:
    grid = scene.grid
    records = []
    for s2 in simulate_s2(scene, reflectance, s2_datetimes(), events, seed):
        folder = item_dir(root, COLLECTION_S2, item_id(COLLECTION_S2, s2.datetime))
        for band, array in s2.bands.items():
            write_cog(
                array,
                folder / asset_file(band),
                transform=grid.transform_10m,
                crs=CRS,
                nodata=0,
                band_names=[band],
            )
        write_cog(
            s2.scl,
            folder / asset_file("scl"),
            transform=grid.transform_10m,
            crs=CRS,
            nodata=0,
            band_names=["scl"],
            overview_resampling="nearest",
        )
        rgb = np.stack([s2.bands["red"], s2.bands["green"], s2.bands["blue"]])
        thumbnail(rgb, low=0, high=2600).save(folder / asset_file("thumbnail"))
        records.append(S2Record(s2.datetime, s2.cloud_cover, s2.sun_azimuth, s2.sun_elevation))
    return records


def _write_s1(
    root: Path, scene: Scene, events: tuple[ChangeEvent, ...], seed: int
) -> tuple[ChangeEvent, ...]:
    grid = scene.grid
    series, measured = simulate_s1(scene, s1_datetimes(), events, seed)
    for s1 in series:
        folder = item_dir(root, COLLECTION_S1, item_id(COLLECTION_S1, s1.datetime))
        for pol in POLARIZATIONS:
            write_cog(
                getattr(s1, pol),
                folder / asset_file(pol),
                transform=grid.transform_10m,
                crs=CRS,
                nodata=0,
                band_names=[pol],
            )
        vv_db = 20.0 * np.log10(np.maximum(s1.vv, 1e-4))
        thumbnail(vv_db, low=-25.0, high=5.0).save(folder / asset_file("thumbnail"))
    return measured


def _write_truth(root: Path, scene: Scene, shadow: np.ndarray, events: tuple[ChangeEvent, ...]) -> None:
    grid = scene.grid
    folder = item_dir(root, COLLECTION_TRUTH, item_id(COLLECTION_TRUTH))
    folder.mkdir(parents=True, exist_ok=True)
    write_buildings(
        buildings_frame(scene.buildings, grid),
        folder / asset_file("buildings"),
        folder / asset_file("buildings_geojson"),
    )
    block = _blocksize(grid.size)
    write_cog(
        scene.landcover,
        folder / asset_file("landcover"),
        transform=grid.transform,
        crs=CRS,
        nodata=0,
        band_names=["landcover"],
        overview_resampling="mode",
        blocksize=block,
    )
    write_cog(
        landcover_majority(scene.landcover),
        folder / asset_file("landcover_10m"),
        transform=grid.transform_10m,
        crs=CRS,
        nodata=0,
        band_names=["landcover"],
        overview_resampling="mode",
    )
    write_json(classes_as_json(), folder / asset_file("landcover_classes"))
    write_cog(
        change_map(events, grid.size_10m),
        folder / asset_file("change_dates"),
        transform=grid.transform_10m,
        crs=CRS,
        band_names=["date_index", "kind"],
        overview_resampling="nearest",
    )
    write_geojson(changes_frame(events, grid), folder / asset_file("changes_geojson"), layer="changes")
    write_cog(
        shadow.astype(np.uint8),
        folder / asset_file("shadows"),
        transform=grid.transform,
        crs=CRS,
        band_names=["shadow"],
        overview_resampling="nearest",
        blocksize=block,
    )
    write_cog(
        scene.building_ids,
        folder / asset_file("building_ids"),
        transform=grid.transform,
        crs=CRS,
        band_names=["building_id"],
        overview_resampling="nearest",
        blocksize=block,
    )


def _known(events: tuple[ChangeEvent, ...], grid: AreaGrid) -> tuple[KnownChange, ...]:
    known = []
    for e in events:
        x0, y0, x1, y1 = grid.to_utm(e.polygon).bounds
        known.append(
            KnownChange(
                id=e.id,
                kind=e.kind,
                cause=e.cause,
                direction=e.direction,
                date=e.date,
                date_index=e.date_index,
                bounds_utm=(x0, y0, x1, y1),
                window_10m=(e.site.row, e.site.col, e.site.rows, e.site.cols),
                amplitude_db_vv=e.amplitude_db_vv,
                amplitude_db_vh=e.amplitude_db_vh,
            )
        )
    return tuple(known)


def build_area(root: Path, seed: int, scale: float, progress: bool) -> DemoArea:
    """Write a complete area into the (new, empty) folder ``root``; the manifest last.

    Parameters
    ----------
    root
        Destination folder (the generator's staging folder).
    seed, scale
        Generation parameters (already checked).
    progress
        Show a progress bar over :data:`STEPS`.
    """
    timings: dict[str, float] = {}
    grid = area_grid(scale)
    s1_dates = s1_datetimes()
    with _progress(progress) as advance:
        clock = time.perf_counter()

        def done(step: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[step] = round(now - clock, 3)
            clock = now
            advance(step)

        scene = synthesize_scene(grid, seed)
        events = plan_changes(scene.sites, s1_dates, stream(seed, "changes"))
        done("scene")
        reflectance, shadow, azimuth, elevation, vhr_dn = _write_vhr(root, scene, seed)
        done("vhr")
        _write_elevation(root, scene)
        done("elevation")
        stereo_records = _write_stereo(root, scene, vhr_dn, seed)
        del vhr_dn
        done("stereo")
        s2_records = _write_s2(root, scene, reflectance, events, seed)
        del reflectance
        done("sentinel-2")
        events = _write_s1(root, scene, events, seed)
        done("sentinel-1")
        _write_truth(root, scene, shadow, events)
        done("truth")
        collections = [
            vhr_collection(grid, VHR_DATETIME, sun_azimuth=azimuth, sun_elevation=elevation),
            elevation_collection(grid, VHR_DATETIME),
            s2_collection(grid, s2_records),
            s1_collection(grid, s1_dates),
            truth_collection(grid, VHR_DATETIME, events),
            stereo_collection(
                grid, VHR_DATETIME, stereo_records, b_over_h=B_OVER_H, geoid_undulation=GEOID_UNDULATION
            ),
        ]
        build_catalog(root, collections, seed=seed, scale=scale)
        done("stac")
    area = DemoArea(
        root=root,
        catalog_href=root / "catalog.json",
        collections=COLLECTIONS,
        bbox_wgs84=grid.bbox_wgs84,
        bbox_utm=grid.bbox_utm,
        crs=CRS,
        seed=seed,
        scale=scale,
        generator_version=GENERATOR_VERSION,
        shape=(grid.size, grid.size),
        shape_10m=(grid.size_10m, grid.size_10m),
        transform=tuple(grid.transform)[:6],
        transform_10m=tuple(grid.transform_10m)[:6],
        vhr_datetime=VHR_DATETIME,
        sun_azimuth=azimuth,
        sun_elevation=elevation,
        s2_dates=tuple(r.datetime for r in s2_records),
        s2_cloud_cover=tuple(r.cloud_cover for r in s2_records),
        s1_dates=s1_dates,
        changes=_known(events, grid),
        water_level=scene.water_level,
        building_count=len(scene.buildings),
        tree_count=len(scene.trees),
        timings=timings,
    )
    manifest = {
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "resolutions": {"vhr": VHR_RESOLUTION, "sentinel": S2_RESOLUTION},
        "s2_bands": list(S2_ASSETS),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "area": area.to_json(),
    }
    write_json(manifest, root / MANIFEST_NAME)
    return area
