"""Find imagery in catalogs through EODAG, stack it into xarray cubes, download it.

The embedded demo catalog (``ai4geo_kernel.demo.serve()``, or ``make lab``) is configured automatically
as the provider ``ai4geo_demo`` while it runs; real EODAG providers stay available with their usual
configuration (``~/.config/eodag/eodag.yml`` or ``EODAG__<PROVIDER>__...`` environment variables).

Examples
--------
>>> from ai4geo_kernel import catalog
>>> results = catalog.search(collection="demo-s2", bbox=[1.43, 43.59, 1.46, 43.61],
...                          start="2024-01-01", end="2024-12-31", cloud_cover=20)   # doctest: +SKIP
>>> cube = results.to_xarray(assets=["red", "nir"], resolution=10)                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ai4geo_kernel.catalog._download import download
from ai4geo_kernel.catalog._gateway import DEMO_PROVIDER, Gateway, gateway
from ai4geo_kernel.catalog._params import DateLike, SearchParameters
from ai4geo_kernel.catalog._results import SearchResults

__all__ = [
    "DEMO_PROVIDER",
    "Gateway",
    "SearchParameters",
    "SearchResults",
    "collections",
    "download",
    "gateway",
    "providers",
    "search",
]


def providers() -> list[str]:
    """Names of the configured EODAG providers, the demo provider first when the demo catalog runs."""
    return gateway().providers()


def collections(provider: str | None = None) -> list[dict[str, Any]]:
    """Collections offered by ``provider`` (by every provider when ``None``): id, title, description."""
    return gateway().collections(provider)


def search(
    collection: str,
    *,
    bbox: Sequence[float] | None = None,
    geometry: Any = None,
    start: DateLike | None = None,
    end: DateLike | None = None,
    cloud_cover: float | None = None,
    limit: int | None = None,
    provider: str | None = None,
    query: Mapping[str, Any] | None = None,
) -> SearchResults:
    """Search a collection; every page is fetched up to ``limit`` items.

    Parameters
    ----------
    collection
        Collection id at the provider (``"demo-s2"``, ``"S2_MSI_L2A"``...).
    bbox
        ``(west, south, east, north)`` in WGS84 degrees.
    geometry
        Instead of ``bbox``: GeoJSON (dict or string; Feature/FeatureCollection too), WKT or shapely, WGS84.
    start, end
        Acquisition date range (ISO 8601 strings, dates or datetimes, UTC when naive). A date alone as
        ``end`` includes that whole day.
    cloud_cover
        Maximum cloud cover in percent; applied by the library when the server cannot filter on it.
    limit
        Maximum number of items (default: all of them).
    provider
        EODAG provider; default ``AI4GEO_PROVIDER``, else the demo provider when it runs, else EODAG's choice.
    query
        More provider parameters (queryables), passed to EODAG as they are.

    Returns
    -------
    SearchResults
        The items (possibly none: an empty result is not an error).

    Raises
    ------
    InvalidBBoxError, InvalidDateRangeError, InvalidGeometryError, InvalidSearchError
        A parameter is malformed (the message names it).
    UnknownCollectionError
        The provider has no such collection (the message lists those it has).
    UnknownProviderError, ProviderUnreachableError
        The provider is not configured, or does not answer (the message names it).
    """
    params = SearchParameters.build(
        collection,
        bbox=bbox,
        geometry=geometry,
        start=start,
        end=end,
        cloud_cover=cloud_cover,
        limit=limit,
        provider=provider,
        query=query,
    )
    gw = gateway()
    chosen = gw.resolve_provider(params.provider)
    products = list(gw.iter_products(params))
    return SearchResults(products, params, chosen)
