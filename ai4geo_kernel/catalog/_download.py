"""Download search results through EODAG (which knows each provider's authentication), atomically."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from ai4geo_kernel.catalog._gateway import gateway
from ai4geo_kernel.catalog._results import SearchResults
from ai4geo_kernel.errors import DownloadError

__all__ = ["download"]


def download(
    results: SearchResults,
    dest: str | os.PathLike[str],
    *,
    assets: Sequence[str] | None = None,
    progress: bool = True,
) -> list[Path]:
    """Download the items of ``results`` into ``dest/<item id>/``.

    Each item is first downloaded into a hidden temporary folder inside ``dest`` and moved into place only
    when complete, so an interrupted or failed download leaves no partial item behind. Items already
    present are not downloaded again.

    Parameters
    ----------
    results
        What :func:`ai4geo_kernel.catalog.search` returned.
    dest
        Destination folder (created if needed).
    assets
        Asset keys to download (default: every asset of each item).
    progress
        Show a progress bar over items (EODAG adds one per item for its bytes).

    Returns
    -------
    list of Path
        The folder of each item, in the order of ``results``.

    Raises
    ------
    DownloadError
        An item could not be downloaded; the message names it and the provider's answer.
    """
    target = Path(dest).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    dag = gateway().dag
    pattern = "|".join(f"^{re.escape(key)}$" for key in assets) if assets else None
    folders: list[Path] = []
    bar = tqdm(results.products, desc="download", unit="item", disable=not progress)
    for product in bar:
        item_id = str(product.properties.get("id") or product.properties.get("title"))
        final = target / item_id
        bar.set_postfix_str(item_id)
        if final.exists():
            folders.append(final)
            continue
        staging = Path(tempfile.mkdtemp(prefix=".ai4geo-download-", dir=target))
        try:
            kwargs: dict[str, object] = {"output_dir": str(staging)}
            if pattern:
                kwargs["asset"] = pattern
            path = Path(dag.download(product, **kwargs))  # type: ignore[arg-type]
            if not path.exists() or (path.is_dir() and not any(path.rglob("*"))):
                raise DownloadError(f"nothing was downloaded for {item_id} from {product.provider!r}")
            os.replace(path, final)
            folders.append(final)
        except DownloadError:
            raise
        except Exception as exc:  # noqa: BLE001 - EODAG raises many types
            raise DownloadError(f"download of {item_id} from {product.provider!r} failed: {exc}") from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            # EODAG's record of downloaded products is kept in the staging folder: it goes with it.
    return folders
