"""images/hub/jupyterhub_config.py for real: a JupyterHub on 127.0.0.1 (configurable-http-proxy, the local
process spawner, the dummy authenticator), a user logs in and reaches their Lab with the extensions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from ai4geo_kernel._process import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "images" / "hub" / "jupyterhub_config.py"


def _wait(predicate, timeout: float, what: str, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout} s; hub log:\n{log.read_text()[-4000:]}")


def repo_extensions() -> set[str]:
    """Lab extension names of the extensions the repository holds (tracked by git: not work in progress)."""
    listed = subprocess.run(
        ["git", "ls-files", "extensions/*/package.json"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed, "no extension found under extensions/"
    return {json.loads((REPO / path).read_text())["name"] for path in listed}


@pytest.fixture
def hub(tmp_path: Path):  # type: ignore[no-untyped-def]
    port, hub_port, api_port = free_port(), free_port(), free_port()
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}",
        "AI4GEO_HUB_SPAWNER": "local",
        "AI4GEO_HUB_AUTHENTICATOR": "dummy",
        "AI4GEO_HUB_PASSWORD": "demo-password",
        "AI4GEO_HUB_HOMES": str(tmp_path / "homes"),
        "AI4GEO_HUB_STATE": str(tmp_path),
        "CONFIGPROXY_AUTH_TOKEN": "proxy-token-for-the-test",
    }
    log = tmp_path / "hub.log"
    argv = [
        f"{venv_bin}/jupyterhub",
        "-f",
        str(CONFIG),
        f"--port={port}",
        f"--JupyterHub.hub_port={hub_port}",
        f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: requests.get(f"{url}/hub/health", timeout=5).ok, 90, "the hub did not answer", log)
        yield url, log
    finally:
        # The hub stops its proxy and the users' servers on SIGTERM; whatever it left is ended by its pid.
        children = psutil.Process(process.pid).children(recursive=True)
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        _, alive = psutil.wait_procs(children, timeout=30)
        for child in alive:
            child.kill()
        assert not alive, f"the hub left {[c.pid for c in alive]} running"


def test_login_reaches_the_users_lab_with_the_extensions(hub) -> None:  # type: ignore[no-untyped-def]
    url, log = hub
    session = requests.Session()
    session.get(f"{url}/hub/login", timeout=30).raise_for_status()
    wrong = session.post(
        f"{url}/hub/login",
        data={"username": "alice", "password": "nope", "_xsrf": session.cookies.get("_xsrf")},
        timeout=30,
    )
    assert "Invalid username or password" in wrong.text
    login = session.post(
        f"{url}/hub/login",
        data={"username": "alice", "password": "demo-password", "_xsrf": session.cookies.get("_xsrf")},
        timeout=120,
    )
    assert login.status_code == 200, login.text[:500]

    def lab_page() -> requests.Response | None:
        response = session.get(f"{url}/user/alice/lab", timeout=30)
        return response if response.status_code == 200 and "jupyter-config-data" in response.text else None

    page = _wait(lab_page, 180, "alice's Lab did not answer", log)
    assert page.url == f"{url}/user/alice/lab"
    config = json.loads(
        re.search(
            r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.text, re.S
        )[1]
    )
    assert config["baseUrl"] == "/user/alice/"
    federated = {ext["name"] for ext in config["federated_extensions"]}
    expected = repo_extensions()
    assert expected <= federated, (expected, federated)
    assert "@jupyterhub/jupyter-server-proxy" in federated and "dask-labextension" in federated

    # The user's server answers its API through the hub's proxy, with the hub's login (no Lab token).
    status = session.get(f"{url}/user/alice/api/status", timeout=30)
    assert status.status_code == 200 and "started" in status.json()
    assert session.get(f"{url}/user/alice/ai4geo/tiles/info", timeout=30).status_code == 400
    assert requests.get(f"{url}/user/alice/api/status", timeout=30).status_code in (302, 403)
