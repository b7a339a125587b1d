"""Path checks of the tile endpoints: only files under the root, only allow-listed URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ai4geo_kernel.errors import PathNotAllowedError
from ai4geo_kernel.tiles import parse_categories, resolve_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "data").mkdir(parents=True)
    (tmp_path / "root" / "data" / "a.tif").write_bytes(b"x")
    (tmp_path / "outside.tif").write_bytes(b"x")
    (tmp_path / "root" / "link_out.tif").symlink_to(tmp_path / "outside.tif")
    (tmp_path / "root" / "link_in.tif").symlink_to(tmp_path / "root" / "data" / "a.tif")
    return tmp_path / "root"


def test_relative_and_absolute_paths_inside_the_root(root: Path) -> None:
    assert resolve_path(root, "data/a.tif") == str(root / "data" / "a.tif")
    assert resolve_path(root, str(root / "data" / "a.tif")) == str(root / "data" / "a.tif")
    assert resolve_path(root, "link_in.tif") == str(root / "data" / "a.tif")


@pytest.mark.parametrize(
    "path",
    [
        "../outside.tif",
        "data/../../outside.tif",
        "data/..",
        "link_out.tif",
        "/etc/passwd",
        "/vsicurl/http://x/y.tif",
        "vsizip/a.zip",
        "file:///etc/passwd",
        "~/x.tif",
        "",
        "data/a.tif\x00.png",
        "..\\outside.tif",
    ],
)
def test_escapes_are_refused(root: Path, path: str) -> None:
    with pytest.raises(PathNotAllowedError):
        resolve_path(root, path)


def test_missing_file_inside_the_root_is_not_found(root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        resolve_path(root, "data/b.tif")


def test_urls_only_from_the_allow_list(root: Path) -> None:
    allowed = ("https://data.example.org/cogs/",)
    url = "https://data.example.org/cogs/dsm.tif"
    assert resolve_path(root, url, allowed_urls=allowed) == url
    for refused in ("https://data.example.org/other/dsm.tif", "http://127.0.0.1:8888/x.tif"):
        with pytest.raises(PathNotAllowedError):
            resolve_path(root, refused, allowed_urls=allowed)
    with pytest.raises(PathNotAllowedError):
        resolve_path(root, url)


@given(st.lists(st.sampled_from(["..", "data", "a.tif", ".", "x"]), min_size=1, max_size=6))
def test_any_resolved_path_stays_under_the_root(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    root = tmp_path_factory.getbasetemp() / "hyp-root"
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "a.tif").write_bytes(b"x")
    try:
        resolved = resolve_path(root, "/".join(parts))
    except (PathNotAllowedError, FileNotFoundError):
        return
    assert Path(resolved).is_relative_to(root.resolve())


def test_categories_parse_hex_colours() -> None:
    assert parse_categories('{"1": "#ff0000", "7": "00ff0080"}') == {1: (255, 0, 0, 255), 7: (0, 255, 0, 128)}
    for bad in ("{bad", "[]", '{"a": "#ff0000"}', '{"1": "red"}', "{}"):
        with pytest.raises(ValueError):
            parse_categories(bad)
