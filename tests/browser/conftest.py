"""Browser tests: a real JupyterLab started by the test, driven by Playwright in the system Chromium.

Fixtures
--------
``lab_factory(root=..., base_url="/")``: start a JupyterLab (token, 127.0.0.1, free port) on ``root``; it
inherits ``os.environ`` (so the demo catalog URL when ``demo_services`` runs) and is stopped at the end.
``lab``: a Lab on a fresh folder, with the demo catalog running. ``browser``: the system Chromium (session).
``page``: a new page; a screenshot ``final.png`` is saved in the test's tmp dir when the test ends.
``open_lab(page, lab)``: load the Lab and wait until its main area is shown.
``open_with(page, name, "3D Viewer", ready=...)``: right click a file in the file browser, Open With > it.
``canvas_pixels(page, path)`` / ``drawn_mask(pixels)``: the shown 3D viewer's canvas as RGB, its drawn pixels.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from ai4geo_kernel import _process

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """The system Chromium (``AI4GEO_CHROMIUM``, else ``chromium`` on the PATH): Playwright downloads none."""
    found = os.environ.get("AI4GEO_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "browser tests need Chromium: `apt-get install chromium` (.ci/run does it) "
            "or set AI4GEO_CHROMIUM to its path"
        )
    return found


@dataclass
class LabServer:
    """A running JupyterLab: ``url`` ends with the base URL (``http://127.0.0.1:PORT/user/alice/``)."""

    root: Path
    port: int
    token: str
    base_url: str
    log: Path
    proc: object = field(repr=False, default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}"

    def lab_url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path}{sep}token={self.token}"

    def stop(self) -> None:
        _process.stop(self.proc)  # type: ignore[arg-type]


@pytest.fixture
def lab_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LabServer]]:
    from ai4geo_kernel.lab import lab_command

    started: list[LabServer] = []

    def start(
        root: Path | None = None, base_url: str = "/", extra_args: list[str] | None = None
    ) -> LabServer:
        root = root or tmp_path_factory.mktemp("lab-root")
        base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
        port, token = _process.free_port(), secrets.token_hex(16)
        log = tmp_path_factory.mktemp("lab-log") / "jupyterlab.log"
        argv = lab_command(port=port, root=root, token=token, base_url=base) + list(extra_args or [])
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(tmp_path_factory.mktemp("jupyter-config")),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp_path_factory.mktemp("lab-settings")),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path_factory.mktemp("lab-workspaces")),
        }
        proc = _process.start(argv, log=log, env=env)
        server = LabServer(root=root, port=port, token=token, base_url=base, log=log, proc=proc)
        started.append(server)
        _process.wait_http(
            f"{server.url}api/status?token={token}", proc=proc, log=log, name="JupyterLab", timeout=120
        )
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def lab(lab_factory: Callable[..., LabServer], demo_services: object) -> LabServer:
    return lab_factory()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread while it
    # is open, which breaks every later test that runs a loop of its own (pytest-jupyter's jp_fetch,
    # asyncio.run). tests/conftest.py also runs the browser tests last.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, tmp_path: Path) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    # SwiftShader draws on the CPU: a page busy drawing a frame answers late, and a locator's default 30 s
    # (to find its element, even for an evaluate) was passed on a 2-core machine
    page.set_default_timeout(120_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # uncaught page errors, for tests to assert on
    yield page
    try:
        page.screenshot(path=str(tmp_path / "final.png"))
    finally:
        context.close()


def open_lab(page, lab: LabServer, path: str = "lab") -> None:  # type: ignore[no-untyped-def]
    """Load the Lab (``path`` under the base URL) and wait for its main dock panel."""
    page.goto(lab.lab_url(path))
    page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)


#: the shown 3D viewer's node, and its clear colour (0.08, 0.09, 0.11)
VIEWER3D = ".a4g-viewer3d:visible"
VIEWER3D_BACKGROUND = np.array([20, 23, 28])


def open_with(page, name: str, viewer: str, *, ready: str | None = None, timeout: float = 90_000) -> None:  # type: ignore[no-untyped-def]
    """Right click ``name`` in the file browser, Open With > ``viewer``, then wait for ``ready``."""
    item = page.locator(f".jp-DirListing-item[title^='Name: {name}']").first
    item.wait_for(timeout=60_000)
    item.click(button="right")
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Open With$")).first.hover()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(viewer)}$")).first.click()
    if ready:
        page.locator(ready).first.wait_for(timeout=timeout)


def open_in_viewer3d(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Open With > 3D Viewer on ``name`` and wait until the viewer has drawn its first layer's data."""
    open_with(page, name, "3D Viewer", ready=f"{VIEWER3D}[data-ready='true']")


#: true when every layer of the shown 3D viewer is loaded, no tile pending and every terrain tile the camera
#: wants is there (a refinement queued is not settled): the frame drawn next is the final one
VIEWER3D_SETTLED = (
    "() => { const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
    " const w = v && v.a4gViewer; return w && w.layers.every(l => l.pending.size === 0)"
    " && w.layers.filter(l => l.info.kind === 'terrain').every("
    " l => w._select(l).every(k => l.tiles.has(`${k.level}/${k.x}/${k.y}`))); }"
)


def wait_settled(page, timeout: float = 120_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the shown 3D viewer is settled (:data:`VIEWER3D_SETTLED`) and two frames were drawn."""
    page.wait_for_function(VIEWER3D_SETTLED, timeout=timeout)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def wait_layers_loaded(page, count: int, timeout: float = 90_000) -> None:  # type: ignore[no-untyped-def]
    """Wait until the shown 3D viewer has ``count`` layers, each with data (a tile, buildings or a mesh)."""
    page.wait_for_function(
        f"() => {{ const v = [...document.querySelectorAll('.a4g-viewer3d')].find(n => n.offsetParent);"
        f" return v && v.a4gViewer.layers.length === {count} && v.a4gViewer.layers.every("
        "l => l.tiles.size > 0 || !!l.buildings || !!l.mesh); }",
        timeout=timeout,
    )


def canvas_pixels(page, path: Path, selector: str = VIEWER3D) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The canvas of ``selector`` as RGB integers, its PNG saved to ``path`` (a page clip: an element
    screenshot waits for a "stable" canvas, which a drawing WebGL canvas never is)."""
    from PIL import Image

    box = page.locator(f"{selector} canvas").first.bounding_box()
    png = page.screenshot(clip=box)
    path.write_bytes(png)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def drawn_mask(pixels: np.ndarray, background: np.ndarray = VIEWER3D_BACKGROUND) -> np.ndarray:
    """Mask of the pixels that differ from the background."""
    return np.abs(pixels - background).sum(axis=2) > 30


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write ``cells`` (code) as a Python 3 notebook at ``path``."""
    import nbformat

    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(cell) for cell in cells],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, path)
    return path


def run_notebook(page, lab: LabServer, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Open the notebook ``path`` (relative to the Lab's root) in the Lab, wait until its kernel is idle
    (Shift+Enter before that is dropped: RECIPES), run all its cells, and return the list, filled as the
    page goes on, of every URL the page requests (for offline checks). The Lab needs
    ``--LabApp.expose_app_in_browser=True``."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    open_lab(page, lab, f"lab/tree/{path}")
    page.wait_for_selector(".jp-Notebook", timeout=60_000)
    page.wait_for_function(
        "() => { const w = window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=90_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    return requests
