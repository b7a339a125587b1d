"""Terrain from surface: digital terrain models (DTM) with Bulldozer, and heights above the terrain (DHM).

- :func:`dtm`: the DTM of a DSM (Bulldozer's drape cloth, refined onto the ground the DSM shows), on the
  DSM's grid, tiled over the Dask cluster for large DSMs, optionally written as a COG.
- :func:`dtm_settings`: the settings :func:`dtm` chooses for a DSM (noise, tolerance, overlap...).
- :func:`dhm`: DSM - DTM on one grid.

>>> from ai4geo_kernel import terrain
>>> dtm = terrain.dtm(dsm, max_object_size=32, output="dtm.tif")     # doctest: +SKIP
>>> dhm = terrain.dhm(dsm, dtm)                                       # doctest: +SKIP
"""

from __future__ import annotations

from ai4geo_kernel.terrain._bulldozer import BulldozerParameters
from ai4geo_kernel.terrain._dhm import check_same_grid, dhm
from ai4geo_kernel.terrain._dtm import DEFAULT_TILE_SIZE, DtmSettings, dtm, dtm_settings
from ai4geo_kernel.terrain._ground import edge_sharpness, noise_sigma, refine_ground

__all__ = [
    "DEFAULT_TILE_SIZE",
    "BulldozerParameters",
    "DtmSettings",
    "check_same_grid",
    "dhm",
    "dtm",
    "dtm_settings",
    "edge_sharpness",
    "noise_sigma",
    "refine_ground",
]
