"""Search results: the items, and their conversions (pystac, GeoDataFrame, xarray) and downloads."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pystac
import shapely.geometry

from ai4geo_kernel.catalog._cube import stack_items
from ai4geo_kernel.catalog._params import SearchParameters

if TYPE_CHECKING:
    import geopandas as gpd
    import xarray as xr
    from eodag.api.product import EOProduct

__all__ = ["SearchResults"]

# EODAG bookkeeping that is not part of the item as the provider published it.
_EODAG_PROPERTIES = (
    "eodag:search_intersection",
    "eodag:provider",
    "federation:backends",
    "order:status",
    "eodag:number_matched",
)


# Extension schemas declared for the field prefixes the items carry (pystac checks them on validation).
_EXTENSIONS = {
    "proj": "https://stac-extensions.github.io/projection/v2.0.0/schema.json",
    "eo": "https://stac-extensions.github.io/eo/v2.0.0/schema.json",
    "view": "https://stac-extensions.github.io/view/v1.0.0/schema.json",
    "sar": "https://stac-extensions.github.io/sar/v1.2.0/schema.json",
    "raster": "https://stac-extensions.github.io/raster/v2.0.0/schema.json",
    "classification": "https://stac-extensions.github.io/classification/v2.0.0/schema.json",
    "sat": "https://stac-extensions.github.io/sat/v1.1.0/schema.json",
}


def _to_item(product: EOProduct) -> pystac.Item:
    # Not EOProduct.as_dict(): it builds pydantic models on every call (about 60 ms an item here, 1.4 s
    # for a 24-date series); the product already holds the STAC fields, so they are copied as they are.
    props = {k: v for k, v in product.properties.items() if k not in ("geometry", "id", *_EODAG_PROPERTIES)}
    props["provider"] = product.provider
    assets = product.assets.as_dict()
    prefixes = {key.split(":", 1)[0] for key in props if ":" in key}
    for asset in assets.values():
        prefixes |= {key.split(":", 1)[0] for key in asset if ":" in key}
    feature = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": sorted(_EXTENSIONS[p] for p in prefixes if p in _EXTENSIONS),
        "id": str(product.properties["id"]),
        "collection": product.collection,
        "geometry": shapely.geometry.mapping(product.geometry),
        "bbox": list(product.geometry.bounds),
        "properties": props,
        "assets": assets,
        "links": [link for link in product.links if link.get("rel") in ("self", "license")],
    }
    return pystac.Item.from_dict(feature, preserve_dict=False)


class SearchResults(Sequence[pystac.Item]):
    """The items a search found, as pystac Items, with the search that found them.

    Behaves as a sequence of :class:`pystac.Item`; converts to an ``ItemCollection``, a GeoDataFrame of
    footprints or an xarray cube; :func:`ai4geo_kernel.catalog.download` downloads it.
    """

    def __init__(
        self, products: Sequence[EOProduct], parameters: SearchParameters, provider: str | None
    ) -> None:
        self.products = list(products)
        self.parameters = parameters
        self.provider = provider
        self.items = [_to_item(p) for p in self.products]

    # -- sequence -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> pystac.Item: ...
    @overload
    def __getitem__(self, index: slice) -> list[pystac.Item]: ...
    def __getitem__(self, index: int | slice) -> pystac.Item | list[pystac.Item]:
        return self.items[index]

    def __iter__(self) -> Iterator[pystac.Item]:
        return iter(self.items)

    def __repr__(self) -> str:
        return f"SearchResults({len(self)} items of {self.parameters.collection!r} from {self.provider!r})"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{i.id}</td><td>{i.datetime:%Y-%m-%d %H:%M}</td>"
            f"<td>{i.properties.get('eo:cloud_cover', '')}</td><td>{', '.join(i.assets)}</td></tr>"
            for i in self.items[:50]
        )
        more = f"<p>... and {len(self) - 50} more</p>" if len(self) > 50 else ""
        return (
            f"<p><b>{len(self)}</b> items of <code>{self.parameters.collection}</code> from "
            f"<code>{self.provider}</code></p><table><tr><th>id</th><th>datetime</th><th>cloud cover</th>"
            f"<th>assets</th></tr>{rows}</table>{more}"
        )

    # -- conversions ---------------------------------------------------------------------------------------
    def to_item_collection(self) -> pystac.ItemCollection:
        """The items as a :class:`pystac.ItemCollection` (``.save_object(path)`` writes it)."""
        return pystac.ItemCollection(self.items, clone_items=True)

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """Footprints (EPSG:4326) with id, collection, datetime, cloud cover, platform and the item itself."""
        import geopandas as gpd
        import pandas as pd
        import shapely.geometry

        records: list[dict[str, Any]] = []
        for item in self.items:
            records.append(
                {
                    "id": item.id,
                    "collection": item.collection_id,
                    "datetime": pd.Timestamp(item.datetime) if item.datetime else pd.NaT,
                    "cloud_cover": item.properties.get("eo:cloud_cover", np.nan),
                    "platform": item.properties.get("platform"),
                    "geometry": shapely.geometry.shape(item.geometry) if item.geometry else None,
                }
            )
        columns = ["id", "collection", "datetime", "cloud_cover", "platform", "geometry"]
        return gpd.GeoDataFrame(records, columns=columns, geometry="geometry", crs="EPSG:4326")

    def to_xarray(
        self,
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
        """Stack the items into a lazy ``(time, band, y, x)`` cube with stackstac.

        Parameters
        ----------
        assets
            Asset keys to stack as bands (single-band assets); default: every GeoTIFF data asset.
        resolution
            Pixel size in units of ``crs``; default: the finest resolution among the assets.
        crs
            Output CRS (``"EPSG:32631"``, ``32631``...); default: the items' ``proj:code`` / ``proj:epsg``.
        bounds
            ``(minx, miny, maxx, maxy)`` in ``crs``; default: the union of the assets' extents.
        chunks
            Dask chunk size in pixels (default 1024).
        dtype, fill_value
            Output dtype (default float64) and the value of missing pixels (default NaN).
        rescale
            Apply the ``raster:bands`` scale and offset (e.g. Sentinel-2 DN to reflectance).
        resampling
            A :class:`rasterio.enums.Resampling` name used when the grid differs from the asset's.

        Returns
        -------
        xarray.DataArray
            Dask-backed, with the CRS written (rioxarray) and the STAC properties as coordinates.
        """
        return stack_items(
            self.items,
            assets=assets,
            resolution=resolution,
            crs=crs,
            bounds=bounds,
            chunks=chunks,
            dtype=dtype,
            fill_value=fill_value,
            rescale=rescale,
            resampling=resampling,
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the results as a STAC ItemCollection JSON file (atomically)."""
        import json

        dest = Path(path)
        tmp = dest.with_name(f".{dest.name}.part")
        tmp.write_text(json.dumps(self.to_item_collection().to_dict(transform_hrefs=False), indent=1))
        os.replace(tmp, dest)
        return dest
