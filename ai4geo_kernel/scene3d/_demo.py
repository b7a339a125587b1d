"""3D demo files from the demo area: buildings as CityJSON, a point cloud sampled from the DSM, the
land-cover class raster, and an earlier date of the same place (DSM and land cover before some buildings were
built), so that the viewer (and its tests) have every kind of layer, and a before/after pair, offline."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio

from ai4geo_kernel.io.cityjson import write_cityjson
from ai4geo_kernel.io.cog import write_cog
from ai4geo_kernel.io.pointcloud import write_las

__all__ = ["DemoScene", "write_demo_scene", "dsm_point_cloud"]

# ASPRS classes for the demo land cover (1 building, 2 road, 3 tree, 4 grass, 5 water, 6 bare soil)
_ASPRS = {1: 6, 2: 11, 3: 5, 4: 3, 5: 9, 6: 2}
# the earlier date: every third building (by id) is not built yet, its plot is bare soil at the DTM's height
_NEW_BUILDING_EVERY = 3
_BARE_SOIL = 6


@dataclass(frozen=True)
class DemoScene:
    """Paths of the 3D demo files (``dsm_before`` and ``landcover_before``: the same place at an earlier
    date, see :func:`write_demo_scene`)."""

    dsm: Path
    dtm: Path
    landcover: Path
    buildings: Path
    points: Path
    dsm_before: Path
    landcover_before: Path


def dsm_point_cloud(
    dsm: str | os.PathLike[str],
    *,
    landcover: str | os.PathLike[str] | None = None,
    step: int = 1,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Points at the DSM's pixel centres (jittered within the pixel), with ASPRS classes from a land cover."""
    rng = np.random.default_rng(seed)
    with rasterio.open(dsm) as dataset:
        heights = dataset.read(1, masked=True)[::step, ::step]
        rows, cols = np.nonzero(~np.ma.getmaskarray(heights))
        jitter = rng.uniform(-0.5, 0.5, size=(2, len(rows)))
        x, y = dataset.transform * (
            (cols * step + 0.5 + jitter[0] * step),
            (rows * step + 0.5 + jitter[1] * step),
        )
        xyz = np.column_stack([x, y, heights.data[rows, cols]])
    classes = None
    if landcover is not None:
        with rasterio.open(landcover) as dataset:
            cover = dataset.read(1)[::step, ::step][rows, cols]
        lookup = np.zeros(256, dtype=np.uint8)
        for value, asprs in _ASPRS.items():
            lookup[value] = asprs
        classes = lookup[cover]
    return xyz, classes


def write_demo_scene(area: object, folder: str | os.PathLike[str], *, point_step: int = 2) -> DemoScene:
    """Write the 3D demo files of ``area`` (a :class:`ai4geo_kernel.demo.DemoArea`) into ``folder``.

    The point cloud has one point every ``point_step`` DSM pixels in each direction. ``dsm_before.tif`` and
    ``landcover_before.tif`` show the same place at an earlier date: every third building (ids divisible by 3)
    is not built yet, its pixels (the demo's building-instance raster) carry the DTM's height and the bare
    soil class.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    dsm, dtm, landcover = out / "dsm.tif", out / "dtm.tif", out / "landcover.tif"
    for source, target in ((area.dsm, dsm), (area.dtm, dtm), (area.landcover, landcover)):  # type: ignore[attr-defined]
        shutil.copy(source, target)
    buildings = gpd.read_file(area.buildings_gpkg)  # type: ignore[attr-defined]
    write_cityjson(
        buildings,
        out / "buildings.city.json",
        height="height",
        ground="ground_elevation",
        lods=("0", "1", "2"),  # LOD2: gabled and hipped roofs from the footprints' roof_type
        identifier="id",
        roof_type="roof_type",
        eaves_height="eaves_height",
    )
    xyz, classes = dsm_point_cloud(dsm, landcover=landcover, step=point_step)
    with rasterio.open(dsm) as dataset:
        crs = dataset.crs.to_wkt()
    write_las(out / "points.laz", xyz, crs=crs, classification=classes)
    dsm_before, landcover_before = _write_before(area, dsm, dtm, landcover, out)
    return DemoScene(
        dsm=dsm,
        dtm=dtm,
        landcover=landcover,
        buildings=out / "buildings.city.json",
        points=out / "points.laz",
        dsm_before=dsm_before,
        landcover_before=landcover_before,
    )


def _write_before(area: object, dsm: Path, dtm: Path, landcover: Path, out: Path) -> tuple[Path, Path]:
    """``dsm_before.tif`` and ``landcover_before.tif``: the new buildings' pixels as bare soil on the DTM."""
    with rasterio.open(area.building_ids) as dataset:  # type: ignore[attr-defined]
        ids = dataset.read(1)
    new = (ids > 0) & (ids % _NEW_BUILDING_EVERY == 0)
    with rasterio.open(dsm) as dataset:
        heights, profile = dataset.read(1), dataset.profile
    with rasterio.open(dtm) as dataset:
        ground = dataset.read(1)
    nodata = profile.get("nodata")
    ground_known = ground != nodata if nodata is not None else np.isfinite(ground)
    before = np.where(new & ground_known, ground, heights)
    with rasterio.open(landcover) as dataset:
        cover, cover_nodata = dataset.read(1), dataset.nodata
    cover_before = np.where(new, np.uint8(_BARE_SOIL), cover).astype(cover.dtype)
    kwargs = {"transform": profile["transform"], "crs": profile["crs"]}
    dsm_before = write_cog(before, out / "dsm_before.tif", nodata=nodata, band_names=["dsm"], **kwargs)
    landcover_before = write_cog(
        cover_before,
        out / "landcover_before.tif",
        nodata=cover_nodata,
        overview_resampling="mode",
        **kwargs,
    )
    return dsm_before, landcover_before
