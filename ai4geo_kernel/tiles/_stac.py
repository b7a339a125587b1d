"""STAC items as tile sources: which assets make a picture, and one layer from several single-band assets."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ai4geo_kernel.errors import ConfigurationError, RasterError
from ai4geo_kernel.tiles._geometry import Bounds
from ai4geo_kernel.tiles._sources import RasterSource

__all__ = [
    "AssetRef",
    "ItemSource",
    "raster_asset_keys",
    "choose_assets",
    "asset_href",
    "demo_item",
    "DEMO_ID_PATTERN",
]

#: Media types of assets a tile can be cut from (GeoTIFF/COG, JPEG 2000, VRT).
_RASTER_TYPES = ("image/tiff", "image/jp2", "application/x-vrt", "image/vnd.stac.geotiff")
_RASTER_SUFFIXES = (".tif", ".tiff", ".jp2", ".vrt")
#: Collection and item ids accepted in a request for the demo catalog (no separators, no dots first).
DEMO_ID_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")


@dataclass(frozen=True)
class AssetRef:
    """An asset of a STAC item, as a tile request names it.

    Attributes
    ----------
    item : str
        A STAC item JSON file under the server root (``downloads/S2A_xxx.json``), or
        ``collection/item_id`` of the demo catalog.
    asset : str
        The asset key (``visual``, ``red``, ``dsm``...).
    """

    item: str
    asset: str

    def __str__(self) -> str:
        return f"{self.item}#{self.asset}"

    @property
    def is_demo(self) -> bool:
        """Whether ``item`` names an item of the demo catalog rather than a JSON file."""
        return not self.item.lower().endswith(".json")


def _is_raster(asset: Any) -> bool:
    media = (asset.media_type or "").lower()
    href = asset.href.split("?")[0].lower()
    roles = asset.roles or []
    if "thumbnail" in roles or "overview" in roles:
        return False
    return media.startswith(_RASTER_TYPES) or (not media and href.endswith(_RASTER_SUFFIXES))


def raster_asset_keys(item: Any) -> list[str]:
    """Keys of the item's assets that tiles can be cut from (GeoTIFF/COG, JPEG 2000, VRT), in item order."""
    return [key for key, asset in item.assets.items() if _is_raster(asset)]


def _common_names(asset: Any) -> set[str]:
    names = set()
    for band in asset.extra_fields.get("eo:bands") or []:
        if isinstance(band, dict) and band.get("common_name"):
            names.add(str(band["common_name"]).lower())
    for band in asset.extra_fields.get("bands") or []:
        if isinstance(band, dict) and band.get("eo:common_name"):
            names.add(str(band["eo:common_name"]).lower())
    return names


def _band_count(asset: Any) -> int:
    for field in ("bands", "eo:bands", "raster:bands"):
        found = asset.extra_fields.get(field)
        if isinstance(found, list) and found:
            return len(found)
    return 1


def _band_names(asset: Any) -> list[str | None]:
    """Common name of each band of a multi-band asset (STAC 1.1 ``bands`` or ``eo:bands``), in order."""
    for field, key in (("bands", "eo:common_name"), ("eo:bands", "common_name")):
        found = asset.extra_fields.get(field)
        if isinstance(found, list) and found:
            return [str(b.get(key)).lower() if isinstance(b, dict) and b.get(key) else None for b in found]
    return []


def _rgb_bands(asset: Any) -> tuple[int, ...] | None:
    """Band numbers of red, green and blue inside one asset (a 4-band blue-green-red-nir image gives
    ``(3, 2, 1)``), or ``None`` when its bands are not named."""
    names = _band_names(asset)
    if all(colour in names for colour in ("red", "green", "blue")):
        return tuple(names.index(colour) + 1 for colour in ("red", "green", "blue"))
    return None


def _asset_for(item: Any, name: str, rasters: Sequence[str]) -> str | None:
    """The single-band asset called ``name`` (its key, or its band's common name)."""
    if name in rasters:
        return name
    for key in rasters:
        asset = item.assets[key]
        if _band_count(asset) == 1 and name.lower() in _common_names(asset):
            return key
    return None


def choose_assets(item: Any, bands: Any = None) -> tuple[list[str], tuple[int, ...] | None]:
    """Which assets (and bands inside them) draw ``item``.

    Parameters
    ----------
    item : pystac.Item
    bands : str, int, or sequence of str / int, optional
        Asset keys or band common names (``("nir", "red", "green")``: one asset each, as red, green, blue
        of the picture); or 1-based band numbers inside the one asset drawn. Default: the ``visual`` asset
        (key or role) when there is one, else the assets of the red, green and blue bands, else an asset
        holding bands named red, green and blue, else the first raster asset.

    Returns
    -------
    (list of str, tuple of int or None)
        Asset keys, and band numbers inside the asset when one multi-band asset is drawn (its red,
        green and blue bands when their common names say which; ``None``: its default bands).

    Raises
    ------
    ConfigurationError
        For names that match no raster asset (the message lists them), or a mix of names and numbers.
    """
    rasters = raster_asset_keys(item)
    if not rasters:
        raise ConfigurationError(f"item {item.id} has no raster asset (GeoTIFF/COG, JP2, VRT) to show")
    if bands is None:
        visual = [key for key in rasters if key == "visual" or "visual" in (item.assets[key].roles or [])]
        if visual:
            return [visual[0]], _rgb_bands(item.assets[visual[0]])
        rgb = [_asset_for(item, name, rasters) for name in ("red", "green", "blue")]
        if all(rgb):
            return [str(key) for key in rgb], None
        with_rgb = [key for key in rasters if _rgb_bands(item.assets[key])]
        if with_rgb:  # one multi-band asset holding red, green and blue (a VHR image)
            return [with_rgb[0]], _rgb_bands(item.assets[with_rgb[0]])
        return [rasters[0]], None
    chosen = [bands] if isinstance(bands, (str, int)) else list(bands)
    if all(isinstance(band, str) for band in chosen):
        keys = []
        for name in chosen:
            key = _asset_for(item, name, rasters)
            if key is None:
                raise ConfigurationError(
                    f"item {item.id} has no single-band raster asset {name!r}; assets: {', '.join(rasters)}"
                )
            keys.append(key)
        if len(keys) not in (1, 3):
            raise ConfigurationError(f"bands must name 1 asset or 3 (red, green, blue), got {chosen!r}")
        return keys, None
    if all(isinstance(band, int) and not isinstance(band, bool) for band in chosen):
        keys, _ = choose_assets(item)
        if len(keys) != 1:
            raise ConfigurationError(
                f"item {item.id} is drawn from several assets ({', '.join(keys)}): name them, "
                "e.g. bands=('nir', 'red', 'green')"
            )
        return keys, tuple(chosen)
    raise ConfigurationError(f"bands of an item are asset names or band numbers, not {bands!r}")


def asset_href(item: Any, key: str) -> str:
    """Absolute href of an asset (a local path or a URL), resolved against the item's own location."""
    if key not in item.assets:
        raise ConfigurationError(f"item {item.id} has no asset {key!r}; assets: {', '.join(item.assets)}")
    href = item.assets[key].get_absolute_href() or item.assets[key].href
    if href.startswith("file://"):
        href = href[len("file://") :]
    return href


def demo_item(stac_url: str, collection: str, item_id: str, *, timeout: float = 10.0) -> Any:
    """Item ``collection/item_id`` of the demo STAC API at ``stac_url`` (a setting, never a request's URL).

    Raises
    ------
    ConfigurationError
        For ids that are not plain STAC ids.
    FileNotFoundError
        If the catalog does not know the item.
    """
    import pystac

    for name, value in (("collection", collection), ("item", item_id)):
        if not DEMO_ID_PATTERN.fullmatch(value):
            raise ConfigurationError(f"{name} id {value!r} is not a STAC id")
    url = f"{stac_url.rstrip('/')}/collections/{collection}/items/{item_id}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 (the demo API on 127.0.0.1)
            document = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise FileNotFoundError(f"no item {collection}/{item_id} in the demo catalog") from error
        raise RasterError(f"the demo catalog answered {error.code} for {collection}/{item_id}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise RasterError(f"the demo catalog did not answer for {collection}/{item_id}: {error}") from error
    if document.get("type") != "Feature":
        raise FileNotFoundError(f"no item {collection}/{item_id} in the demo catalog")
    return pystac.Item.from_dict(document, href=url, preserve_dict=False)


class ItemSource:
    """Several single-band assets of a STAC item drawn as one layer (band ``i`` = asset ``i``), or one asset.

    Each asset is a :class:`RasterSource` (its own pool of rio-tiler readers); a tile reads the chosen
    assets' tiles and stacks them (``rio_tiler.models.ImageData.create_from_list``, what rio-tiler's own
    ``STACReader`` does for several assets).

    Parameters
    ----------
    sources : sequence of RasterSource
        One per asset, in band order.
    name : str
        Layer name.
    asset_keys : sequence of str, optional
        The assets' keys (names of the bands in point values).
    """

    def __init__(
        self, sources: Sequence[RasterSource], *, name: str, asset_keys: Sequence[str] | None = None
    ) -> None:
        if not sources:
            raise ConfigurationError("an item layer needs at least one asset")
        self.sources = list(sources)
        self.name = name
        self.asset_keys = list(asset_keys) if asset_keys is not None else [s.name for s in self.sources]
        self.location = " ".join(source.location for source in self.sources)
        single = len(self.sources) == 1
        self.count = self.sources[0].count if single else len(self.sources)
        self.dtype = self.sources[0].dtype
        west, south, east, north = zip(*(source.bounds for source in self.sources), strict=True)
        self.bounds: Bounds = (min(west), min(south), max(east), max(north))
        self.minzoom = min(source.minzoom for source in self.sources)
        self.maxzoom = max(source.maxzoom for source in self.sources)

    def _parts(self, bands: tuple[int, ...]) -> list[tuple[RasterSource, int]]:
        if len(self.sources) == 1:
            return [(self.sources[0], band) for band in bands]
        return [(self.sources[band - 1], 1) for band in bands]

    def tile(self, x: int, y: int, z: int, *, bands: tuple[int, ...]) -> Any | None:
        """Tile ``z/x/y`` of the chosen bands (assets); ``None`` when it misses every asset."""
        if len(self.sources) == 1:
            return self.sources[0].tile(x, y, z, bands=bands)
        from rio_tiler.models import ImageData

        images = [source.tile(x, y, z, bands=(band,)) for source, band in self._parts(bands)]
        if all(image is None for image in images):
            return None
        template = next(image for image in images if image is not None)
        filled = []
        for image in images:
            if image is None:  # an asset with a smaller footprint: masked there
                empty = np.ma.masked_all(template.array.shape[1:], dtype=template.array.dtype)[np.newaxis]
                image = ImageData(empty, bounds=template.bounds, crs=template.crs)
            filled.append(image)
        return ImageData.create_from_list(filled)

    def sample(self, *, bands: tuple[int, ...]) -> np.ma.MaskedArray:
        """Decimated reads of the chosen bands, cut to a common shape (assets may differ by a pixel)."""
        if len(self.sources) == 1:
            return self.sources[0].sample(bands=bands)
        parts = [source.sample(bands=(band,)) for source, band in self._parts(bands)]
        rows = min(part.shape[-2] for part in parts)
        cols = min(part.shape[-1] for part in parts)
        return np.ma.concatenate([part.reshape(-1, *part.shape[-2:])[:, :rows, :cols] for part in parts])

    def point(self, lon: float, lat: float) -> list[tuple[str, float | None]]:
        """Every band of every asset at ``lon, lat`` (WGS84), named ``asset`` or ``asset band``."""
        values: list[tuple[str, float | None]] = []
        for key, source in zip(self.asset_keys, self.sources, strict=True):
            found = source.point(lon, lat)
            if len(found) == 1:
                values.append((key, found[0][1]))
            else:
                values.extend((f"{key} {name}", value) for name, value in found)
        return values

    def close(self) -> None:
        """Close every asset's readers."""
        for source in self.sources:
            source.close()


def local_item_path(href: str) -> Path | None:
    """The file of a ``file://`` or plain local href, ``None`` for URLs."""
    if href.startswith(("http://", "https://")):
        return None
    return Path(href[len("file://") :] if href.startswith("file://") else href)
