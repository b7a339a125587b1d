"""images/core, and every image built FROM it: user, lock, Lab, JupyterHub entry point, IDE, home volume."""

from __future__ import annotations

import re
import shlex
import time
import urllib.error
import urllib.request
import uuid

import pytest
from conftest import Lab, engine, installed_in, lock_pins, run_in

LAYER = "core"
IMPORTS = (
    "jupyterlab ipywidgets numpy scipy pandas xarray dask distributed dask_labextension jupyter_server_proxy"
)
#: Lab extensions core ships (name as `jupyter labextension list` prints it).
EXTENSIONS = ("dask-labextension", "@jupyter-widgets/jupyterlab-manager", "@jupyterhub/jupyter-server-proxy")


def labextensions(lab: Lab) -> dict[str, str]:
    """``{extension: 'enabled OK' ...}`` from `jupyter labextension list` in the running container."""
    result = lab.exec("jupyter labextension list 2>&1")
    found = {}
    for line in re.sub(r"\x1b\[[0-9;]*m", "", result.stdout).splitlines():
        match = re.match(r"\s+(\S+) v\S+ (enabled|disabled) +(\S+)", line)
        if match:
            found[match.group(1)] = f"{match.group(2)} {match.group(3)}"
    return found


def test_runs_as_the_unprivileged_user(lab: Lab) -> None:
    assert lab.exec("id -u; id -un").stdout.split() == ["1000", "jovyan"]
    owners = lab.exec("ps -eo uid=,comm=").stdout.split("\n")
    assert [line for line in owners if line.strip()] and all(
        line.split()[0] == "1000" for line in owners if line.strip()
    ), owners
    assert lab.exec("touch ~/written && echo $HOME").stdout.strip() == "/home/jovyan"


def test_imports_and_every_version_from_the_lock(layer: str) -> None:
    run_in(layer, f"python -c 'import {', '.join(IMPORTS.split())}'")
    lock, installed = lock_pins(), installed_in(layer)
    differ = {
        name: (version, lock[name])
        for name, version in installed.items()
        if name in lock and lock[name] != version
    }
    assert not differ, differ
    assert installed["jupyterlab"] == lock["jupyterlab"]


def test_every_lab_extension_enabled(lab: Lab) -> None:
    found = labextensions(lab)
    assert set(EXTENSIONS) <= set(found), found
    assert all(state == "enabled OK" for state in found.values()), found


def test_lab_answers_api_status_and_lab(lab: Lab) -> None:
    status, body = lab.get("/api/status")
    assert status == 200 and '"started"' in body
    status, body = lab.get("/lab")
    assert status == 200 and "JupyterLab" in body
    try:
        urllib.request.urlopen(lab.url + "/api/status", timeout=10)
        raise AssertionError("the Lab answered without its token")
    except urllib.error.HTTPError as error:
        assert error.code == 403


def test_ide_through_the_proxy(lab: Lab) -> None:
    status, body = lab.get("/server-proxy/servers-info")
    assert status == 200 and '"vscode"' in body  # the launcher entry
    deadline, status = time.monotonic() + 180, 0
    while time.monotonic() < deadline:
        status, body = lab.get("/vscode/", timeout=60)
        if status == 200:
            break
        time.sleep(2)
    assert status == 200 and "code-server" in body.lower(), body[:500]
    assert lab.exec("pgrep -u 1000 -f code-server").returncode == 0


def test_start_command_honours_jupyterhub(layer: str) -> None:
    """With JUPYTERHUB_API_TOKEN set, the start command is the JupyterHub single-user server."""
    alone = run_in(layer, "start.sh --help-all 2>&1 | head -3").stdout
    hub = run_in(
        layer, "start.sh --help-all 2>&1 | grep -m1 -i singleuser", "-e", "JUPYTERHUB_API_TOKEN=x"
    ).stdout
    assert "singleuser" in hub.lower() and "singleuser" not in alone.lower()


def test_home_survives_a_new_container(layer: str) -> None:
    volume = f"ai4geo-test-home-{uuid.uuid4().hex[:8]}"
    engine("volume", "create", volume)
    try:
        mount = f"{volume}:/home/jovyan"
        run_in(layer, "echo kept > ~/notes.txt && mkdir -p ~/work && touch ~/work/a", "-v", mount)
        out = run_in(layer, "cat ~/notes.txt; stat -c %u ~/notes.txt ~/work/a", "-v", mount).stdout.split()
        assert out == ["kept", "1000", "1000"]
    finally:
        engine("volume", "rm", "-f", volume, check=False)


def test_layer_check_refuses_a_version_change(layer: str) -> None:
    """install-layer fails when a version differs from an earlier layer's or from the lock (offline)."""
    version = installed_in(layer)["tqdm"]
    script = (
        "set -e; mkdir -p /tmp/layers; echo 'tqdm==0.0.1' > /tmp/layers/earlier.freeze.txt; "
        "echo tqdm > /tmp/req.in; "
        "AI4GEO_LAYERS_DIR=/tmp/layers PIP_NO_INDEX=1 install-layer probe /tmp/req.in; "
    )
    moved = run_in(layer, script, check=False)
    assert moved.returncode == 1, moved.stderr
    assert f"tqdm: 0.0.1 (installed by layer earlier) -> {version}" in moved.stderr
    script = (
        "set -e; sed 's/^numpy==.*/numpy==1.0.0/' /opt/ai4geo/lock/stack.lock.txt > /tmp/lock.txt; "
        "echo tqdm > /tmp/req.in; mkdir -p /tmp/empty; "
        "AI4GEO_LOCK=/tmp/lock.txt AI4GEO_LAYERS_DIR=/tmp/empty PIP_NO_INDEX=1 "
        "install-layer probe /tmp/req.in"
    )
    off_lock = run_in(layer, script, check=False)
    assert (
        off_lock.returncode == 1 and "numpy: " in off_lock.stderr and "the lock says 1.0.0" in off_lock.stderr
    )
    ok = run_in(
        layer,
        "mkdir -p /tmp/l && echo tqdm > /tmp/r.in && AI4GEO_LAYERS_DIR=/tmp/l PIP_NO_INDEX=1 "
        "install-layer probe /tmp/r.in && cat /tmp/l/probe.freeze.txt",
    )
    assert f"tqdm=={version}" in ok.stdout


@pytest.mark.parametrize("path", ["/opt/ai4geo/layers/core.freeze.txt"])
def test_layer_freeze_recorded(layer: str, path: str) -> None:
    assert "jupyterlab==" in run_in(layer, f"cat {shlex.quote(path)}").stdout
