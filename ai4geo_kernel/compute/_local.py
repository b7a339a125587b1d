"""A ``LocalCluster`` sized to this machine, optionally with GPU-tagged workers."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from distributed import Client

from ai4geo_kernel.compute._client import connect_owned
from ai4geo_kernel.compute._gpu import GPU_RESOURCE
from ai4geo_kernel.compute._options import (
    SCALING_OPTIONS,
    positive_int,
    reject_unknown,
    scaling_config,
)
from ai4geo_kernel.errors import ClusterError, ConfigurationError

__all__ = ["LocalClusterFactory", "machine_size", "split_cores"]

#: Share of the machine's memory given to the workers; the rest stays for the kernel and the Lab.
WORKER_MEMORY_SHARE = 0.9


def machine_size() -> tuple[int, int]:
    """Return ``(cores, memory_bytes)`` available to this process (cgroup and affinity aware)."""
    from dask.system import CPU_COUNT
    from distributed.system import MEMORY_LIMIT

    return int(CPU_COUNT), int(MEMORY_LIMIT)


def split_cores(cores: int) -> tuple[int, int]:
    """Split ``cores`` into ``(n_workers, threads_per_worker)`` as ``distributed`` does by default.

    Up to 4 cores: one single-threaded worker process per core (GIL-bound Python code, GDAL calls
    with their own caches); above, about sqrt(cores) processes of several threads.
    """
    from distributed.deploy.utils import nprocesses_nthreads

    return nprocesses_nthreads(max(1, cores))


def _visible_gpus(count: int) -> list[str]:
    """Device ids to hand out to ``count`` GPU workers, honouring ``CUDA_VISIBLE_DEVICES``."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = [part.strip() for part in visible.split(",") if part.strip()] if visible else []
    if not ids:
        return [str(index) for index in range(count)]
    if len(ids) < count:
        raise ConfigurationError(f"gpus={count} but CUDA_VISIBLE_DEVICES lists only {len(ids)}: {visible}")
    return ids[:count]


@dataclass(frozen=True)
class LocalClusterFactory:
    """Factory of :class:`distributed.LocalCluster` (kind ``local``, the default).

    Options
    -------
    n_workers, threads_per_worker : int
        Default: from the CPU count (:func:`split_cores`); 2 cores give 2 workers x 1 thread.
    memory_limit : str or int
        Per worker. Default: 90% of the memory available to this process divided by ``n_workers``.
    processes : bool
        Worker processes (default ``True``) or threads of this process.
    dashboard_address : str
        Default ``":0"``: a free port chosen by the OS.
    resources : dict
        Abstract resources every worker advertises, e.g. ``{"GPU": 1}``.
    gpus : int
        Number of this machine's GPUs to hand out, one per worker: the first ``gpus`` workers
        advertise ``{"GPU": 1}`` and see only their device through ``CUDA_VISIBLE_DEVICES``
        (taken in order from the current ``CUDA_VISIBLE_DEVICES`` when it is set). GPU tasks then
        never share a device; place them with :func:`ai4geo_kernel.compute.submit_gpu`.
    local_directory, silence_logs, host : passed to ``LocalCluster``.
    scale, adapt : resize after start (``adapt`` cannot be combined with ``gpus``).

    Parameters
    ----------
    cores, memory_bytes : int, optional
        Machine size to plan for; default :func:`machine_size` (tests pass fixed values).
    """

    cores: int | None = None
    memory_bytes: int | None = None
    kind: str = field(default="local", init=False)

    accepted: ClassVar[frozenset[str]] = (
        frozenset(
            {
                "n_workers",
                "threads_per_worker",
                "memory_limit",
                "processes",
                "dashboard_address",
                "resources",
                "gpus",
                "local_directory",
                "silence_logs",
                "host",
            }
        )
        | SCALING_OPTIONS
    )

    def build_config(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``{"kind", "cluster": LocalCluster kwargs, "gpu_workers": [...], "scale", "adapt"}``."""
        reject_unknown(self.kind, options, self.accepted)
        detected_cores, detected_memory = (None, None)
        if self.cores is None or self.memory_bytes is None:
            detected_cores, detected_memory = machine_size()
        cores = self.cores if self.cores is not None else detected_cores
        memory = self.memory_bytes if self.memory_bytes is not None else detected_memory
        assert cores is not None and memory is not None

        default_workers, default_threads = split_cores(cores)
        n_workers = positive_int("n_workers", options.get("n_workers", default_workers), minimum=0)
        threads = positive_int("threads_per_worker", options.get("threads_per_worker", default_threads))
        gpus = positive_int("gpus", options.get("gpus", 0), minimum=0)
        if gpus > n_workers:
            raise ConfigurationError(f"gpus={gpus} needs at least as many workers, n_workers={n_workers}")
        scaling = scaling_config(options)
        if gpus and (scaling["adapt"] is not None or scaling["scale"] is not None):
            raise ConfigurationError(
                "gpus cannot be combined with scale/adapt on a local cluster: resizing would drop "
                "GPU workers; set n_workers instead"
            )
        memory_limit = options.get("memory_limit", int(memory * WORKER_MEMORY_SHARE / max(1, n_workers)))
        processes = bool(options.get("processes", True))
        resources = dict(options.get("resources") or {})

        cluster: dict[str, Any] = {
            "n_workers": n_workers - gpus,
            "threads_per_worker": threads,
            "memory_limit": memory_limit,
            "processes": processes,
            "dashboard_address": options.get("dashboard_address", ":0"),
        }
        if resources:
            cluster["resources"] = resources
        for passthrough in ("local_directory", "silence_logs", "host"):
            if passthrough in options:
                cluster[passthrough] = options[passthrough]

        gpu_workers: list[dict[str, Any]] = []
        for index, device in enumerate(_visible_gpus(gpus) if gpus else []):
            worker: dict[str, Any] = {
                "name": f"gpu-{index}",
                "resources": {**resources, GPU_RESOURCE: 1},
            }
            if processes:
                worker["env"] = {"CUDA_VISIBLE_DEVICES": device}
            gpu_workers.append(worker)
        return {"kind": self.kind, "cluster": cluster, "gpu_workers": gpu_workers, **scaling}

    def start(self, config: Mapping[str, Any]) -> tuple[Any, Client]:
        """Start the ``LocalCluster``, add its GPU workers, and connect a client that owns it."""
        from distributed import LocalCluster

        try:
            cluster = LocalCluster(**config["cluster"])
        except Exception as error:
            raise ClusterError(f"could not start a local Dask cluster: {error}") from error
        gpu_workers: Sequence[Mapping[str, Any]] = config.get("gpu_workers", ())
        if gpu_workers:
            try:
                _add_gpu_workers(cluster, gpu_workers)
            except Exception as error:
                cluster.close()
                raise ClusterError(f"could not start the GPU workers: {error}") from error
        return connect_owned(cluster, config)


def _add_gpu_workers(cluster: Any, gpu_workers: Sequence[Mapping[str, Any]]) -> None:
    """Add one worker per entry of ``gpu_workers`` to a running ``LocalCluster`` and wait for them."""
    for worker in gpu_workers:
        spec = copy.deepcopy(cluster.new_spec)
        spec["options"]["resources"] = dict(worker["resources"])
        if "env" in worker:
            spec["options"]["env"] = {**spec["options"].get("env", {}), **worker["env"]}
        cluster.worker_spec[worker["name"]] = spec
    # SpecCluster.scale(n) with n == len(worker_spec) starts exactly the specs just added.
    cluster.scale(len(cluster.worker_spec))
    cluster.wait_for_workers(len(cluster.worker_spec), timeout=60)
