"""A client that owns its cluster, and the start-up steps every owning factory shares."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from distributed import Client

from ai4geo_kernel.errors import ClusterError

__all__ = ["ClusterClient", "connect_owned"]


class ClusterClient(Client):
    """A :class:`distributed.Client` that closes the cluster it was started with when it closes.

    ``Client(cluster)`` alone leaves ``cluster`` running after ``client.close()``; the clients
    returned by :func:`ai4geo_kernel.compute.cluster` release everything they started, whether
    closed explicitly, through ``with``, or when garbage-collected.
    """

    _owned_cluster: Any = None

    def close(self, timeout: Any = None) -> None:
        """Close the client, then the cluster it owns (if any)."""
        try:
            if timeout is None:
                super().close()
            else:
                super().close(timeout=timeout)
        finally:
            owned, self._owned_cluster = self._owned_cluster, None
            if owned is not None:
                # At interpreter exit the cluster may already be half torn down: never raise there.
                with contextlib.suppress(Exception):
                    owned.close()


def connect_owned(cluster: Any, config: Mapping[str, Any]) -> tuple[Any, ClusterClient]:
    """Apply ``scale``/``adapt`` from ``config`` to ``cluster`` and return ``(cluster, client)``.

    On any failure the cluster is closed before :class:`ClusterError` is raised, so a failed start
    leaves no scheduler, worker or job behind.
    """
    try:
        if config.get("adapt") is not None:
            cluster.adapt(**config["adapt"])
        elif config.get("scale") is not None:
            cluster.scale(config["scale"])
        client = ClusterClient(cluster)
    except Exception as error:
        with contextlib.suppress(Exception):
            cluster.close()
        raise ClusterError(f"could not connect to the {config.get('kind')} cluster: {error}") from error
    client._owned_cluster = cluster
    return cluster, client
