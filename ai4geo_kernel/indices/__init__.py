"""Spectral indices and the channels of building segmentation, lazily on Dask arrays.

- :func:`ndvi`: (NIR - red) / (NIR + red).
- :func:`c3`: arctan(B / max(R, G)), the colour invariant that finds cast shadows.
- :func:`stack_channels`: the tensor (R, G, B, NIR, DHM, NDVI, C3) on the image grid, ``channel`` axis.
- :func:`band`, :func:`band_names`, :func:`match_grid`: the pieces (bands by name, a raster on a grid).

Every function is nodata-safe (NaN where an input is nodata or a denominator is 0) and computes nothing
on Dask-backed inputs.

>>> from ai4geo_kernel import indices
>>> vegetation = indices.ndvi(image)                  # doctest: +SKIP
>>> tensor = indices.stack_channels(image, dhm)       # doctest: +SKIP
"""

from __future__ import annotations

from ai4geo_kernel.indices._bands import BandMap, as_reflectance, band, band_names
from ai4geo_kernel.indices._spectral import c3, ndvi
from ai4geo_kernel.indices._stack import CHANNELS, match_grid, stack_channels

__all__ = [
    "CHANNELS",
    "BandMap",
    "as_reflectance",
    "band",
    "band_names",
    "c3",
    "match_grid",
    "ndvi",
    "stack_channels",
]
