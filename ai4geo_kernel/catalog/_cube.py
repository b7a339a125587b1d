"""Stack STAC items into an xarray cube with stackstac, with the grid (CRS, bounds, resolution) made explicit.

stackstac 0.5.1 reads the CRS only from ``proj:epsg`` and stacks single-band assets only, while EODAG and
pystac 1.15 write STAC 1.1 (``proj:code``); this module derives the grid from either and passes it to
stackstac explicitly, so the cube is the same whatever the items' STAC version.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pystac
import rioxarray  # noqa: F401 - registers the .rio accessor
import xarray as xr
from pyproj import CRS, Transformer

from ai4geo_kernel.errors import ConfigurationError, MissingCRSError

__all__ = ["stack_items", "item_epsg", "asset_grid"]


def _epsg_from(mapping: dict[str, Any]) -> int | None:
    code = mapping.get("proj:code")
    if isinstance(code, str) and code.upper().startswith("EPSG:"):
        return int(code.split(":", 1)[1])
    epsg = mapping.get("proj:epsg")
    return int(epsg) if epsg is not None else None


def item_epsg(item: pystac.Item, asset: str | None = None) -> int | None:
    """EPSG code of an item (or of one of its assets), from ``proj:code`` or ``proj:epsg``."""
    if asset is not None and asset in item.assets:
        found = _epsg_from(item.assets[asset].extra_fields)
        if found is not None:
            return found
    return _epsg_from(item.properties)


def asset_grid(
    item: pystac.Item, asset: str
) -> tuple[tuple[float, ...] | None, tuple[float, float, float, float] | None]:
    """``(transform, bbox)`` of an asset in its own CRS, from asset-level then item-level ``proj:`` fields."""
    fields = {**item.properties, **item.assets[asset].extra_fields}
    transform = tuple(fields["proj:transform"]) if fields.get("proj:transform") else None
    bbox = tuple(fields["proj:bbox"]) if fields.get("proj:bbox") else None
    if bbox is None and transform is not None and fields.get("proj:shape"):
        rows, cols = fields["proj:shape"]
        a, _, c, _, e, f = transform[:6]
        xs, ys = (c, c + a * cols), (f, f + e * rows)
        bbox = (min(xs), min(ys), max(xs), max(ys))
    return transform, bbox  # type: ignore[return-value]


def _default_assets(items: Sequence[pystac.Item]) -> list[str]:
    keys: list[str] = []
    for item in items:
        for key, asset in item.assets.items():
            if (
                key not in keys
                and "data" in (asset.roles or ["data"])
                and "image/tiff" in (asset.media_type or "")
            ):
                keys.append(key)
    return keys


def stack_items(
    items: Sequence[pystac.Item],
    *,
    assets: Sequence[str] | None = None,
    resolution: float | tuple[float, float] | None = None,
    crs: str | int | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    chunks: int | tuple[int, int] | None = None,
    dtype: str | np.dtype | None = None,
    fill_value: float | int | None = None,
    rescale: bool = True,
    resampling: str = "nearest",
) -> xr.DataArray:
    """Stack items into a ``(time, band, y, x)`` Dask-backed DataArray (see ``SearchResults.to_xarray``)."""
    import stackstac
    from rasterio.enums import Resampling

    items = list(items)
    if not items:
        raise ConfigurationError("no items to stack: the search returned nothing")
    keys = list(assets) if assets is not None else _default_assets(items)
    missing = sorted({k for k in keys for item in items if k not in item.assets})
    if missing:
        raise ConfigurationError(
            f"asset(s) {missing} missing from some items; available: {sorted(items[0].assets)}"
        )
    for item in items:
        for key in keys:
            bands = (
                item.assets[key].extra_fields.get("bands")
                or item.assets[key].extra_fields.get("eo:bands")
                or []
            )
            if len(bands) > 1:
                raise ConfigurationError(
                    f"asset {key!r} of {item.id} has {len(bands)} bands: stackstac stacks single-band assets only; "
                    f"open it with rioxarray.open_rasterio(item.assets[{key!r}].href, chunks=True)"
                )
    if crs is not None:
        epsg = CRS.from_user_input(crs).to_epsg()
        if epsg is None:
            raise ConfigurationError(f"crs={crs!r} has no EPSG code")
    else:
        found = {item_epsg(item, key) for item in items for key in keys}
        if None in found:
            raise MissingCRSError("some items carry no proj:code / proj:epsg: pass crs= explicitly")
        if len(found) > 1:
            raise ConfigurationError(f"items are in several CRSs {sorted(found)}: pass crs= to choose one")
        epsg = found.pop()
    if resolution is None:
        steps = []
        for item in items:
            for key in keys:
                transform, _ = asset_grid(item, key)
                if transform is not None and item_epsg(item, key) == epsg:
                    steps.append(abs(transform[0]))
        if not steps:
            raise ConfigurationError(
                "the items carry no proj:transform in this CRS: pass resolution= explicitly"
            )
        resolution = float(min(steps))
    if bounds is None:
        bounds = _union_bounds(items, keys, epsg)
    out_dtype = np.dtype(dtype) if dtype is not None else np.dtype("float64")
    # stackstac checks np.can_cast(type(fill_value), dtype): a Python int never casts to uint16, its numpy
    # scalar of the output dtype does.
    fill = out_dtype.type(fill_value) if fill_value is not None else np.nan
    data = stackstac.stack(
        [_stackstac_dict(item) for item in items],
        assets=keys,
        epsg=epsg,
        resolution=resolution,
        bounds=bounds,
        chunksize=chunks if chunks is not None else 1024,
        dtype=out_dtype,
        fill_value=fill,
        rescale=rescale,
        resampling=getattr(Resampling, resampling),
        sortby_date="asc",
    )
    data = data.rio.write_crs(f"EPSG:{epsg}")
    data.attrs["crs"] = f"EPSG:{epsg}"
    return data


def _stackstac_dict(item: pystac.Item) -> dict[str, Any]:
    """The item as stackstac 0.5.1 reads it: STAC 1.0 ``proj:epsg`` and ``raster:bands``.

    EODAG and pystac 1.15 write STAC 1.1 (``proj:code``; ``raster:scale``, ``raster:offset``, ``nodata`` and
    ``data_type`` on single-band assets), which stackstac ignores: without this its ``rescale`` would return
    raw digital numbers and its nodata would not be masked.
    """
    doc = item.to_dict(include_self_link=False, transform_hrefs=False)
    for fields in (doc["properties"], *doc["assets"].values()):
        epsg = _epsg_from(fields)
        if (
            epsg is not None
            and "proj:epsg" not in fields
            and ("proj:code" in fields or fields is doc["properties"])
        ):
            fields["proj:epsg"] = epsg
    for asset in doc["assets"].values():
        if "raster:bands" in asset:
            continue
        band = {
            key: asset[src]
            for key, src in (
                ("scale", "raster:scale"),
                ("offset", "raster:offset"),
                ("nodata", "nodata"),
                ("data_type", "data_type"),
            )
            if src in asset
        }
        if band:
            asset["raster:bands"] = [band]
    return doc


def _union_bounds(
    items: Sequence[pystac.Item], keys: Sequence[str], epsg: int
) -> tuple[float, float, float, float]:
    boxes = []
    to_crs = Transformer.from_crs(4326, epsg, always_xy=True)
    for item in items:
        for key in keys:
            _, bbox = asset_grid(item, key)
            if bbox is not None and item_epsg(item, key) == epsg:
                boxes.append(bbox)
            elif item.bbox is not None:
                boxes.append(to_crs.transform_bounds(*item.bbox))
    if not boxes:
        raise ConfigurationError("cannot tell the items' extent: pass bounds= explicitly")
    arr = np.asarray(boxes, dtype="float64")
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max()))
