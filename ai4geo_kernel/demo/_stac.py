"""STAC metadata of the demo area: a static, self-contained STAC 1.1 catalog written with pystac.

The layout is pystac's best-practice one (:mod:`ai4geo_kernel.demo._layout`). Asset hrefs are relative
(``./image.tif``): a server may rewrite them to ``http://...`` when it serves the catalog. Every item
carries ``proj:code`` and ``proj:epsg`` (stackstac 0.5 reads only the latter), ``proj:shape``,
``proj:transform`` and ``proj:bbox`` (on the item, or on each asset where grids differ).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pystac
from affine import Affine

from ai4geo_kernel.demo._acquisitions import YEAR_END, YEAR_START
from ai4geo_kernel.demo._changes import ChangeEvent
from ai4geo_kernel.demo._grid import EPSG, S2_RESOLUTION, VHR_RESOLUTION, AreaGrid
from ai4geo_kernel.demo._landcover import classes_as_stac
from ai4geo_kernel.demo._layout import (
    CATALOG_ID,
    COLLECTION_ELEVATION,
    COLLECTION_S1,
    COLLECTION_S2,
    COLLECTION_STEREO,
    COLLECTION_TRUTH,
    COLLECTION_VHR,
    DSM_NODATA,
    asset_file,
    item_id,
    stereo_item_id,
)
from ai4geo_kernel.demo._render import VHR_BANDS
from ai4geo_kernel.demo._sentinel1 import EQUIVALENT_NUMBER_OF_LOOKS, POLARIZATIONS
from ai4geo_kernel.demo._sentinel2 import S2_BANDS, SCL_CODES

__all__ = [
    "MEDIA_COG",
    "MEDIA_GPKG",
    "MEDIA_GEOJSON",
    "S2Record",
    "vhr_collection",
    "elevation_collection",
    "s2_collection",
    "s1_collection",
    "truth_collection",
    "stereo_collection",
    "build_catalog",
]

MEDIA_COG = "image/tiff; application=geotiff; profile=cloud-optimized"
MEDIA_GPKG = "application/geopackage+sqlite3"
MEDIA_GEOJSON = "application/geo+json"
MEDIA_PNG = "image/png"
MEDIA_JSON = "application/json"

_EXT = {
    "eo": "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "raster": "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
    "sar": "https://stac-extensions.github.io/sar/v1.0.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.0.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "classification": "https://stac-extensions.github.io/classification/v2.0.0/schema.json",
}
_LICENSE = "CC-BY-4.0"
_PROVIDERS = [
    pystac.Provider(
        name="ai4geo_kernel demo generator",
        roles=[pystac.ProviderRole.PRODUCER, pystac.ProviderRole.PROCESSOR, pystac.ProviderRole.HOST],
        description="Simulated data, generated deterministically from a seed; no real acquisition.",
    )
]
_KEYWORDS = ["simulated", "demo", "synthetic", "Toulouse", "AI4GEO"]
_S2_IDS = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08", "swir16": "B11"}
_VHR_WAVELENGTHS = {
    "blue": (0.490, 0.070),
    "green": (0.560, 0.080),
    "red": (0.650, 0.070),
    "nir": (0.840, 0.130),
}


@dataclass(frozen=True)
class S2Record:
    """What the STAC item of one Sentinel-2-like date needs to know."""

    datetime: datetime
    cloud_cover: float
    sun_azimuth: float
    sun_elevation: float


def _href(asset: str) -> str:
    return f"./{asset_file(asset)}"


def _proj(transform: Affine, shape: tuple[int, int], grid: AreaGrid) -> dict[str, Any]:
    return {
        "proj:code": f"EPSG:{EPSG}",
        "proj:epsg": EPSG,
        "proj:shape": [int(shape[0]), int(shape[1])],
        "proj:transform": [float(v) for v in tuple(transform)[:6]],
        "proj:bbox": [float(v) for v in grid.bbox_utm],
    }


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(
    collection: str, when: datetime, grid: AreaGrid, properties: dict[str, Any], extensions: Sequence[str]
) -> pystac.Item:
    item = pystac.Item(
        id=item_id(collection, when),
        geometry=grid.footprint_wgs84,
        bbox=list(grid.bbox_wgs84),
        datetime=when,
        properties=dict(properties),
        stac_extensions=[_EXT[name] for name in extensions],
        collection=collection,
    )
    return item


def _raster_band(
    data_type: str,
    nodata: float | str | None,
    *,
    scale: float = 1.0,
    offset: float = 0.0,
    resolution: float,
    unit: str | None = None,
) -> dict[str, Any]:
    band: dict[str, Any] = {
        "data_type": data_type,
        "scale": scale,
        "offset": offset,
        "spatial_resolution": resolution,
    }
    if nodata is not None:
        band["nodata"] = nodata
    if unit is not None:
        band["unit"] = unit
    return band


def _optical_bands(
    names: Sequence[str],
    ids: dict[str, str],
    wavelengths: dict[str, tuple[float, float]],
    *,
    nodata: int,
    resolution: float,
) -> dict[str, Any]:
    eo = []
    bands = []
    raster = []
    for name in names:
        centre, width = wavelengths[name]
        eo.append(
            {
                "name": ids.get(name, name),
                "common_name": name,
                "center_wavelength": centre,
                "full_width_half_max": width,
            }
        )
        bands.append(
            {
                "name": ids.get(name, name),
                "eo:common_name": name,
                "eo:center_wavelength": centre,
                "eo:full_width_half_max": width,
                "data_type": "uint16",
                "nodata": nodata,
            }
        )
        raster.append(_raster_band("uint16", nodata, scale=0.0001, resolution=resolution))
    return {"eo:bands": eo, "bands": bands, "raster:bands": raster}


def _collection(
    collection_id: str,
    title: str,
    description: str,
    grid: AreaGrid,
    interval: tuple[datetime, datetime],
    summaries: dict[str, Any],
) -> pystac.Collection:
    return pystac.Collection(
        id=collection_id,
        title=title,
        description=description,
        extent=pystac.Extent(
            pystac.SpatialExtent([list(grid.bbox_wgs84)]),
            pystac.TemporalExtent([[interval[0], interval[1]]]),
        ),
        license=_LICENSE,
        keywords=list(_KEYWORDS),
        providers=list(_PROVIDERS),
        summaries=pystac.Summaries(summaries),
    )


def _thumbnail(title: str) -> pystac.Asset:
    return pystac.Asset(href=_href("thumbnail"), media_type=MEDIA_PNG, roles=["thumbnail"], title=title)


def vhr_collection(
    grid: AreaGrid, when: datetime, *, sun_azimuth: float, sun_elevation: float
) -> pystac.Collection:
    """The VHR collection: one 4-band image (blue, green, red, nir) at 1 m and its thumbnail."""
    collection = _collection(
        COLLECTION_VHR,
        "Demo VHR image (simulated Pleiades-like, 1 m)",
        "A simulated very-high-resolution multispectral image over Toulouse, France: 4 bands (blue, green, "
        "red, "
        "near infrared) at 1 m, surface reflectance x 10000, with cast shadows computed from the DSM for the "
        "stated sun position. Generated by ai4geo_kernel.demo; not a real acquisition.",
        grid,
        (when, when),
        {"platform": ["demo-pleiades-1a"], "constellation": ["demo-pleiades"], "gsd": [VHR_RESOLUTION]},
    )
    item = _item(
        COLLECTION_VHR,
        when,
        grid,
        {
            "platform": "demo-pleiades-1a",
            "constellation": "demo-pleiades",
            "instruments": ["demo-phr"],
            "gsd": VHR_RESOLUTION,
            "view:sun_azimuth": sun_azimuth,
            "view:sun_elevation": sun_elevation,
            "view:off_nadir": 0.0,
            "view:incidence_angle": 0.0,
            "eo:cloud_cover": 0.0,
            **_proj(grid.transform, (grid.size, grid.size), grid),
        },
        ("eo", "proj", "raster", "view"),
    )
    item.add_asset(
        "image",
        pystac.Asset(
            href=_href("image"),
            media_type=MEDIA_COG,
            roles=["data", "reflectance"],
            title="Multispectral image (blue, green, red, nir), reflectance x 10000",
            extra_fields=_optical_bands(VHR_BANDS, {}, _VHR_WAVELENGTHS, nodata=0, resolution=VHR_RESOLUTION),
        ),
    )
    item.add_asset("thumbnail", _thumbnail("True-colour preview"))
    collection.add_item(item)
    return collection


def elevation_collection(grid: AreaGrid, when: datetime) -> pystac.Collection:
    """The elevation collection: the DSM and the DTM at 1 m (float32, metres a.s.l., nodata -9999)."""
    collection = _collection(
        COLLECTION_ELEVATION,
        "Demo elevation models (simulated DSM and DTM, 1 m)",
        "Simulated digital surface model (terrain, buildings with flat/gable/hip roofs, tree crowns, bridge "
        "decks) and digital terrain model (bare earth; the water surface on the river) over Toulouse, "
        "France, "
        "float32 metres above sea level, nodata -9999. Generated by ai4geo_kernel.demo; not a real product.",
        grid,
        (when, when),
        {"platform": ["demo-pleiades-1a"], "constellation": ["demo-pleiades"], "gsd": [VHR_RESOLUTION]},
    )
    item = _item(
        COLLECTION_ELEVATION,
        when,
        grid,
        {
            "platform": "demo-pleiades-1a",
            "constellation": "demo-pleiades",
            "instruments": ["demo-phr"],
            "gsd": VHR_RESOLUTION,
            **_proj(grid.transform, (grid.size, grid.size), grid),
        },
        ("proj", "raster"),
    )
    for key, title in (("dsm", "Digital surface model"), ("dtm", "Digital terrain model")):
        item.add_asset(
            key,
            pystac.Asset(
                href=_href(key),
                media_type=MEDIA_COG,
                roles=["data", key],
                title=f"{title} (m a.s.l.)",
                extra_fields={
                    "raster:bands": [
                        _raster_band("float32", DSM_NODATA, resolution=VHR_RESOLUTION, unit="m")
                    ],
                    "bands": [{"name": key, "data_type": "float32", "nodata": DSM_NODATA, "unit": "m"}],
                },
            ),
        )
    item.add_asset("thumbnail", _thumbnail("Shaded relief of the DSM"))
    collection.add_item(item)
    return collection


def s2_collection(grid: AreaGrid, records: Sequence[S2Record]) -> pystac.Collection:
    """The Sentinel-2-like collection: one item per date, one single-band COG per band, plus ``scl``."""
    wavelengths = {name: (centre, width) for name, (_, centre, width) in S2_BANDS.items()}
    dates = [r.datetime for r in records]
    collection = _collection(
        COLLECTION_S2,
        "Demo Sentinel-2-like series (simulated, 10 m)",
        "A simulated Sentinel-2 L2A-like time series over Toulouse, France, through 2024: blue, green, red, "
        "nir and swir16 at 10 m (surface reflectance x 10000, nodata 0) with seasonal vegetation, clouds and "
        "cloud shadows, and an SCL-like scene classification. eo:cloud_cover is the percentage of SCL cloud "
        "pixels (codes 8 and 9). Generated by ai4geo_kernel.demo; not real Copernicus data.",
        grid,
        (min(dates), max(dates)),
        {
            "platform": ["demo-sentinel-2a", "demo-sentinel-2b"],
            "constellation": ["demo-sentinel-2"],
            "instruments": ["demo-msi"],
            "gsd": [S2_RESOLUTION],
            "eo:cloud_cover": {
                "minimum": min(r.cloud_cover for r in records),
                "maximum": max(r.cloud_cover for r in records),
            },
        },
    )
    for index, record in enumerate(records):
        item = _item(
            COLLECTION_S2,
            record.datetime,
            grid,
            {
                "platform": "demo-sentinel-2a" if index % 2 == 0 else "demo-sentinel-2b",
                "constellation": "demo-sentinel-2",
                "instruments": ["demo-msi"],
                "gsd": S2_RESOLUTION,
                "eo:cloud_cover": record.cloud_cover,
                "view:sun_azimuth": record.sun_azimuth,
                "view:sun_elevation": record.sun_elevation,
                "sat:orbit_state": "descending",
                "sat:relative_orbit": 51,
                **_proj(grid.transform_10m, (grid.size_10m, grid.size_10m), grid),
            },
            ("eo", "proj", "raster", "view", "sat"),
        )
        for band in S2_BANDS:
            item.add_asset(
                band,
                pystac.Asset(
                    href=_href(band),
                    media_type=MEDIA_COG,
                    roles=["data", "reflectance"],
                    title=f"{band} ({_S2_IDS[band]}), reflectance x 10000",
                    extra_fields=_optical_bands(
                        [band], _S2_IDS, wavelengths, nodata=0, resolution=S2_RESOLUTION
                    ),
                ),
            )
        item.add_asset(
            "scl",
            pystac.Asset(
                href=_href("scl"),
                media_type=MEDIA_COG,
                roles=["data", "cloud", "cloud-shadow"],
                title="Scene classification (Sentinel-2 L2A SCL codes)",
                extra_fields={
                    "raster:bands": [_raster_band("uint8", 0, resolution=S2_RESOLUTION)],
                    "bands": [{"name": "scl", "data_type": "uint8", "nodata": 0}],
                    "classification:classes": [
                        {"value": code, "name": name} for code, name in SCL_CODES.items() if code != 0
                    ],
                },
            ),
        )
        item.stac_extensions.append(_EXT["classification"])
        item.add_asset("thumbnail", _thumbnail("True-colour preview"))
        collection.add_item(item)
    return collection


def s1_collection(grid: AreaGrid, dates: Sequence[datetime]) -> pystac.Collection:
    """The Sentinel-1-like collection: one item per date, assets ``vv`` and ``vh`` (float32 amplitudes)."""
    sar = {
        "sar:instrument_mode": "IW",
        "sar:frequency_band": "C",
        "sar:center_frequency": 5.405,
        "sar:polarizations": ["VV", "VH"],
        "sar:product_type": "GRD",
        "sar:resolution_range": 20.0,
        "sar:resolution_azimuth": 22.0,
        "sar:pixel_spacing_range": 10.0,
        "sar:pixel_spacing_azimuth": 10.0,
        "sar:looks_range": 5,
        "sar:looks_azimuth": 1,
        "sar:looks_equivalent_number": EQUIVALENT_NUMBER_OF_LOOKS,
        "sar:observation_direction": "right",
    }
    collection = _collection(
        COLLECTION_S1,
        "Demo Sentinel-1-like series (simulated, 10 m)",
        "A simulated Sentinel-1 IW GRD-like series over Toulouse, France, every 12 days through 2024: VV "
        "and VH "
        "amplitudes (linear, float32, square root of the calibrated intensity) at 10 m with Gamma speckle "
        f"(equivalent number of looks {EQUIVALENT_NUMBER_OF_LOOKS}) and known changes (steps and one-date "
        "peaks) recorded in the demo-truth collection. Generated by ai4geo_kernel.demo; not real Copernicus "
        "data.",
        grid,
        (min(dates), max(dates)),
        {
            "platform": ["demo-sentinel-1a"],
            "constellation": ["demo-sentinel-1"],
            "instruments": ["demo-c-sar"],
            "gsd": [S2_RESOLUTION],
            "sar:instrument_mode": ["IW"],
            "sar:frequency_band": ["C"],
            "sar:polarizations": ["VV", "VH"],
        },
    )
    for when in dates:
        item = _item(
            COLLECTION_S1,
            when,
            grid,
            {
                "platform": "demo-sentinel-1a",
                "constellation": "demo-sentinel-1",
                "instruments": ["demo-c-sar"],
                "gsd": S2_RESOLUTION,
                **sar,
                "sat:orbit_state": "ascending",
                "sat:relative_orbit": 30,
                **_proj(grid.transform_10m, (grid.size_10m, grid.size_10m), grid),
            },
            ("sar", "sat", "proj", "raster"),
        )
        for pol in POLARIZATIONS:
            item.add_asset(
                pol,
                pystac.Asset(
                    href=_href(pol),
                    media_type=MEDIA_COG,
                    roles=["data", "amplitude"],
                    title=f"{pol.upper()} amplitude (linear)",
                    extra_fields={
                        "sar:polarizations": [pol.upper()],
                        "raster:bands": [_raster_band("float32", 0, resolution=S2_RESOLUTION)],
                        "bands": [{"name": pol, "data_type": "float32", "nodata": 0}],
                    },
                ),
            )
        item.add_asset("thumbnail", _thumbnail("VV amplitude in dB"))
        collection.add_item(item)
    return collection


def truth_collection(grid: AreaGrid, when: datetime, events: Sequence[ChangeEvent]) -> pystac.Collection:
    """The ground-truth collection: buildings, land cover (1 m, 10 m), changes, shadows, building ids."""
    collection = _collection(
        COLLECTION_TRUTH,
        "Demo ground truth",
        "Ground truth of the simulated demo area over Toulouse, France: building footprints with heights and "
        "roof types, land-cover maps at 1 m and 10 m (at the date of the VHR image), the cast-shadow mask of "
        "the VHR image, building instances, and the known changes of the Sentinel-1-like series (a 10 m map: "
        "band 1 the 1-based index of the acquisition where the change shows, 0 = no change; band 2 the kind: "
        "1 step increase, 2 step decrease, 3 one-date peak). Generated by ai4geo_kernel.demo.",
        grid,
        (YEAR_START, YEAR_END),
        {"gsd": [VHR_RESOLUTION, S2_RESOLUTION]},
    )
    item = _item(
        COLLECTION_TRUTH,
        when,
        grid,
        {
            "start_datetime": _time(YEAR_START),
            "end_datetime": _time(YEAR_END),
            "proj:code": f"EPSG:{EPSG}",
            "proj:epsg": EPSG,
            "proj:bbox": [float(v) for v in grid.bbox_utm],
            "demo:changes": [
                {
                    "id": e.id,
                    "kind": e.kind,
                    "cause": e.cause,
                    "date": _time(e.date),
                    "date_index": e.date_index,
                    "amplitude_db_vv": e.amplitude_db_vv,
                }
                for e in events
            ],
        },
        ("proj", "raster", "classification"),
    )
    proj_1m = _proj(grid.transform, (grid.size, grid.size), grid)
    proj_10m = _proj(grid.transform_10m, (grid.size_10m, grid.size_10m), grid)
    classes = classes_as_stac()
    item.add_asset(
        "buildings",
        pystac.Asset(
            href=_href("buildings"),
            media_type=MEDIA_GPKG,
            roles=["data", "labels"],
            title="Building footprints (EPSG:32631; id, height, eaves_height, roof_type, ground_elevation)",
        ),
    )
    item.add_asset(
        "buildings_geojson",
        pystac.Asset(
            href=_href("buildings_geojson"),
            media_type=MEDIA_GEOJSON,
            roles=["data", "labels"],
            title="Building footprints (WGS84)",
        ),
    )
    for key, proj, resolution, title in (
        ("landcover", proj_1m, VHR_RESOLUTION, "Land cover at 1 m"),
        ("landcover_10m", proj_10m, S2_RESOLUTION, "Land cover at 10 m (majority of the 1 m map)"),
    ):
        item.add_asset(
            key,
            pystac.Asset(
                href=_href(key),
                media_type=MEDIA_COG,
                roles=["data", "labels"],
                title=title,
                extra_fields={
                    **proj,
                    "raster:bands": [
                        {**_raster_band("uint8", 0, resolution=resolution), "classification:classes": classes}
                    ],
                    "classification:classes": classes,
                },
            ),
        )
    item.add_asset(
        "landcover_classes",
        pystac.Asset(
            href=_href("landcover_classes"),
            media_type=MEDIA_JSON,
            roles=["metadata"],
            title="Land-cover class table",
        ),
    )
    item.add_asset(
        "change_dates",
        pystac.Asset(
            href=_href("change_dates"),
            media_type=MEDIA_COG,
            roles=["data", "labels"],
            title="Known changes of the SAR series: band 1 date index (1-based, 0 none), band 2 kind",
            extra_fields={
                **proj_10m,
                "raster:bands": [
                    _raster_band("uint8", None, resolution=S2_RESOLUTION),
                    _raster_band("uint8", None, resolution=S2_RESOLUTION),
                ],
                "bands": [
                    {"name": "date_index", "description": "1-based index in the demo-s1 dates; 0 no change"},
                    {"name": "kind", "description": "0 none, 1 step increase, 2 step decrease, 3 peak"},
                ],
            },
        ),
    )
    item.add_asset(
        "changes_geojson",
        pystac.Asset(
            href=_href("changes_geojson"),
            media_type=MEDIA_GEOJSON,
            roles=["data", "labels"],
            title="Change areas (WGS84) with kind, cause, date, date_index and amplitude in dB",
        ),
    )
    item.add_asset(
        "shadows",
        pystac.Asset(
            href=_href("shadows"),
            media_type=MEDIA_COG,
            roles=["data", "labels"],
            title="Cast shadows of the VHR image (1 shadow, 0 sunlit)",
            extra_fields={
                **proj_1m,
                "raster:bands": [_raster_band("uint8", None, resolution=VHR_RESOLUTION)],
            },
        ),
    )
    item.add_asset(
        "building_ids",
        pystac.Asset(
            href=_href("building_ids"),
            media_type=MEDIA_COG,
            roles=["data", "labels"],
            title="Building instances: the id of the building covering each pixel, 0 elsewhere",
            extra_fields={
                **proj_1m,
                "raster:bands": [_raster_band("uint32", None, resolution=VHR_RESOLUTION)],
            },
        ),
    )
    collection.add_item(item)
    return collection


@dataclass(frozen=True)
class StereoRecord:
    """What the STAC item of one stereo view needs to know."""

    view: str
    size: int
    footprint: list[tuple[float, float]]
    off_nadir: float
    azimuth: float
    rpc_error_px: float


def stereo_collection(
    grid: AreaGrid,
    when: datetime,
    records: Sequence[StereoRecord],
    *,
    b_over_h: float,
    geoid_undulation: float,
) -> pystac.Collection:
    """The stereo collection: the two views of an along-track pair, sensor geometry with RPC models."""
    collection = _collection(
        COLLECTION_STEREO,
        "Demo stereo pair (simulated Pleiades-like along-track pair, 1 m, with RPC models)",
        "Two simulated panchromatic views of the demo area, forward- and backward-looking (B/H "
        f"{b_over_h:g}), rendered from the demo DSM and VHR image through a known pushbroom projection, in "
        "sensor geometry; each image carries an RPC model fitted to that projection (GeoTIFF RPC tags; "
        f"ellipsoidal heights = heights a.s.l. + {geoid_undulation:g} m, the EGM96 geoid undulation). "
        "The true DSM is the demo-elevation DSM. Generated by ai4geo_kernel.demo; not a real acquisition.",
        grid,
        (when, when),
        {"platform": ["demo-pleiades-1a"], "constellation": ["demo-pleiades"], "gsd": [VHR_RESOLUTION]},
    )
    for record in records:
        lons = [p[0] for p in record.footprint]
        lats = [p[1] for p in record.footprint]
        item = pystac.Item(
            id=stereo_item_id(when, record.view),
            geometry={"type": "Polygon", "coordinates": [[list(p) for p in record.footprint]]},
            bbox=[min(lons), min(lats), max(lons), max(lats)],
            datetime=when,
            properties={
                "platform": "demo-pleiades-1a",
                "constellation": "demo-pleiades",
                "instruments": ["demo-phr"],
                "gsd": VHR_RESOLUTION,
                "view:off_nadir": record.off_nadir,
                "view:azimuth": record.azimuth,
                "eo:cloud_cover": 0.0,
                # sensor geometry: no CRS (STAC projection: proj:code null), the RPC model locates it
                "proj:code": None,
                "proj:shape": [record.size, record.size],
                "ai4geo:stereo_pair": f"{COLLECTION_STEREO}-{when:%Y%m%d}",
                "ai4geo:stereo_view": record.view,
                "ai4geo:b_over_h": b_over_h,
                "ai4geo:rpc_fit_error_px": record.rpc_error_px,
            },
            stac_extensions=[_EXT["eo"], _EXT["proj"], _EXT["raster"], _EXT["view"]],
            collection=COLLECTION_STEREO,
        )
        item.add_asset(
            "image",
            pystac.Asset(
                href=_href("image"),
                media_type=MEDIA_COG,
                roles=["data"],
                title=f"Panchromatic {record.view} view, sensor geometry, RPC model in the TIFF tags",
                extra_fields={
                    "raster:bands": [_raster_band("uint16", None, resolution=VHR_RESOLUTION)],
                    "bands": [{"name": "pan", "data_type": "uint16"}],
                },
            ),
        )
        item.add_asset("thumbnail", _thumbnail(f"Preview of the {record.view} view"))
        collection.add_item(item)
    return collection


def build_catalog(
    root: Path, collections: Sequence[pystac.Collection], *, seed: int, scale: float
) -> pystac.Catalog:
    """Assemble the root catalog and save it, self-contained, under ``root``.

    Returns
    -------
    pystac.Catalog
        The saved catalog (its ``catalog.json`` is ``root / "catalog.json"``).
    """
    catalog = pystac.Catalog(
        id=CATALOG_ID,
        title="AI4GEO demo area: Toulouse (simulated)",
        description=(
            "A deterministic simulated area over Toulouse, France (EPSG:32631), generated by "
            f"ai4geo_kernel.demo with seed {seed} and scale {scale}: a VHR image, DSM and DTM, "
            "Sentinel-2-like and Sentinel-1-like "
            "series, and their ground truth. Not real data."
        ),
    )
    for collection in collections:
        catalog.add_child(collection)
    catalog.normalize_hrefs(str(root))
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return catalog
