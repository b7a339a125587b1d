"""Dask clusters for the research environment: local by default, HPC, gateway or Kubernetes by config.

>>> from ai4geo_kernel import compute
>>> client = compute.cluster()  # doctest: +SKIP
>>> future = compute.submit_gpu(client, train, tiles)  # doctest: +SKIP

The cluster kind and its options come from the ``ai4geo.cluster`` dask config key; see
:func:`cluster`. Each kind is a :class:`ClusterFactory` in :data:`FACTORIES`.
"""

from __future__ import annotations

from ai4geo_kernel.compute._client import ClusterClient
from ai4geo_kernel.compute._gateway import GatewayClusterFactory
from ai4geo_kernel.compute._gpu import GPU_RESOURCE, gpu_workers, submit_gpu
from ai4geo_kernel.compute._jobqueue import JobqueueClusterFactory
from ai4geo_kernel.compute._kubernetes import KubernetesClusterFactory
from ai4geo_kernel.compute._local import LocalClusterFactory
from ai4geo_kernel.compute._protocol import ClusterFactory
from ai4geo_kernel.compute._registry import CONFIG_KEY, DEFAULT_KIND, FACTORIES, cluster_config, get_factory
from ai4geo_kernel.compute._scheduler import SchedulerFactory
from ai4geo_kernel.compute._session import cluster, current_client, job_script

__all__ = [
    "cluster",
    "current_client",
    "cluster_config",
    "job_script",
    "submit_gpu",
    "gpu_workers",
    "GPU_RESOURCE",
    "CONFIG_KEY",
    "DEFAULT_KIND",
    "FACTORIES",
    "get_factory",
    "ClusterFactory",
    "ClusterClient",
    "LocalClusterFactory",
    "JobqueueClusterFactory",
    "GatewayClusterFactory",
    "KubernetesClusterFactory",
    "SchedulerFactory",
]
