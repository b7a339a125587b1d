"""The one interface every cluster backend implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from distributed import Client

__all__ = ["ClusterFactory"]


@runtime_checkable
class ClusterFactory(Protocol):
    """Build and start one kind of Dask cluster.

    A factory splits the work in two steps so that configurations can be checked without starting
    anything: :meth:`build_config` is pure (it validates the options and returns the exact keyword
    arguments the backend will receive) and :meth:`start` acts on that configuration.

    Attributes
    ----------
    kind : str
        The name users give in ``compute.cluster(kind=...)`` or the ``ai4geo.cluster.kind`` dask
        config key (``local``, ``slurm``, ``pbs``, ``gateway``, ``kubernetes``, ``scheduler``).
    """

    kind: str

    def build_config(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``options`` and return the configuration :meth:`start` acts on.

        Parameters
        ----------
        options : Mapping
            Options from the dask config and from the caller, keys already normalised to
            ``snake_case``.

        Returns
        -------
        dict
            A plain, comparable dictionary with at least the key ``kind``.

        Raises
        ------
        ConfigurationError
            If an option is unknown or has a value the backend cannot use.
        """
        ...

    def start(self, config: Mapping[str, Any]) -> tuple[Any, Client]:
        """Start (or connect to) the cluster described by ``config``.

        Returns
        -------
        tuple
            ``(cluster, client)``; ``cluster`` is ``None`` when the client only connects to a
            scheduler it does not own. Closing ``client`` closes ``cluster``.

        Raises
        ------
        ConfigurationError
            If the backend's optional package is not installed.
        ClusterError
            If the cluster could not be started or reached.
        """
        ...
