"""hadolint finds no error in any Containerfile of images/ (warnings and infos are reported, not failed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTAINERFILES = sorted(REPO.glob("images/*/Containerfile"))


def test_every_layer_has_a_containerfile() -> None:
    assert {path.parent.name for path in CONTAINERFILES} >= {"core", "imagery", "project"}


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda path: path.parent.name)
def test_hadolint_finds_no_error(path: Path) -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "error", "--no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " error:" not in result.stdout
