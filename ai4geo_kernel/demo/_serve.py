"""Serve the demo area for real: a STAC API (``rustac serve``) and a Range-capable asset server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pystac

from ai4geo_kernel import _process
from ai4geo_kernel.errors import ServiceError
from ai4geo_kernel.settings import ENV_DEMO_ASSETS_URL, ENV_DEMO_STAC_URL

__all__ = ["DemoServices", "serve", "export_api_documents"]

# The item links of a static catalog are relative file paths; the API writes its own links.
_KEPT_LINK_RELS = {"license", "about", "cite-as", "describedby", "via"}


def _rustac() -> str:
    exe = Path(sys.executable).with_name("rustac")
    found = str(exe) if exe.exists() else shutil.which("rustac")
    if not found:
        raise ServiceError(
            "the 'rustac' executable is missing: install the 'rustac' package (pip install rustac)"
        )
    return found


def export_api_documents(catalog_href: Path, assets_url: str, dest: Path) -> list[Path]:
    """Write the static catalog's collections and items as JSON documents ``rustac serve`` loads.

    Asset hrefs, relative in the static catalog, become absolute URLs on the asset server.

    Parameters
    ----------
    catalog_href
        The root ``catalog.json`` of the generated demo area.
    assets_url
        Base URL of the asset server serving the folder of ``catalog_href``.
    dest
        Folder for the documents (one collection and one item collection per collection).

    Returns
    -------
    list of Path
        The documents, collections first, to pass to ``rustac serve``.
    """
    root = catalog_href.parent.resolve()

    def api_document(obj: pystac.Item | pystac.Collection) -> dict[str, Any]:
        # asset hrefs on the asset server; only the links the API does not write itself
        doc = obj.to_dict(include_self_link=False, transform_hrefs=False)
        for key, asset in obj.assets.items():
            path = Path(asset.get_absolute_href() or asset.href).resolve()
            doc["assets"][key]["href"] = f"{assets_url}/{path.relative_to(root).as_posix()}"
        doc["links"] = [link for link in doc.get("links", []) if link.get("rel") in _KEPT_LINK_RELS]
        return doc

    catalog = pystac.Catalog.from_file(str(catalog_href))
    collections, item_collections = [], []
    for collection in catalog.get_all_collections():
        items = []
        for item in collection.get_items(recursive=True):
            doc = api_document(item)
            doc["collection"] = collection.id
            items.append(doc)
        coll_doc = api_document(collection)
        collections.append((collection.id, coll_doc))
        item_collections.append((collection.id, {"type": "FeatureCollection", "features": items}))
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for cid, doc in collections:
        paths.append(dest / f"{cid}.collection.json")
        paths[-1].write_text(json.dumps(doc))
    for cid, doc in item_collections:
        paths.append(dest / f"{cid}.items.json")
        paths[-1].write_text(json.dumps(doc))
    return paths


@dataclass
class DemoServices:
    """The running demo catalog: a STAC API and an asset server, both on 127.0.0.1.

    Use it as a context manager (``with demo.serve() as services:``) or call :meth:`stop`. While it runs,
    ``AI4GEO_DEMO_STAC_URL`` and ``AI4GEO_DEMO_ASSETS_URL`` name it in ``os.environ`` (when
    ``export_env`` was true), so :mod:`ai4geo_kernel.catalog` and kernels started from this process find it.

    Attributes
    ----------
    stac_url
        Root of the STAC API (``/search``, ``/collections`` below it).
    assets_url
        Root of the asset server (the demo area's folder).
    collections
        Ids of the collections served.
    """

    catalog_href: Path
    stac_port: int = 0
    export_env: bool = True
    startup_timeout: float = 60.0
    stac_url: str = field(default="", init=False)
    assets_url: str = field(default="", init=False)
    collections: tuple[str, ...] = field(default=(), init=False)
    run_dir: Path | None = field(default=None, init=False)
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list, init=False, repr=False)
    _saved_env: dict[str, str | None] = field(default_factory=dict, init=False, repr=False)

    @property
    def running(self) -> bool:
        """Whether both servers are alive."""
        return bool(self._procs) and all(proc.poll() is None for proc in self._procs)

    def start(self) -> DemoServices:
        """Start both servers and wait until they answer; raise :class:`ServiceError` when one does not."""
        if self._procs:
            return self
        self.run_dir = Path(tempfile.mkdtemp(prefix="ai4geo-demo-serve-"))
        try:
            self._start_assets()
            self._start_stac()
        except BaseException:
            self.stop()
            raise
        if self.export_env:
            for key, value in ((ENV_DEMO_STAC_URL, self.stac_url), (ENV_DEMO_ASSETS_URL, self.assets_url)):
                self._saved_env[key] = os.environ.get(key)
                os.environ[key] = value
        return self

    def _start_assets(self) -> None:
        assert self.run_dir is not None
        log = self.run_dir / "assets.log"
        root = self.catalog_href.parent.resolve()
        proc = _process.start(
            [sys.executable, "-m", "ai4geo_kernel.demo._assets", str(root)], log=log, stdout_pipe=True
        )
        self._procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()  # the server prints its port first
        proc.stdout.close()
        if not line.isdigit():
            _process.stop(proc)
            raise ServiceError(f"the demo asset server did not start:\n{_process.log_tail(log)}")
        self.assets_url = f"http://127.0.0.1:{int(line)}"
        _process.wait_http(
            f"{self.assets_url}/{self.catalog_href.name}",
            proc=proc,
            log=log,
            name="the demo asset server",
            timeout=self.startup_timeout,
        )

    def _start_stac(self) -> None:
        assert self.run_dir is not None
        documents = export_api_documents(self.catalog_href, self.assets_url, self.run_dir / "api")
        self.collections = tuple(
            p.name.removesuffix(".collection.json") for p in documents if p.name.endswith(".collection.json")
        )
        log = self.run_dir / "rustac.log"
        # rustac takes an address, not port 0: take a free port, retry once if another process got it first.
        for attempt in range(3):
            port = self.stac_port or _process.free_port()
            self.stac_url = f"http://127.0.0.1:{port}"
            proc = _process.start(
                [_rustac(), "serve", "--addr", f"127.0.0.1:{port}", *map(str, documents)], log=log
            )

            def ready(body: bytes, expected: frozenset[str] = frozenset(self.collections)) -> bool:
                return expected <= {c["id"] for c in json.loads(body).get("collections", [])}

            try:
                _process.wait_http(
                    f"{self.stac_url}/collections",
                    proc=proc,
                    log=log,
                    name="the demo STAC API (rustac serve)",
                    timeout=self.startup_timeout,
                    ready=ready,
                )
            except ServiceError:
                _process.stop(proc)
                if self.stac_port or attempt == 2 or "in use" not in _process.log_tail(log).lower():
                    raise
                continue
            self._procs.append(proc)
            return

    def stop(self) -> None:
        """Stop both servers (no process left, ports freed) and restore the environment."""
        for proc in reversed(self._procs):
            _process.stop(proc)
        self._procs.clear()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        if self.run_dir is not None:
            shutil.rmtree(self.run_dir, ignore_errors=True)
            self.run_dir = None

    def __enter__(self) -> DemoServices:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __del__(self) -> None:  # a forgotten handle must not leave servers behind
        with contextlib.suppress(Exception):
            self.stop()


def serve(
    area: Any = None,
    *,
    stac_port: int = 0,
    export_env: bool = True,
    startup_timeout: float = 60.0,
) -> DemoServices:
    """Start the demo catalog (generating the demo area first if it is missing).

    Parameters
    ----------
    area
        A :class:`DemoArea`, the path of a demo area folder or of its ``catalog.json``; by default the
        area in ``AI4GEO_DEMO_DIR`` (generated there when missing).
    stac_port
        Port of the STAC API; 0 (default) lets the system choose a free one.
    export_env
        Set ``AI4GEO_DEMO_STAC_URL`` / ``AI4GEO_DEMO_ASSETS_URL`` while it runs.
    startup_timeout
        Seconds each server has to answer its health check.

    Returns
    -------
    DemoServices
        Running services; use as a context manager to stop them at the end of the block.

    Examples
    --------
    >>> from ai4geo_kernel import demo, catalog
    >>> with demo.serve() as services:                       # doctest: +SKIP
    ...     results = catalog.search(collection="demo-s2")
    """
    if area is None:
        from ai4geo_kernel.demo._generate import generate

        area = generate()
    href = Path(getattr(area, "catalog_href", area))
    if href.is_dir():
        href = href / "catalog.json"
    if not href.exists():
        raise ServiceError(f"no demo catalog at {href}: generate it with ai4geo_kernel.demo.generate()")
    return DemoServices(
        href, stac_port=stac_port, export_env=export_env, startup_timeout=startup_timeout
    ).start()
