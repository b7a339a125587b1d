"""The process-wide cluster: start it once, hand out the same client afterwards."""

from __future__ import annotations

import threading
from typing import Any

from distributed import Client

from ai4geo_kernel.compute._jobqueue import JobqueueClusterFactory
from ai4geo_kernel.compute._registry import cluster_config, get_factory
from ai4geo_kernel.errors import ConfigurationError

__all__ = ["cluster", "current_client", "job_script"]

_lock = threading.Lock()
_current: tuple[Client, dict[str, Any]] | None = None


def _live() -> tuple[Client, dict[str, Any]] | None:
    if _current is not None and _current[0].status == "running":
        return _current
    return None


def cluster(kind: str | None = None, *, new: bool = False, **options: Any) -> Client:
    """Return a Dask client of the cluster this environment is configured for, starting it if needed.

    With no configuration this starts a :class:`distributed.LocalCluster` sized to the machine
    (worker processes x threads from the CPU count, memory limit per worker from the available
    memory, dashboard on a free port). Otherwise the cluster comes from the dask config key
    ``ai4geo.cluster`` (``~/.config/dask/ai4geo.yaml`` or environment variables such as
    ``DASK_AI4GEO__CLUSTER__KIND=slurm``), for instance::

        ai4geo:
          cluster:
            kind: slurm
            cores: 16
            memory: 64GiB
            queue: gpu
            walltime: "02:00:00"
            gpus: 1
            adapt: {minimum: 0, maximum: 10}

    **Reuse.** The client is kept for the whole process: calling ``cluster()`` again returns the
    same running client (so notebook cells and library functions can all call it). Calling it
    again with a *different* configuration raises :class:`ConfigurationError` rather than silently
    ignoring the request; pass ``new=True`` to start another cluster, which then becomes the
    current one (the previous one keeps running until its client is closed). A closed client is
    replaced on the next call.

    Closing the returned client closes the cluster it started (workers, jobs, pods).

    Parameters
    ----------
    kind : str, optional
        ``local``, ``slurm``, ``pbs``, ``gateway``, ``kubernetes`` or ``scheduler``.
    new : bool
        Start a new cluster even if one is running.
    **options
        Options of that kind; they override the dask config. See
        :class:`~ai4geo_kernel.compute.LocalClusterFactory`,
        :class:`~ai4geo_kernel.compute.JobqueueClusterFactory` and the other factories.

    Returns
    -------
    distributed.Client
        Registered as the default Dask scheduler of the process.

    Raises
    ------
    ConfigurationError
        Unknown kind or option, bad value, or missing optional package (named in the message).
    ClusterError
        The cluster could not be started or reached.
    """
    global _current
    with _lock:
        live = _live()
        if live is not None and not new:
            if kind is None and not options:
                return live[0]
            config = cluster_config(kind, **options)
            if config == live[1]:
                return live[0]
            raise ConfigurationError(
                f"a {live[1]['kind']} cluster is already running with another configuration; "
                "close its client first or call cluster(..., new=True)"
            )
        config = cluster_config(kind, **options)
        _, client = get_factory(config["kind"]).start(config)
        _current = (client, config)
        return client


def current_client() -> Client | None:
    """The running client of :func:`cluster`, else the default ``distributed`` client, else ``None``."""
    live = _live()
    if live is not None:
        return live[0]
    try:
        return Client.current(allow_global=True)
    except ValueError:
        return None


def job_script(kind: str | None = None, **options: Any) -> str:
    """Return the batch script a ``slurm`` or ``pbs`` cluster would submit per job; submits nothing.

    Parameters
    ----------
    kind : str, optional
        ``slurm`` or ``pbs`` (default: the configured kind).
    **options
        As for :func:`cluster`.

    Returns
    -------
    str
        The script, with a placeholder scheduler address.

    Examples
    --------
    >>> print(job_script("slurm", cores=8, memory="32GiB", queue="gpu", gpus=1))  # doctest: +SKIP
    #!/usr/bin/env bash
    #SBATCH -J ai4geo-worker
    #SBATCH -p gpu
    ...
    """
    config = cluster_config(kind, **options)
    factory = get_factory(config["kind"])
    if not isinstance(factory, JobqueueClusterFactory):
        raise ConfigurationError(
            f"job scripts exist only for job queues (slurm, pbs), not {config['kind']!r}"
        )
    return factory.job_script(config)
