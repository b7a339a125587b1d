"""How the browser reaches this kernel's tile server: through the Jupyter server when the kernel runs
under one (jupyter-server-proxy's ``{base_url}proxy/PORT/``, so it works behind a JupyterHub prefix and on
remote machines), else directly at ``http://127.0.0.1:PORT``."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import sys
from pathlib import Path

__all__ = ["jupyter_base_url", "browser_tile_root"]


def _in_kernel() -> bool:
    """Whether this process is an IPython kernel (not a script, not pytest)."""
    if "ipykernel" not in sys.modules:
        return False
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


@functools.cache
def jupyter_base_url() -> str | None:
    """Base URL (``/`` or ``/user/alice/``) of the Jupyter server that started this kernel, or ``None``.

    Found from ``JUPYTERHUB_SERVICE_PREFIX``, else from the server's runtime file (``jpserver-PID.json``)
    whose PID is an ancestor of this process. Outside a kernel: ``None``.
    """
    if not _in_kernel():
        return None
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    try:
        import psutil
        from jupyter_core.paths import jupyter_runtime_dir

        ancestors = {parent.pid for parent in psutil.Process().parents()}
        for runtime in Path(jupyter_runtime_dir()).glob("jpserver-*.json"):
            try:
                info = json.loads(runtime.read_text())
            except (OSError, ValueError):
                continue
            if info.get("pid") in ancestors:
                base = str(info.get("base_url") or "/")
                return base if base.endswith("/") else base + "/"
    except Exception:  # any failure means: no server found, use the direct URL
        return None
    return None


def browser_tile_root(port: int, direct: str) -> str:
    """Root URL the browser fetches tiles from: ``{base_url}proxy/PORT`` under a Jupyter server with
    jupyter-server-proxy, else ``direct`` (``http://127.0.0.1:PORT``)."""
    base = jupyter_base_url()
    if base is None or importlib.util.find_spec("jupyter_server_proxy") is None:
        return direct
    return f"{base}proxy/{port}"
