"""The embedded demo: a generated area over Toulouse, served as a real STAC API on 127.0.0.1.

:func:`generate` writes the area (COGs with overviews, vectors, a static STAC catalog) once and reuses it;
:func:`serve` starts the STAC API (``rustac serve``) and a Range-capable asset server over it, and while
they run :mod:`ai4geo_kernel.catalog` searches them as the EODAG provider ``ai4geo_demo``.

Examples
--------
>>> from ai4geo_kernel import catalog, demo
>>> with demo.serve() as services:                                     # doctest: +SKIP
...     results = catalog.search("demo-s2", start="2024-06-01", end="2024-08-31")
"""

from __future__ import annotations

from ai4geo_kernel.demo._generate import (
    COLLECTION_ELEVATION,
    COLLECTION_S1,
    COLLECTION_S2,
    COLLECTION_STEREO,
    COLLECTION_TRUTH,
    COLLECTION_VHR,
    COLLECTIONS,
    DemoArea,
    KnownChange,
    generate,
    load,
)
from ai4geo_kernel.demo._serve import DemoServices, serve

__all__ = [
    "COLLECTIONS",
    "COLLECTION_ELEVATION",
    "COLLECTION_S1",
    "COLLECTION_S2",
    "COLLECTION_STEREO",
    "COLLECTION_TRUTH",
    "COLLECTION_VHR",
    "DemoArea",
    "DemoServices",
    "KnownChange",
    "generate",
    "load",
    "serve",
]
