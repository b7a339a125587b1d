#!/usr/bin/env python3
"""Install one image layer's Python packages from the stack's one lock, and refuse any version change.

``install-layer NAME REQUIREMENTS...`` runs ``pip install -c stack.lock.txt -r REQUIREMENTS...`` in the
image's venv, then compares what is installed with what the earlier layers installed (their
``/opt/ai4geo/layers/*.freeze.txt``) and with the lock. It exits non-zero, and so fails the image build,
when the layer changed a version an earlier layer installed (a silent downgrade, RECIPES: eodag over pandas)
or installed a locked package at a version other than the lock's. The layer's own freeze is written to
``/opt/ai4geo/layers/NAME.freeze.txt`` for the layers above it.

Packages named in ``AI4GEO_LOCK_OVERRIDES`` (comma-separated, e.g. ``torch`` for a CUDA build) may differ
from the lock, never from an earlier layer. Hand-written (about 60 lines) because pip has no "install but
never change what is there" mode; the comparison itself uses ``packaging``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK = Path(os.environ.get("AI4GEO_LOCK", "/opt/ai4geo/lock/stack.lock.txt"))
LAYERS = Path(os.environ.get("AI4GEO_LAYERS_DIR", "/opt/ai4geo/layers"))


def installed() -> dict[str, str]:
    """Every distribution of the running interpreter's environment, by canonical name."""
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}


def read_pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a lock or freeze file (comments and options skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        req = Requirement(line)
        spec = next(iter(req.specifier), None)
        if spec is not None and spec.operator == "==":
            pins[canonicalize_name(req.name)] = spec.version
    return pins


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: install-layer NAME REQUIREMENTS...", file=sys.stderr)
        return 2
    name, requirements = argv[0], argv[1:]
    earlier: dict[str, tuple[str, str]] = {}
    for freeze in sorted(LAYERS.glob("*.freeze.txt")):
        for pkg, version in read_pins(freeze).items():
            earlier.setdefault(pkg, (version, freeze.name.removesuffix(".freeze.txt")))
    cmd = [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check"]
    cmd += ["-c", str(LOCK)] + [arg for req in requirements for arg in ("-r", req)]
    subprocess.run(cmd, check=True)
    subprocess.run([sys.executable, "-m", "pip", "check"], check=True)
    now, lock = installed(), read_pins(LOCK)
    overrides = {canonicalize_name(n) for n in os.environ.get("AI4GEO_LOCK_OVERRIDES", "").split(",") if n}
    errors = [
        f"{pkg}: {old} (installed by layer {layer}) -> {now.get(pkg, 'removed')}"
        for pkg, (old, layer) in earlier.items()
        if now.get(pkg) != old
    ]
    errors += [
        f"{pkg}: {version} installed, the lock says {lock[pkg]}"
        for pkg, version in now.items()
        if pkg in lock and lock[pkg] != version and pkg not in overrides
    ]
    if errors:
        print(
            f"layer {name} would change versions of the stack's lock:", *errors, sep="\n  ", file=sys.stderr
        )
        return 1
    LAYERS.mkdir(parents=True, exist_ok=True)
    added = sorted(pkg for pkg in now if pkg not in earlier)
    (LAYERS / f"{name}.freeze.txt").write_text("".join(f"{pkg}=={now[pkg]}\n" for pkg in added))
    print(f"layer {name}: {len(added)} packages added, none of the {len(earlier)} earlier ones changed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
