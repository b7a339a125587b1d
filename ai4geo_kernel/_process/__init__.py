"""Child processes the library starts (demo servers, Jupyter, CLI tools) and stops without leaving orphans.

Private: what the library needs that :mod:`subprocess` does not do by itself. Each child runs in its own
process group (so stopping it stops its own children too) and, on Linux, receives SIGTERM when the
Python process that started it dies, even by SIGKILL (``PR_SET_PDEATHSIG``), so no server outlives us.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from ai4geo_kernel.errors import ServiceError

__all__ = ["free_port", "start", "stop", "wait_http", "log_tail"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def start(
    argv: Sequence[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    stdout_pipe: bool = False,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own process group, tied to our lifetime, stderr (and stdout) to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as log_file:
        return subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE if stdout_pipe else log_file,
            stderr=log_file,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - needed for setsid + PDEATHSIG
        )


def stop(proc: subprocess.Popen[bytes] | None, *, timeout: float = 10.0) -> None:
    """Stop ``proc``, its process group and every process it started: SIGTERM, then SIGKILL.

    Descendants are collected before the leader is signalled, because some of them live in sessions of
    their own (Jupyter kernels, the Dask workers those kernels start) and would outlive a group kill.
    """
    if proc is None or proc.poll() is not None:
        return
    import psutil

    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Members of the group, and descendants in other sessions, that outlived the leader go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    alive = [p for p in descendants if p.is_running()]
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    _, alive = psutil.wait_procs(alive, timeout=5.0)
    for child in alive:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(alive, timeout=5.0)


def log_tail(log: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file (empty when it does not exist)."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_http(
    url: str,
    *,
    proc: subprocess.Popen[bytes],
    log: Path,
    name: str,
    timeout: float = 30.0,
    ready: Callable[[bytes], bool] | None = None,
) -> None:
    """Poll ``url`` until it answers 200 (and ``ready(body)`` holds), else raise :class:`ServiceError`."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(
                f"{name} exited with status {proc.returncode} before answering {url}:\n{log_tail(log)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
                body = response.read()
                if response.status == 200 and (ready is None or ready(body)):
                    return
                last = f"HTTP {response.status}"
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = str(exc)
        time.sleep(0.1)
    stop(proc)
    raise ServiceError(f"{name} did not answer {url} within {timeout:.0f} s ({last}):\n{log_tail(log)}")
