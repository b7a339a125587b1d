"""A generated demo area on disk: its manifest, and the truth it was generated from.

Light on imports on purpose: finding an existing area (:func:`load`) must be instant.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai4geo_kernel.demo._landcover import LANDCOVER_CLASSES
from ai4geo_kernel.demo._layout import (
    COLLECTION_ELEVATION,
    COLLECTION_S1,
    COLLECTION_S2,
    COLLECTION_STEREO,
    COLLECTION_TRUTH,
    COLLECTION_VHR,
    DSM_NODATA,
    asset_file,
    item_dir,
    item_id,
    stereo_item_id,
)

__all__ = [
    "GENERATOR",
    "GENERATOR_VERSION",
    "MANIFEST_NAME",
    "KnownChange",
    "DemoArea",
    "read_manifest",
    "load",
]

#: Name of the generator, recorded in the manifest.
GENERATOR = "ai4geo_kernel.demo"
#: Version of the generator's output; bump it whenever the generated files change.
GENERATOR_VERSION = "2"
#: Name of the manifest, the last file written into a complete area.
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class KnownChange:
    """A known change of the Sentinel-1-like series (the truth a change detector is scored against).

    Attributes
    ----------
    id
        Identifier, from 1 (as in ``changes.geojson``).
    kind
        ``step`` (once and for good) or ``peak`` (one date only).
    cause
        ``construction``, ``flooding``, ``fair`` or ``moored_barges``.
    direction
        ``increase`` or ``decrease`` of the backscatter.
    date
        Datetime of the first (steps) or only (peaks) acquisition showing it.
    date_index
        1-based index of that acquisition in :attr:`DemoArea.s1_dates` (its value in the change map).
    bounds_utm
        (west, south, east, north) of the changed area, EPSG:32631.
    window_10m
        (row, col, rows, cols) of the changed area on the 10 m grid.
    amplitude_db_vv, amplitude_db_vh
        Change of the noise-free backscatter over the area, dB.
    """

    id: int
    kind: str
    cause: str
    direction: str
    date: datetime
    date_index: int
    bounds_utm: tuple[float, float, float, float]
    window_10m: tuple[int, int, int, int]
    amplitude_db_vv: float
    amplitude_db_vh: float

    @property
    def slices_10m(self) -> tuple[slice, slice]:
        """Row and column slices of the area on the 10 m grid."""
        row, col, rows, cols = self.window_10m
        return slice(row, row + rows), slice(col, col + cols)


@dataclass(frozen=True)
class DemoArea:
    """A generated demo area on disk, and the truth it was generated from.

    Attributes
    ----------
    root
        Folder of the area.
    catalog_href
        The root STAC catalog (``root / "catalog.json"``).
    collections
        Collection ids.
    bbox_wgs84, bbox_utm
        Extent (west, south, east, north) in WGS84 degrees and in EPSG:32631 metres.
    crs
        CRS of every raster.
    seed, scale
        Generation parameters.
    generator_version
        Version of the generator that wrote it.
    shape, shape_10m
        (rows, cols) of the 1 m grid (VHR, DSM, DTM, 1 m truth) and of the 10 m grid (Sentinel-like series).
    transform, transform_10m
        Their geotransforms (6 coefficients of ``affine.Affine``).
    vhr_datetime, sun_azimuth, sun_elevation
        Acquisition of the VHR image and the sun position (degrees) its shadows were cast for.
    s2_dates, s2_cloud_cover
        Sentinel-2-like acquisitions (UTC) and their cloud cover (percent of pixels).
    s1_dates
        Sentinel-1-like acquisitions (UTC).
    changes
        Known changes of the Sentinel-1-like series.
    water_level
        Elevation of the river surface (m a.s.l.), flat in the DSM and the DTM.
    building_count, tree_count
        Number of buildings (features of the footprint files) and trees.
    dsm_nodata
        Nodata of the DSM and DTM (-9999).
    timings
        Seconds spent on each step of the generation.
    """

    root: Path
    catalog_href: Path
    collections: tuple[str, ...]
    bbox_wgs84: tuple[float, float, float, float]
    bbox_utm: tuple[float, float, float, float]
    crs: str
    seed: int
    scale: float
    generator_version: str
    shape: tuple[int, int]
    shape_10m: tuple[int, int]
    transform: tuple[float, ...]
    transform_10m: tuple[float, ...]
    vhr_datetime: datetime
    sun_azimuth: float
    sun_elevation: float
    s2_dates: tuple[datetime, ...]
    s2_cloud_cover: tuple[float, ...]
    s1_dates: tuple[datetime, ...]
    changes: tuple[KnownChange, ...]
    water_level: float
    building_count: int
    tree_count: int
    dsm_nodata: float = DSM_NODATA
    timings: dict[str, float] = field(default_factory=dict, compare=False)

    # -- paths -------------------------------------------------------------------------------------------
    def _asset(self, collection: str, asset: str, when: datetime | None = None) -> Path:
        return item_dir(self.root, collection, item_id(collection, when)) / asset_file(asset)

    @property
    def vhr_image(self) -> Path:
        """The 4-band VHR COG (blue, green, red, nir; reflectance x 10000; nodata 0)."""
        return self._asset(COLLECTION_VHR, "image", self.vhr_datetime)

    @property
    def dsm(self) -> Path:
        """The DSM COG (float32, m a.s.l., nodata -9999)."""
        return self._asset(COLLECTION_ELEVATION, "dsm", self.vhr_datetime)

    @property
    def dtm(self) -> Path:
        """The DTM COG (float32, m a.s.l., nodata -9999)."""
        return self._asset(COLLECTION_ELEVATION, "dtm", self.vhr_datetime)

    @property
    def buildings_gpkg(self) -> Path:
        """Building footprints, GeoPackage in EPSG:32631 (layer ``buildings``)."""
        return self._asset(COLLECTION_TRUTH, "buildings")

    @property
    def buildings_geojson(self) -> Path:
        """Building footprints, GeoJSON in WGS84."""
        return self._asset(COLLECTION_TRUTH, "buildings_geojson")

    @property
    def landcover(self) -> Path:
        """Land cover at 1 m (uint8 classes, 0 nodata)."""
        return self._asset(COLLECTION_TRUTH, "landcover")

    @property
    def landcover_10m(self) -> Path:
        """Land cover at 10 m (majority of the 1 m map)."""
        return self._asset(COLLECTION_TRUTH, "landcover_10m")

    @property
    def landcover_classes_json(self) -> Path:
        """The land-cover class table (JSON)."""
        return self._asset(COLLECTION_TRUTH, "landcover_classes")

    @property
    def change_dates(self) -> Path:
        """The 10 m change map: band 1 the 1-based S1 date index (0 none), band 2 the kind code."""
        return self._asset(COLLECTION_TRUTH, "change_dates")

    @property
    def changes_geojson(self) -> Path:
        """The change areas, GeoJSON in WGS84."""
        return self._asset(COLLECTION_TRUTH, "changes_geojson")

    @property
    def shadows(self) -> Path:
        """Cast-shadow mask of the VHR image (uint8, 1 in shadow)."""
        return self._asset(COLLECTION_TRUTH, "shadows")

    @property
    def building_ids(self) -> Path:
        """Building instances at 1 m (uint32 ids of the footprint files, 0 elsewhere)."""
        return self._asset(COLLECTION_TRUTH, "building_ids")

    @property
    def stereo_left(self) -> Path:
        """Left (forward-looking) view of the synthetic stereo pair: uint16 GeoTIFF with RPC tags."""
        return item_dir(self.root, COLLECTION_STEREO, stereo_item_id(self.vhr_datetime, "left")) / asset_file(
            "image"
        )

    @property
    def stereo_right(self) -> Path:
        """Right (backward-looking) view of the synthetic stereo pair: uint16 GeoTIFF with RPC tags."""
        return item_dir(
            self.root, COLLECTION_STEREO, stereo_item_id(self.vhr_datetime, "right")
        ) / asset_file("image")

    def s2_asset(self, index: int, band: str) -> Path:
        """File of one band (``blue``, ``green``, ``red``, ``nir``, ``swir16``, ``scl``) of the 0-based
        ``index``-th Sentinel-2-like date."""
        return self._asset(COLLECTION_S2, band, self.s2_dates[index])

    def s1_asset(self, index: int, polarization: str) -> Path:
        """File of one polarization (``vv``, ``vh``) of the 0-based ``index``-th Sentinel-1-like date."""
        return self._asset(COLLECTION_S1, polarization, self.s1_dates[index])

    @property
    def landcover_classes(self) -> dict[int, str]:
        """Land-cover class names by value."""
        return {c.value: c.name for c in LANDCOVER_CLASSES}

    # -- manifest ----------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The area as JSON-ready values (paths relative to :attr:`root`)."""

        def iso(value: datetime) -> str:
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "catalog_href": self.catalog_href.relative_to(self.root).as_posix(),
            "collections": list(self.collections),
            "bbox_wgs84": list(self.bbox_wgs84),
            "bbox_utm": list(self.bbox_utm),
            "crs": self.crs,
            "seed": self.seed,
            "scale": self.scale,
            "generator_version": self.generator_version,
            "shape": list(self.shape),
            "shape_10m": list(self.shape_10m),
            "transform": list(self.transform),
            "transform_10m": list(self.transform_10m),
            "vhr_datetime": iso(self.vhr_datetime),
            "sun_azimuth": self.sun_azimuth,
            "sun_elevation": self.sun_elevation,
            "s2_dates": [iso(d) for d in self.s2_dates],
            "s2_cloud_cover": list(self.s2_cloud_cover),
            "s1_dates": [iso(d) for d in self.s1_dates],
            "changes": [
                {
                    "id": c.id,
                    "kind": c.kind,
                    "cause": c.cause,
                    "direction": c.direction,
                    "date": iso(c.date),
                    "date_index": c.date_index,
                    "bounds_utm": list(c.bounds_utm),
                    "window_10m": list(c.window_10m),
                    "amplitude_db_vv": c.amplitude_db_vv,
                    "amplitude_db_vh": c.amplitude_db_vh,
                }
                for c in self.changes
            ],
            "water_level": self.water_level,
            "building_count": self.building_count,
            "tree_count": self.tree_count,
            "dsm_nodata": self.dsm_nodata,
            "timings": dict(self.timings),
        }

    @classmethod
    def from_json(cls, root: Path, data: dict[str, Any]) -> DemoArea:
        """Rebuild an area from :meth:`to_json` values found under ``root``."""

        def dt(value: str) -> datetime:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

        return cls(
            root=root,
            catalog_href=root / data["catalog_href"],
            collections=tuple(data["collections"]),
            bbox_wgs84=tuple(data["bbox_wgs84"]),
            bbox_utm=tuple(data["bbox_utm"]),
            crs=data["crs"],
            seed=int(data["seed"]),
            scale=float(data["scale"]),
            generator_version=str(data["generator_version"]),
            shape=tuple(data["shape"]),
            shape_10m=tuple(data["shape_10m"]),
            transform=tuple(data["transform"]),
            transform_10m=tuple(data["transform_10m"]),
            vhr_datetime=dt(data["vhr_datetime"]),
            sun_azimuth=float(data["sun_azimuth"]),
            sun_elevation=float(data["sun_elevation"]),
            s2_dates=tuple(dt(d) for d in data["s2_dates"]),
            s2_cloud_cover=tuple(float(c) for c in data["s2_cloud_cover"]),
            s1_dates=tuple(dt(d) for d in data["s1_dates"]),
            changes=tuple(
                KnownChange(
                    id=int(c["id"]),
                    kind=c["kind"],
                    cause=c["cause"],
                    direction=c["direction"],
                    date=dt(c["date"]),
                    date_index=int(c["date_index"]),
                    bounds_utm=tuple(c["bounds_utm"]),
                    window_10m=tuple(c["window_10m"]),
                    amplitude_db_vv=float(c["amplitude_db_vv"]),
                    amplitude_db_vh=float(c["amplitude_db_vh"]),
                )
                for c in data["changes"]
            ),
            water_level=float(data["water_level"]),
            building_count=int(data["building_count"]),
            tree_count=int(data["tree_count"]),
            dsm_nodata=float(data["dsm_nodata"]),
            timings={k: float(v) for k, v in data.get("timings", {}).items()},
        )


def read_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the area under ``root`` when the generator wrote one, else ``None``."""
    try:
        data = json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("generator") != GENERATOR:
        return None
    return data


def load(root: str | os.PathLike[str]) -> DemoArea | None:
    """The complete demo area under ``root``, or ``None`` when there is none (or an incomplete one).

    Parameters
    ----------
    root
        Folder of a generated area.
    """
    path = Path(root).expanduser().absolute()
    data = read_manifest(path)
    if data is None or not (path / "catalog.json").is_file():
        return None
    try:
        return DemoArea.from_json(path, data["area"])
    except (KeyError, TypeError, ValueError):
        return None
