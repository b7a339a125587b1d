"""The command `make lab` runs: loopback, token, port, offline, --allow-root only as root."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai4geo_kernel import lab


@pytest.mark.parametrize(("uid", "root_flag"), [(0, True), (1000, False)])
def test_lab_command(monkeypatch: pytest.MonkeyPatch, uid: int, root_flag: bool) -> None:
    monkeypatch.setattr(lab.os, "getuid", lambda: uid)
    argv = lab.lab_command(port=8890, root=Path("/srv/notebooks"), token="abc", base_url="/user/alice/")
    assert ("--allow-root" in argv) is root_flag
    assert "--ServerApp.ip=127.0.0.1" in argv and "--ServerApp.port=8890" in argv
    assert "--ServerApp.port_retries=0" in argv  # a busy port is an error, not a silent other port
    assert "--IdentityProvider.token=abc" in argv and "--ServerApp.base_url=/user/alice/" in argv
    assert "--ServerApp.root_dir=/srv/notebooks" in argv
    assert "--LabApp.news_url=None" in argv
