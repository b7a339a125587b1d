"""Where each file of a demo area lies: collection ids, item ids, item folders and asset file names.

Kept free of heavy imports so that finding the files of an existing area is instant. The layout is
pystac's best-practice layout, with asset files beside their item::

    catalog.json
    manifest.json
    <collection id>/collection.json
    <collection id>/<item id>/<item id>.json
    <collection id>/<item id>/<asset file>
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

__all__ = [
    "CATALOG_ID",
    "COLLECTION_VHR",
    "COLLECTION_ELEVATION",
    "COLLECTION_S2",
    "COLLECTION_S1",
    "COLLECTION_TRUTH",
    "COLLECTION_STEREO",
    "COLLECTIONS",
    "S2_ASSETS",
    "S1_ASSETS",
    "TRUTH_ITEM_ID",
    "DSM_NODATA",
    "item_id",
    "stereo_item_id",
    "item_dir",
    "asset_file",
]

CATALOG_ID = "ai4geo-demo"
COLLECTION_VHR = "demo-vhr"
COLLECTION_ELEVATION = "demo-elevation"
COLLECTION_S2 = "demo-s2"
COLLECTION_S1 = "demo-s1"
COLLECTION_TRUTH = "demo-truth"
COLLECTION_STEREO = "demo-stereo"
#: Every collection id, in catalog order.
COLLECTIONS = (
    COLLECTION_VHR,
    COLLECTION_ELEVATION,
    COLLECTION_S2,
    COLLECTION_S1,
    COLLECTION_TRUTH,
    COLLECTION_STEREO,
)
#: Single-band reflectance assets of each Sentinel-2-like item (besides ``scl`` and ``thumbnail``).
S2_ASSETS = ("blue", "green", "red", "nir", "swir16")
#: Amplitude assets of each Sentinel-1-like item (besides ``thumbnail``).
S1_ASSETS = ("vv", "vh")
#: Id of the one item of the truth collection.
TRUTH_ITEM_ID = "demo-truth-2024"
#: Nodata of the DSM and DTM files (float32, metres).
DSM_NODATA = -9999.0

_FILES = {
    "image": "image.tif",
    "thumbnail": "thumbnail.png",
    "dsm": "dsm.tif",
    "dtm": "dtm.tif",
    "scl": "scl.tif",
    "buildings": "buildings.gpkg",
    "buildings_geojson": "buildings.geojson",
    "landcover": "landcover.tif",
    "landcover_10m": "landcover_10m.tif",
    "landcover_classes": "landcover_classes.json",
    "change_dates": "change_dates.tif",
    "changes_geojson": "changes.geojson",
    "shadows": "shadows.tif",
    "building_ids": "building_ids.tif",
    **{name: f"{name}.tif" for name in S2_ASSETS + S1_ASSETS},
}


def item_id(collection: str, when: datetime | None = None) -> str:
    """Item id: the collection id and the acquisition date (``demo-s2-20240106``); the truth has one item."""
    if collection == COLLECTION_TRUTH:
        return TRUTH_ITEM_ID
    if when is None:
        raise ValueError(f"items of {collection} are dated: give their datetime")
    return f"{collection}-{when:%Y%m%d}"


def stereo_item_id(when: datetime, view: str) -> str:
    """Item id of one view of the stereo pair (``demo-stereo-20240409-left``)."""
    return f"{COLLECTION_STEREO}-{when:%Y%m%d}-{view}"


def item_dir(root: Path, collection: str, item: str) -> Path:
    """Folder of an item (its JSON and its asset files)."""
    return root / collection / item


def asset_file(asset: str) -> str:
    """File name of an asset in its item folder."""
    return _FILES[asset]
