"""Option checking shared by the cluster factories: names, scaling, optional packages."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import Any

from ai4geo_kernel.errors import ConfigurationError

__all__ = [
    "SCALING_OPTIONS",
    "normalise_keys",
    "reject_unknown",
    "scaling_config",
    "require_module",
    "positive_int",
]

#: Options every factory that owns a cluster accepts: a fixed size or adaptive bounds.
SCALING_OPTIONS = frozenset({"scale", "adapt"})


def normalise_keys(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``options`` with ``kebab-case`` keys (as written in YAML) turned into ``snake_case``."""
    return {str(key).replace("-", "_"): value for key, value in options.items()}


def reject_unknown(kind: str, options: Mapping[str, Any], accepted: Iterable[str]) -> None:
    """Raise :class:`ConfigurationError` naming every option of ``options`` not in ``accepted``."""
    accepted = set(accepted)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(unknown)} for a {kind!r} cluster; "
            f"accepted options: {', '.join(sorted(accepted))}"
        )


def positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` not below ``minimum``, or raise :class:`ConfigurationError`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"option {name!r} must be an integer >= {minimum}, got {value!r}")
    return value


def scaling_config(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the ``scale`` and ``adapt`` options.

    Parameters
    ----------
    options : Mapping
        May hold ``scale`` (number of workers, or of jobs for job queues) and ``adapt``
        (``True`` or a mapping of :meth:`distributed.deploy.Cluster.adapt` keywords such as
        ``minimum`` and ``maximum``).

    Returns
    -------
    dict
        ``{"scale": int | None, "adapt": dict | None}``.
    """
    scale = options.get("scale")
    adapt = options.get("adapt")
    if scale is not None and adapt not in (None, False):
        raise ConfigurationError("options 'scale' and 'adapt' exclude each other: give one of them")
    if scale is not None:
        scale = positive_int("scale", scale, minimum=0)
    if adapt in (None, False):
        adapt = None
    elif adapt is True:
        adapt = {}
    elif isinstance(adapt, Mapping):
        adapt = normalise_keys(adapt)
        for bound in ("minimum", "maximum"):
            if bound in adapt:
                positive_int(f"adapt.{bound}", adapt[bound], minimum=0)
        if adapt.get("minimum", 0) > adapt.get("maximum", float("inf")):
            raise ConfigurationError(f"adapt minimum {adapt['minimum']} exceeds maximum {adapt['maximum']}")
    else:
        raise ConfigurationError(
            f"option 'adapt' must be true or a mapping (minimum, maximum), got {adapt!r}"
        )
    return {"scale": scale, "adapt": adapt}


def require_module(module: str, package: str, kind: str) -> ModuleType:
    """Import an optional backend module or raise :class:`ConfigurationError` naming its package."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ConfigurationError(
            f"a {kind!r} cluster needs the package {package!r}: install it with "
            f"`pip install {package}` (or `pip install ai4geo-kernel[hpc]`)"
        ) from error
