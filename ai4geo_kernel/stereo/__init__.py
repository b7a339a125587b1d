"""Stereo reconstruction: digital surface models from sensor image pairs with RPC models, by CARS.

- :func:`dsm_from_pair`: one pair to a DSM (xarray DataArray + COG), CARS as a task on the Dask cluster.
- :func:`dsms_from_pairs`: several pairs, one task each.
- :func:`sensor_image`, :func:`read_rpc`, :func:`footprint`, :func:`check_pair`: the RPC model of an image
  (TIFF tags, DIMAP XML or OSSIM ``.geom``), its ground footprint, and the checks made before matching.

>>> from ai4geo_kernel import compute, stereo
>>> client = compute.cluster()                                                   # doctest: +SKIP
>>> dsm = stereo.dsm_from_pair("left.tif", "right.tif", output="dsm.tif")        # doctest: +SKIP
"""

from __future__ import annotations

from ai4geo_kernel.stereo._cars import CARS_CONFIG, CARS_LOG, cars_config, run_cars
from ai4geo_kernel.stereo._pair import DEFAULT_TIMEOUT, StereoPair, dsm_from_pair, dsms_from_pairs, open_dsm
from ai4geo_kernel.stereo._sensor import SensorImage, check_pair, footprint, read_rpc, sensor_image

__all__ = [
    "CARS_CONFIG",
    "CARS_LOG",
    "DEFAULT_TIMEOUT",
    "SensorImage",
    "StereoPair",
    "cars_config",
    "check_pair",
    "dsm_from_pair",
    "dsms_from_pairs",
    "footprint",
    "open_dsm",
    "read_rpc",
    "run_cars",
    "sensor_image",
]
