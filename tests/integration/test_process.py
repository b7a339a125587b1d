"""Children the library starts are stopped with everything they started, even in other sessions."""

from __future__ import annotations

import time

import psutil
import pytest

from ai4geo_kernel import _process
from ai4geo_kernel.errors import ServiceError

pytestmark = pytest.mark.integration


def test_stop_reaches_descendants_in_their_own_sessions(tmp_path) -> None:
    # a child that starts a grandchild in a new session (as Jupyter does with kernels)
    proc = _process.start(["bash", "-c", "setsid sleep 300 & sleep 300"], log=tmp_path / "log")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(psutil.Process(proc.pid).children(recursive=True)) < 2:
        time.sleep(0.05)
    family = psutil.Process(proc.pid).children(recursive=True)
    assert len(family) >= 2
    assert len({p.pid for p in family} | {proc.pid}) >= 3
    _process.stop(proc)
    assert proc.poll() is not None
    _, alive = psutil.wait_procs(family, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


def test_wait_http_reports_the_log_tail_when_a_server_dies(tmp_path) -> None:
    log = tmp_path / "log"
    proc = _process.start(["bash", "-c", "echo 'cannot bind: address in use' >&2; exit 3"], log=log)
    with pytest.raises(ServiceError, match="(?s)exited with status 3.*address in use"):
        _process.wait_http(
            f"http://127.0.0.1:{_process.free_port()}/", proc=proc, log=log, name="a server", timeout=10
        )
