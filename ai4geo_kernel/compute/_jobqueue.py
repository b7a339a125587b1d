"""HPC job queues through dask-jobqueue: SLURM and PBS."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dask.utils import parse_bytes
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

__all__ = ["JobqueueClusterFactory", "SLURM", "PBS"]

#: Placeholder scheduler address written in job scripts generated without a running scheduler.
_PLACEHOLDER_SCHEDULER = "tcp://<scheduler-address>:8786"

#: Keyword arguments of ``dask_jobqueue.JobQueueCluster`` (and its jobs) passed through unchanged.
_COMMON = frozenset(
    {
        "cores",
        "memory",
        "processes",
        "queue",
        "account",
        "walltime",
        "job_extra_directives",
        "job_directives_skip",
        "job_script_prologue",
        "worker_extra_args",
        "interface",
        "local_directory",
        "log_directory",
        "python",
        "shebang",
        "job_name",
        "death_timeout",
        "scheduler_options",
        "name",
        "nanny",
        "protocol",
    }
)


@dataclass(frozen=True)
class JobqueueClusterFactory:
    """Factory of dask-jobqueue clusters: each job runs ``processes`` workers of the scheduler.

    Options
    -------
    cores, memory, processes, queue, account, walltime : as in dask-jobqueue (per job); values not
        given fall back to the ``jobqueue.<kind>`` dask config, as dask-jobqueue does.
    job_extra_directives : list of str
        Extra ``#SBATCH`` / ``#PBS`` lines (``job_extra`` is accepted as an alias).
    worker_extra_args, job_script_prologue, interface, local_directory, log_directory, ... :
        passed to the cluster class unchanged.
    job_cpu, job_mem : SLURM only. resource_spec : PBS only.
    gpus : int
        GPUs per job: SLURM gets ``--gres=gpu:N``, PBS ``ngpus=N`` in its ``select`` statement, and
        each of the job's worker processes advertises ``GPU=N/processes`` (``processes`` defaults
        to ``N``, one worker per GPU, and must divide ``N``). The workers of a job all see the
        job's GPUs; the resource count, not device binding, keeps GPU tasks from oversubscribing.
    scale : int
        Number of jobs to submit right away; ``adapt``: ``{minimum, maximum}`` in jobs.
    """

    kind: str
    cluster_class: str
    extra: frozenset[str] = field(default=frozenset())

    package: ClassVar[str] = "dask-jobqueue"

    @property
    def accepted(self) -> frozenset[str]:
        """Option names this factory accepts."""
        return _COMMON | self.extra | SCALING_OPTIONS | {"gpus", "job_extra"}

    def build_config(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``{"kind", "cluster": kwargs of the jobqueue cluster class, "scale", "adapt"}``."""
        reject_unknown(self.kind, options, self.accepted)
        scaling = scaling_config(options)
        cluster = {key: options[key] for key in sorted(_COMMON | self.extra) if key in options}
        if "job_extra" in options:
            if "job_extra_directives" in options:
                raise ConfigurationError("give job_extra_directives or its alias job_extra, not both")
            cluster["job_extra_directives"] = options["job_extra"]
        for listed in ("job_extra_directives", "worker_extra_args", "job_script_prologue"):
            if listed in cluster:
                value = cluster[listed]
                if isinstance(value, str) or not isinstance(value, list | tuple):
                    raise ConfigurationError(f"option {listed!r} must be a list of strings, got {value!r}")
                cluster[listed] = [str(item) for item in value]
        gpus = positive_int("gpus", options.get("gpus", 0), minimum=0)
        if gpus:
            self._add_gpus(cluster, gpus)
        return {"kind": self.kind, "cluster": cluster, **scaling}

    def _add_gpus(self, cluster: dict[str, Any], gpus: int) -> None:
        # One worker process per GPU unless told otherwise: dask-jobqueue would otherwise pick
        # about sqrt(cores) processes, and the GPUs could not be shared evenly among them.
        cluster.setdefault("processes", gpus)
        processes = positive_int("processes", cluster["processes"])
        if gpus % processes:
            raise ConfigurationError(
                f"gpus={gpus} per job cannot be shared evenly by processes={processes} workers"
            )
        cluster["worker_extra_args"] = [
            *cluster.get("worker_extra_args", []),
            "--resources",
            f"{GPU_RESOURCE}={gpus // processes}",
        ]
        if self.kind == "slurm":
            cluster["job_extra_directives"] = [*cluster.get("job_extra_directives", []), f"--gres=gpu:{gpus}"]
        else:
            cluster["resource_spec"] = _pbs_select_with_gpus(cluster, gpus)

    def job_script(self, config: Mapping[str, Any]) -> str:
        """Return the batch script one job of this configuration would submit, submitting nothing.

        Uses the jobqueue *job* class with a placeholder scheduler address, so no scheduler starts
        and no ``sbatch``/``qsub`` runs.
        """
        module = require_module("dask_jobqueue", self.package, self.kind)
        job_cls = getattr(module, self.cluster_class).job_cls
        kwargs = {
            key: value for key, value in config["cluster"].items() if key not in ("scheduler_options", "name")
        }
        try:
            return job_cls(scheduler=_PLACEHOLDER_SCHEDULER, name="ai4geo-worker", **kwargs).job_script()
        except ValueError as error:  # e.g. cores/memory neither given nor in the jobqueue config
            raise ConfigurationError(f"{self.kind} job: {error}") from error

    def start(self, config: Mapping[str, Any]) -> tuple[Any, Client]:
        """Start the jobqueue cluster (its scheduler runs in this process), submit jobs, connect."""
        module = require_module("dask_jobqueue", self.package, self.kind)
        cluster_cls = getattr(module, self.cluster_class)
        try:
            cluster = cluster_cls(**config["cluster"])
        except ValueError as error:
            raise ConfigurationError(f"{self.kind} cluster: {error}") from error
        except Exception as error:
            raise ClusterError(f"could not start the {self.kind} cluster: {error}") from error
        return connect_owned(cluster, config)


def _pbs_select_with_gpus(cluster: Mapping[str, Any], gpus: int) -> str:
    """PBS ``select`` statement asking for ``gpus`` GPUs beside the job's cores and memory."""
    spec = cluster.get("resource_spec")
    if spec:
        if "ngpus=" in spec:
            raise ConfigurationError(f"resource_spec {spec!r} already sets ngpus; drop the gpus option")
        return f"{spec}:ngpus={gpus}"
    import dask

    cores = cluster.get("cores") or dask.config.get("jobqueue.pbs.cores", None)
    memory = cluster.get("memory") or dask.config.get("jobqueue.pbs.memory", None)
    if not cores or not memory:
        raise ConfigurationError("a PBS job with gpus needs cores and memory, or an explicit resource_spec")
    gigabytes = math.ceil(parse_bytes(memory) / 1e9)
    return f"select=1:ncpus={int(cores)}:ngpus={gpus}:mem={gigabytes}GB"


SLURM = JobqueueClusterFactory(
    kind="slurm",
    cluster_class="SLURMCluster",
    extra=frozenset({"job_cpu", "job_mem"}),
)

PBS = JobqueueClusterFactory(
    kind="pbs",
    cluster_class="PBSCluster",
    extra=frozenset({"resource_spec"}),
)
