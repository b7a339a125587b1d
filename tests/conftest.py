"""Shared fixtures: the demo area (generated once per session) and the demo catalog served for real."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
#: Scale of the demo area the tests generate: small enough to stay fast, large enough to hold every class.
TEST_SCALE = float(os.environ.get("AI4GEO_TEST_DEMO_SCALE", "0.5"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: while Playwright's sync API is open an asyncio loop runs in this thread."""
    browser_dir = REPO / "tests" / "browser"
    for item in items:
        if browser_dir in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def demo_area(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A demo area generated once for the whole test session."""
    from ai4geo_kernel.demo import generate

    return generate(tmp_path_factory.mktemp("demo") / "area", seed=0, scale=TEST_SCALE, progress=False)


@pytest.fixture(scope="session")
def demo_services(demo_area) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """The demo STAC API and asset server, running for the whole session (URLs exported to os.environ)."""
    from ai4geo_kernel.demo import serve

    services = serve(demo_area)
    try:
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real samples); tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


# Paths a server endpoint must refuse (403): parent escapes, absolute paths, a symlink out of the root
# (the modules create link_out.tif), GDAL virtual file systems and URLs not on the allow-list.
ESCAPING_PATHS = [
    "../secret.tif",
    "data/../../secret.tif",
    "/etc/passwd",
    "link_out.tif",
    "/vsicurl/http://127.0.0.1:1/x.tif",
    "http://127.0.0.1:1/x.tif",
]
