"""ai4geo_kernel: the library of the AI4GEO research environment.

Subpackages, each with one job:

- :mod:`ai4geo_kernel.catalog`: search imagery through EODAG, stack results into xarray cubes, download.
- :mod:`ai4geo_kernel.demo`: generate the offline demo area and serve it as a real STAC API.
- :mod:`ai4geo_kernel.compute`: Dask cluster factory (local, HPC job queues, gateway, Kubernetes).
- :mod:`ai4geo_kernel.terrain`: DTM from a DSM (Bulldozer, refined onto the ground), DHM.
- :mod:`ai4geo_kernel.indices`: NDVI, the C3 shadow invariant, the segmentation channels.
- :mod:`ai4geo_kernel.io`: rasters as Cloud-Optimized GeoTIFFs, written atomically.
- :mod:`ai4geo_kernel.viz`: maps in notebooks.
- :mod:`ai4geo_kernel.errors`: the exception hierarchy.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
