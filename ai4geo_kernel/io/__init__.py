"""Raster and file output: Cloud-Optimized GeoTIFFs and atomic writes.

- :func:`write_cog`: write a numpy array or an xarray DataArray as a Cloud-Optimized GeoTIFF, atomically.
- :func:`atomic_path`: write any file through a temporary sibling renamed into place at the end.
"""

from __future__ import annotations

from ai4geo_kernel.io.atomic import atomic_path
from ai4geo_kernel.io.cog import write_cog

__all__ = ["atomic_path", "write_cog"]
