"""Connect to a Dask scheduler that something else started (``dask scheduler``, a batch job...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import dask
from distributed import Client

from ai4geo_kernel.compute._options import reject_unknown
from ai4geo_kernel.errors import ClusterError, ConfigurationError

__all__ = ["SchedulerFactory"]


@dataclass(frozen=True)
class SchedulerFactory:
    """Factory of clients of an existing scheduler (kind ``scheduler``); it owns no cluster.

    Options
    -------
    address : str
        Scheduler address such as ``tcp://10.0.0.5:8786`` (default: the ``scheduler-address``
        dask config, which ``DASK_SCHEDULER_ADDRESS`` sets).
    timeout : float
        Seconds to wait for the connection (default: ``distributed.comm.timeouts.connect``).
    """

    kind: str = field(default="scheduler", init=False)
    accepted: ClassVar[frozenset[str]] = frozenset({"address", "timeout"})

    def build_config(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``{"kind", "address", "timeout"}``."""
        reject_unknown(self.kind, options, self.accepted)
        address = options.get("address") or dask.config.get("scheduler-address", None)
        if not address:
            raise ConfigurationError(
                "a 'scheduler' cluster needs an address: set ai4geo.cluster.address, or "
                "DASK_SCHEDULER_ADDRESS"
            )
        return {"kind": self.kind, "address": str(address), "timeout": options.get("timeout")}

    def start(self, config: Mapping[str, Any]) -> tuple[Any, Client]:
        """Connect to the scheduler; closing the client leaves the scheduler running."""
        kwargs: dict[str, Any] = {}
        if config.get("timeout") is not None:
            kwargs["timeout"] = config["timeout"]
        try:
            client = Client(config["address"], **kwargs)
        except Exception as error:
            raise ClusterError(
                f"could not connect to the scheduler at {config['address']}: {error}"
            ) from error
        return None, client
