"""Clusters from a Dask Gateway server (JupyterHub deployments, managed platforms)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import dask
from distributed import Client

from ai4geo_kernel.compute._client import connect_owned
from ai4geo_kernel.compute._options import SCALING_OPTIONS, reject_unknown, require_module, scaling_config
from ai4geo_kernel.errors import ClusterError, ConfigurationError

__all__ = ["GatewayClusterFactory"]

_GATEWAY_KEYS = ("address", "proxy_address", "public_address", "auth")


@dataclass(frozen=True)
class GatewayClusterFactory:
    """Factory of ``dask_gateway`` clusters: ``Gateway(address, ...).new_cluster(**cluster_options)``.

    Options
    -------
    address, proxy_address, public_address : str
        Gateway server addresses; default from the ``gateway.*`` dask config (as dask-gateway does).
    auth : str
        Authentication name understood by dask-gateway (``"jupyterhub"``, ``"kerberos"``, ``"basic"``).
    cluster_options : dict
        Options the gateway server defines (``worker_cores``, ``worker_memory``, ``image``, and any
        GPU profile): GPUs depend on the server, so they are set here, not with ``gpus``.
    shutdown_on_close : bool
        Stop the cluster when the client closes (default ``True``).
    scale, adapt : resize after start.
    """

    kind: str = field(default="gateway", init=False)
    package: ClassVar[str] = "dask-gateway"
    accepted: ClassVar[frozenset[str]] = (
        frozenset({*_GATEWAY_KEYS, "cluster_options", "shutdown_on_close"}) | SCALING_OPTIONS
    )

    def build_config(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``{"kind", "gateway": Gateway kwargs, "cluster_options", "shutdown_on_close", ...}``."""
        reject_unknown(self.kind, options, self.accepted)
        gateway = {key: options[key] for key in _GATEWAY_KEYS if options.get(key) is not None}
        if "address" not in gateway:
            configured = dask.config.get("gateway.address", None)
            if not configured:
                raise ConfigurationError(
                    "a 'gateway' cluster needs an address: set ai4geo.cluster.address or gateway.address "
                    "in the dask config"
                )
        cluster_options = options.get("cluster_options") or {}
        if not isinstance(cluster_options, Mapping):
            raise ConfigurationError(f"cluster_options must be a mapping, got {cluster_options!r}")
        return {
            "kind": self.kind,
            "gateway": gateway,
            "cluster_options": dict(cluster_options),
            "shutdown_on_close": bool(options.get("shutdown_on_close", True)),
            **scaling_config(options),
        }

    def start(self, config: Mapping[str, Any]) -> tuple[Any, Client]:
        """Ask the gateway for a new cluster and connect a client that shuts it down on close."""
        module = require_module("dask_gateway", self.package, self.kind)
        try:
            gateway = module.Gateway(**config["gateway"])
            cluster = gateway.new_cluster(
                shutdown_on_close=config["shutdown_on_close"], **config["cluster_options"]
            )
        except Exception as error:
            raise ClusterError(f"the Dask Gateway did not start a cluster: {error}") from error
        return connect_owned(cluster, config)
