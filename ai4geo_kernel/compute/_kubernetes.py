"""Clusters on Kubernetes through the dask-kubernetes operator (``DaskCluster`` resources)."""

from __future__ import annotations

import copy
import getpass
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import dask
from distributed import Client

from ai4geo_kernel.compute._client import connect_owned
from ai4geo_kernel.compute._gpu import GPU_RESOURCE
from ai4geo_kernel.compute._options import (
    SCALING_OPTIONS,
    positive_int,
    reject_unknown,
    require_module,
    scaling_config,
)
from ai4geo_kernel.errors import ClusterError, ConfigurationError

__all__ = ["KubernetesClusterFactory", "default_cluster_name"]

#: Extended resource name of NVIDIA GPUs in Kubernetes (device plugin).
K8S_GPU_RESOURCE = "nvidia.com/gpu"


def default_cluster_name() -> str:
    """``ai4geo-<user>``, made a valid Kubernetes name (DNS label)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "user"
    label = re.sub(r"[^a-z0-9-]+", "-", f"ai4geo-{user}".lower()).strip("-")
    return label[:63] or "ai4geo"


@dataclass(frozen=True)
class KubernetesClusterFactory:
    """Factory of dask-kubernetes operator ``KubeCluster`` s built from an explicit ``DaskCluster`` spec.

    Options
    -------
    name : str
        Cluster name (default ``ai4geo-<user>``).
    namespace, image, n_workers, env, worker_command, scheduler_service_type, idle_timeout :
        As in ``dask_kubernetes.operator.make_cluster_spec``; defaults from the ``kubernetes.*``
        dask config.
    resources : dict
        Kubernetes resources of the scheduler and worker containers
        (``{"requests": {...}, "limits": {...}}``).
    gpus : int
        GPUs per worker pod: ``nvidia.com/gpu`` limit on the worker container only, and the worker
        advertises ``GPU=N``.
    scale, adapt : resize after start.
    """

    kind: str = field(default="kubernetes", init=False)
    package: ClassVar[str] = "dask-kubernetes"
    accepted: ClassVar[frozenset[str]] = (
        frozenset(
            {
                "name",
                "namespace",
                "image",
                "n_workers",
                "resources",
                "env",
                "worker_command",
                "scheduler_service_type",
                "idle_timeout",
                "gpus",
            }
        )
        | SCALING_OPTIONS
    )

    def build_config(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``{"kind", "cluster": KubeCluster kwargs with custom_cluster_spec, "scale", "adapt"}``."""
        reject_unknown(self.kind, options, self.accepted)
        operator = require_module("dask_kubernetes.operator", self.package, self.kind)
        name = str(options.get("name") or default_cluster_name())
        n_workers = positive_int(
            "n_workers", options.get("n_workers", dask.config.get("kubernetes.count.start", 3)), minimum=0
        )
        resources = options.get("resources", dask.config.get("kubernetes.resources", None))
        if resources is not None and not isinstance(resources, Mapping):
            raise ConfigurationError(f"resources must be a Kubernetes resources mapping, got {resources!r}")
        spec = operator.make_cluster_spec(
            name=name,
            image=options.get("image") or dask.config.get("kubernetes.image", "ghcr.io/dask/dask:latest"),
            n_workers=n_workers,
            # make_cluster_spec puts the same object in both containers: give each its own copy.
            resources=copy.deepcopy(dict(resources)) if resources else None,
            env=options.get("env", dask.config.get("kubernetes.env", None)),
            worker_command=options.get("worker_command", "dask-worker"),
            scheduler_service_type=options.get("scheduler_service_type", "ClusterIP"),
            idle_timeout=options.get("idle_timeout", 0),
        )
        spec = copy.deepcopy(spec)
        gpus = positive_int("gpus", options.get("gpus", 0), minimum=0)
        if gpus:
            worker = spec["spec"]["worker"]["spec"]["containers"][0]
            limits = dict((worker.get("resources") or {}).get("limits") or {})
            limits[K8S_GPU_RESOURCE] = gpus
            worker["resources"] = {**(worker.get("resources") or {}), "limits": limits}
            worker["args"] = [*worker["args"], "--resources", f"{GPU_RESOURCE}={gpus}"]
        cluster: dict[str, Any] = {"name": name, "custom_cluster_spec": spec}
        if options.get("namespace"):
            cluster["namespace"] = options["namespace"]
        return {"kind": self.kind, "cluster": cluster, **scaling_config(options)}

    def start(self, config: Mapping[str, Any]) -> tuple[Any, Client]:
        """Create the ``DaskCluster`` resource (or connect to it) and connect a client."""
        operator = require_module("dask_kubernetes.operator", self.package, self.kind)
        try:
            cluster = operator.KubeCluster(**config["cluster"])
        except Exception as error:
            raise ClusterError(f"could not start the Kubernetes Dask cluster: {error}") from error
        return connect_owned(cluster, config)
