"""The notebook cell that repeats a panel search: ``catalog.search(...)`` with the very same arguments."""

from __future__ import annotations

import pprint
from collections.abc import Mapping
from typing import Any

__all__ = ["search_code", "KEYWORDS"]

#: The keyword arguments of ``ai4geo_kernel.catalog.search``, in the order the cell writes them.
KEYWORDS = ("provider", "bbox", "geometry", "start", "end", "cloud_cover", "limit", "query")


def search_code(collection: str, kwargs: Mapping[str, Any]) -> str:
    """Python source calling ``catalog.search(collection, **kwargs)`` (values written as Python literals)."""
    lines = ["from ai4geo_kernel import catalog", "", "results = catalog.search(", f"    {collection!r},"]
    for key in KEYWORDS:
        if key in kwargs and kwargs[key] is not None:
            text = pprint.pformat(kwargs[key], width=100, compact=True, sort_dicts=False)
            text = text.replace("\n", "\n    ")
            lines.append(f"    {key}={text},")
    lines += [")", "results"]
    return "\n".join(lines) + "\n"
