"""GPU placement through Dask worker resources."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from distributed import Client, Future

__all__ = ["GPU_RESOURCE", "submit_gpu", "gpu_workers"]

#: Name of the abstract resource GPU workers advertise (``dask worker --resources GPU=1``).
GPU_RESOURCE = "GPU"


def gpu_workers(client: Client) -> dict[str, float]:
    """Return ``{worker address: GPUs advertised}`` for the workers that advertise GPUs now."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    return {
        address: float(info.get("resources", {}).get(GPU_RESOURCE, 0))
        for address, info in workers.items()
        if info.get("resources", {}).get(GPU_RESOURCE, 0) > 0
    }


def submit_gpu(client: Client, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Submit ``fn(*args, **kwargs)`` to a worker that advertises a GPU, holding one GPU while it runs.

    This is ``client.submit(fn, *args, resources={"GPU": 1}, **kwargs)``: keyword arguments that
    :meth:`distributed.Client.submit` knows (``key``, ``pure``, ``retries``, ``priority``...) go to
    it, the others to ``fn``; a ``resources`` mapping given here is merged with the GPU.

    We place GPU work per task rather than with ``dask.annotate(resources={"GPU": 1})`` on a graph:
    low-level task fusion drops annotations (dask issues 7036 and 9541), so an annotated
    ``map_blocks`` can silently run on CPU-only workers. Submit GPU tasks with this function, or
    compute annotated graphs with fusion off (``dask.config.set({"optimization.fuse.active": False})``).

    Parameters
    ----------
    client : distributed.Client
        Client of a cluster with GPU workers (``compute.cluster(gpus=...)``).
    fn : callable
        The task.
    *args, **kwargs
        Arguments of ``fn`` and of :meth:`distributed.Client.submit`.

    Returns
    -------
    distributed.Future

    Warns
    -----
    UserWarning
        When no worker advertises a GPU yet: the task waits until one joins (adaptive clusters).
    """
    resources = {**dict(kwargs.pop("resources", None) or {}), GPU_RESOURCE: 1}
    if not gpu_workers(client):
        warnings.warn(
            "no worker of this cluster advertises a GPU resource: the task will wait until one joins",
            UserWarning,
            stacklevel=2,
        )
    return client.submit(fn, *args, resources=resources, **kwargs)
