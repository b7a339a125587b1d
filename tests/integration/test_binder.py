"""binder/: repo2docker accepts the configuration (`repo2docker --no-build`) and builds the imagery image's
environment from it: the stack lock, the desktop and QGIS packages, the library and extensions, start hook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    repo2docker = Path(sys.executable).parent / "repo2docker"
    result = subprocess.run(
        [str(repo2docker), "--no-build", "--debug", "--user-id", "1000", "--user-name", "jovyan", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_repo2docker_accepts_binder(dockerfile: str) -> None:
    assert "Building conda environment for python=3.11" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


def test_binder_installs_the_stack_lock_and_the_desktop(dockerfile: str) -> None:
    requirements = (REPO / "binder" / "requirements.txt").read_text().splitlines()
    assert "-r ../images/lock/stack.lock.txt" in requirements
    assert (REPO / "binder" / "../images/lock/stack.lock.txt").resolve().is_file()
    apt = [line for line in (REPO / "binder" / "apt.txt").read_text().splitlines() if line and line[0] != "#"]
    apt_line = next(
        line for line in dockerfile.splitlines() if "apt-get install --yes" in line and "qgis" in line
    )
    assert set(apt) <= set(apt_line.split())
    # The same desktop packages as the imagery image.
    containerfile = (REPO / "images" / "imagery" / "Containerfile").read_text()
    assert all(package in containerfile for package in apt)
    runtime = (REPO / "binder" / "runtime.txt").read_text().strip()
    assert runtime == "python-3.11" and "--python-version 3.11" in (REPO / "Makefile").read_text()
