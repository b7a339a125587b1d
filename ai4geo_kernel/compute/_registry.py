"""The table of cluster kinds and the reading of the ``ai4geo.cluster`` dask config key."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import dask

from ai4geo_kernel.compute._gateway import GatewayClusterFactory
from ai4geo_kernel.compute._jobqueue import PBS, SLURM
from ai4geo_kernel.compute._kubernetes import KubernetesClusterFactory
from ai4geo_kernel.compute._local import LocalClusterFactory
from ai4geo_kernel.compute._options import normalise_keys
from ai4geo_kernel.compute._protocol import ClusterFactory
from ai4geo_kernel.compute._scheduler import SchedulerFactory
from ai4geo_kernel.errors import ConfigurationError

__all__ = ["CONFIG_KEY", "DEFAULT_KIND", "FACTORIES", "get_factory", "configured_options", "cluster_config"]

#: Dask config key of the cluster settings (``~/.config/dask/ai4geo.yaml``, ``DASK_AI4GEO__CLUSTER__*``).
CONFIG_KEY = "ai4geo.cluster"
#: Kind used when neither the caller nor the dask config names one.
DEFAULT_KIND = "local"

#: Every kind of cluster, by name. Read-only: one place lists what ``cluster(kind=...)`` accepts.
FACTORIES: Mapping[str, ClusterFactory] = MappingProxyType(
    {
        factory.kind: factory
        for factory in (
            LocalClusterFactory(),
            SLURM,
            PBS,
            GatewayClusterFactory(),
            KubernetesClusterFactory(),
            SchedulerFactory(),
        )
    }
)


def get_factory(kind: str) -> ClusterFactory:
    """Return the factory of ``kind``.

    Raises
    ------
    ConfigurationError
        If ``kind`` is unknown; the message lists the known kinds.
    """
    key = str(kind).strip().lower()
    if key not in FACTORIES:
        raise ConfigurationError(f"unknown cluster kind {kind!r}; known kinds: {', '.join(FACTORIES)}")
    return FACTORIES[key]


def configured_options() -> dict[str, Any]:
    """Return the ``ai4geo.cluster`` mapping from the dask config, keys in ``snake_case``."""
    configured = dask.config.get(CONFIG_KEY, default=None) or {}
    if not isinstance(configured, Mapping):
        raise ConfigurationError(f"dask config {CONFIG_KEY!r} must be a mapping, got {configured!r}")
    return normalise_keys(configured)


def cluster_config(kind: str | None = None, **options: Any) -> dict[str, Any]:
    """Resolve the configuration :func:`cluster` would start, without starting anything.

    The kind is ``kind`` if given, else ``ai4geo.cluster.kind`` from the dask config, else
    ``"local"``. Options from the dask config apply when they are for that same kind; keyword
    ``options`` override them.

    Parameters
    ----------
    kind : str, optional
        ``local``, ``slurm``, ``pbs``, ``gateway``, ``kubernetes`` or ``scheduler``.
    **options
        Options of that kind (see each factory's documentation).

    Returns
    -------
    dict
        The factory's configuration, with at least the key ``kind``.

    Examples
    --------
    >>> import dask
    >>> with dask.config.set({"ai4geo.cluster": {"kind": "slurm", "cores": 8, "memory": "32GiB"}}):
    ...     cluster_config()["cluster"]["cores"]
    8
    """
    configured = configured_options()
    configured_kind = configured.pop("kind", None) or DEFAULT_KIND
    resolved_kind = kind if kind is not None else configured_kind
    factory = get_factory(resolved_kind)
    base = configured if factory.kind == get_factory(configured_kind).kind else {}
    return factory.build_config({**base, **normalise_keys(options)})
