"""One gateway over EODAG: providers (real ones and the embedded demo provider), collections, search.

EODAG does the provider work (configuration, credentials, STAC/OpenSearch dialects, paging, downloads);
this module adds what it lacks for us: the demo provider configured from the running demo catalog, checks
that fail early with the library's own errors, and filters the server cannot apply (cloud cover on rustac).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

from ai4geo_kernel import settings
from ai4geo_kernel.catalog._params import SearchParameters
from ai4geo_kernel.errors import (
    CatalogError,
    ProviderUnreachableError,
    UnknownCollectionError,
    UnknownProviderError,
)

if TYPE_CHECKING:
    from eodag import EODataAccessGateway
    from eodag.api.product import EOProduct

__all__ = ["DEMO_PROVIDER", "Gateway", "gateway"]

#: Name of the embedded demo provider in EODAG (EODAG provider names take no hyphen).
DEMO_PROVIDER = "ai4geo_demo"
_MAX_PAGE = 100
_DEMO_PAGE = 500  # rustac serves large pages; EODAG's STAC default is 50
_COLLECTIONS_TTL_S = 60.0
_log = logging.getLogger(__name__)


def _offline_eodag_environment() -> None:
    # eodag downloads an external collections file from the internet on first use; point it at an empty
    # local one unless the user chose otherwise (an HPC node without internet would otherwise stall).
    if "EODAG_EXT_COLLECTIONS_CFG_URI" not in os.environ:
        path = resources.files("ai4geo_kernel.catalog").joinpath("ext_collections.json")
        os.environ["EODAG_EXT_COLLECTIONS_CFG_URI"] = str(path)


def _connection_failure(exc: BaseException) -> bool:
    import requests

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.ConnectionError | requests.Timeout | ConnectionError | TimeoutError):
            return True
        text = " ".join(str(a) for a in getattr(seen, "args", ()))
        if "Connection refused" in text or "Max retries exceeded" in text or "timed out" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class Gateway:
    """EODAG behind one object; ``ai4geo_kernel.catalog`` functions use the process-wide :func:`gateway`."""

    def __init__(self) -> None:
        self._dag: EODataAccessGateway | None = None
        self._demo_url: str | None = None
        self._lock = threading.RLock()
        # EODataAccessGateway.providers deep-copies every provider's configuration (about 55 ms here):
        # what a search needs of it is read once, and again after the demo provider is (re)configured.
        self._provider_info: dict[str, tuple[list[str], dict[str, int], dict[str, str]]] = {}
        self._collections: dict[tuple[str | None, str | None], tuple[float, list[dict[str, Any]]]] = {}

    # -- EODAG and the demo provider -------------------------------------------------------------------
    @property
    def dag(self) -> EODataAccessGateway:
        """The EODAG gateway, created on first use, with the demo provider when the demo catalog runs."""
        with self._lock:
            if self._dag is None:
                _offline_eodag_environment()
                from eodag import EODataAccessGateway
                from eodag.utils.logging import setup_logging

                setup_logging(1)  # progress bars, no log records (errors become our exceptions)
                self._dag = EODataAccessGateway()
            self._sync_demo_provider(self._dag)
            return self._dag

    def _sync_demo_provider(self, dag: EODataAccessGateway) -> None:
        url = settings.demo_stac_url()
        if not url or url == self._demo_url:
            return
        url = url.rstrip("/")
        dag.add_provider(
            DEMO_PROVIDER,
            url=url,
            search={
                "type": "StacSearch",
                "api_endpoint": f"{url}/search",
                "need_auth": False,
                # keep asset keys as the catalog names them (EODAG renames them from hrefs otherwise)
                "asset_key_from_href": False,
                # rustac has no /queryables: without this EODAG's search fails and returns nothing
                "discover_queryables": {"fetch_url": None, "collection_fetch_url": None},
                "pagination": {"max_limit": _DEMO_PAGE},
            },
            download={"type": "HTTPDownload"},
            description="AI4GEO embedded demo catalog (generated data over Toulouse, served on 127.0.0.1)",
        )
        self._demo_url = url
        self._provider_info.clear()

    def _providers_snapshot(self) -> tuple[list[str], dict[str, int], dict[str, str]]:
        """Provider names, their page sizes (``pagination.max_limit``) and STAC API roots, read once."""
        dag = self.dag
        with self._lock:
            if "all" not in self._provider_info:
                providers = dag.providers
                names, pages, roots = list(providers), {}, {}
                for name in names:
                    with contextlib.suppress(Exception):
                        pages[name] = int(providers[name].search_config.pagination["max_limit"])
                    with contextlib.suppress(Exception):
                        endpoint = providers[name].search_config.api_endpoint
                        roots[name] = str(endpoint).removesuffix("/search")
                self._provider_info["all"] = (names, pages, roots)
            return self._provider_info["all"]

    def demo_url(self) -> str | None:
        """URL of the demo STAC API the gateway is configured with (``None`` when no demo runs)."""
        return settings.demo_stac_url()

    def providers(self) -> list[str]:
        """Names of the configured providers, the demo provider first when it runs."""
        names = list(self._providers_snapshot()[0])
        if DEMO_PROVIDER in names:
            names.remove(DEMO_PROVIDER)
            if self.demo_url():
                names.insert(0, DEMO_PROVIDER)
        return names

    def resolve_provider(self, provider: str | None) -> str | None:
        """The provider a search goes to: the one given, ``AI4GEO_PROVIDER``, the demo, or EODAG's choice."""
        chosen = provider or settings.default_provider()
        if chosen is None:
            return DEMO_PROVIDER if self.demo_url() else None
        if chosen == DEMO_PROVIDER and not self.demo_url():
            raise ProviderUnreachableError(
                DEMO_PROVIDER,
                "the demo catalog is not running: start it with ai4geo_kernel.demo.serve() or `make lab`",
            )
        known = self._providers_snapshot()[0]
        if chosen not in known:
            raise UnknownProviderError(chosen, known)
        return chosen

    def _api_root(self, provider: str) -> str | None:
        if provider == DEMO_PROVIDER:
            return self.demo_url()
        return self._providers_snapshot()[2].get(provider)

    def check_reachable(self, provider: str) -> None:
        """Raise :class:`ProviderUnreachableError` when the provider's API root does not answer."""
        root = self._api_root(provider)
        if not root:
            return
        try:
            with urllib.request.urlopen(root, timeout=10):  # noqa: S310 - URL from configuration
                return
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                raise ProviderUnreachableError(provider, f"{root} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProviderUnreachableError(provider, f"{root}: {reason}") from None

    # -- collections -------------------------------------------------------------------------------------
    def collections(self, provider: str | None = None) -> list[dict[str, Any]]:
        """Collections of ``provider`` (all providers when ``None``): id, title, description.

        Lists are kept for a minute per provider (and per demo catalog URL), so that a series of searches
        does not ask the provider for its collections each time.
        """
        name = self.resolve_provider(provider) if provider else None
        key = (name, self.demo_url() if name == DEMO_PROVIDER else None)
        cached = self._collections.get(key)
        if cached is not None and time.monotonic() - cached[0] < _COLLECTIONS_TTL_S:
            return cached[1]
        if name:
            # First, because EODAG retries a dead provider for seconds and then answers "no collection".
            self.check_reachable(name)
        try:
            found = self.dag.list_collections(provider=name, fetch_providers=name is not None)
        except Exception as exc:  # noqa: BLE001 - EODAG raises many types; ours name the provider
            raise self._translate(exc, name or "eodag") from exc
        out = [
            {
                "id": coll.id,
                "title": getattr(coll, "title", None) or coll.id,
                "description": getattr(coll, "description", None) or "",
            }
            for coll in found
        ]
        self._collections[key] = (time.monotonic(), out)
        return out

    def check_collection(self, collection: str, provider: str | None) -> None:
        """Raise :class:`UnknownCollectionError` (with the known ones) when ``collection`` is not served."""
        known = [c["id"] for c in self.collections(provider)]
        if collection not in known:
            raise UnknownCollectionError(collection, known, provider=provider)

    # -- search ------------------------------------------------------------------------------------------
    def _translate(self, exc: BaseException, provider: str) -> CatalogError:
        if isinstance(exc, CatalogError):
            return exc
        if _connection_failure(exc):
            return ProviderUnreachableError(provider, str(exc.args[-1] if exc.args else exc))
        status = getattr(exc, "status_code", None)
        if status is not None and int(status) >= 500:
            return ProviderUnreachableError(provider, f"HTTP {status}: {exc}")
        return CatalogError(f"search at provider {provider!r} failed: {exc}")

    def _page_size(self, provider: str | None) -> int:
        """Items asked for per page: the provider's maximum (EODAG's ``pagination.max_limit``), else 100."""
        if provider is None:
            return _MAX_PAGE
        return self._providers_snapshot()[1].get(provider, _MAX_PAGE)

    def iter_products(self, params: SearchParameters) -> Iterator[EOProduct]:
        """Products matching ``params``, page after page, filtered by what the server cannot filter."""
        provider = self.resolve_provider(params.provider)
        self.check_collection(params.collection, provider)
        kwargs: dict[str, Any] = {"collection": params.collection, "raise_errors": True}
        if provider:
            kwargs["provider"] = provider
        if params.geometry is not None:
            kwargs["geom"] = params.geometry
        if params.start is not None:
            kwargs["start"] = params.start.isoformat().replace("+00:00", "Z")
        if params.end is not None:
            kwargs["end"] = params.end.isoformat().replace("+00:00", "Z")
        # The demo STAC API (rustac) ignores the query extension and then answers nothing at all, so
        # cloud cover is filtered here; other providers filter it server-side and we check again.
        if params.cloud_cover is not None and provider != DEMO_PROVIDER:
            kwargs["eo:cloud_cover"] = params.cloud_cover
        kwargs.update(params.query)
        if provider == DEMO_PROVIDER:
            # The parameters are checked already (SearchParameters) and the demo API has no queryables:
            # EODAG's own validation would only rebuild its queryables models (about 0.16 s a search).
            kwargs["validate"] = False
        kwargs["limit"] = min(params.limit or self._page_size(provider), self._page_size(provider))
        name = provider or "eodag"
        try:
            page = self.dag.search(**kwargs)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, name) from exc
        served = 0
        per_page = kwargs["limit"]
        pages = iter(page.next_page(update=False))
        while True:
            for product in page:
                cover = product.properties.get("eo:cloud_cover")
                if params.cloud_cover is not None and cover is not None and float(cover) > params.cloud_cover:
                    continue
                yield product
                served += 1
                if params.limit is not None and served >= params.limit:
                    return
            if len(page) < per_page:  # a short page is the last one: no request for an empty next page
                return
            try:
                page = next(pages)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001
                raise self._translate(exc, name) from exc


_GATEWAY: Gateway | None = None


def gateway() -> Gateway:
    """The process-wide :class:`Gateway`."""
    global _GATEWAY
    if _GATEWAY is None:
        _GATEWAY = Gateway()
    return _GATEWAY
