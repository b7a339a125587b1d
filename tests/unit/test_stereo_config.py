"""The CARS configuration, its environment workaround, progress parsing and RPC lookup (no CARS run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.rpc import RPC

from ai4geo_kernel.errors import ConfigurationError, MissingRPCError
from ai4geo_kernel.stereo import cars_config, dsms_from_pairs, read_rpc, sensor_image
from ai4geo_kernel.stereo._cars import cars_environment, parse_progress


def _config(**kwargs):  # type: ignore[no-untyped-def]
    options = {"resolution": None, "initial_elevation": None, "geoid": None, "epsg": None, "workers": 2}
    options.update(kwargs)
    return cars_config(
        (Path("/d/l.tif"), Path("/d/l.geom")),
        (Path("/d/r.tif"), Path("/d/r.tif")),
        Path("/run/out"),
        **options,
    )


def test_config_uses_the_multiprocessing_orchestrator_and_full_resolution_matching() -> None:
    config = _config()
    assert config["orchestrator"] == {"mode": "multiprocessing", "nb_workers": 2}
    assert config["subsampling"] == {"advanced": {"resolutions": [1]}}
    assert config["input"]["sensors"]["left"] == {
        "image": "/d/l.tif",
        "geomodel": {"path": "/d/l.geom", "model_type": "RPC"},
    }
    assert config["output"] == {"directory": "/run/out"}  # CARS's defaults: its resolution, EGM96 heights
    assert "initial_elevation" not in config["input"]


def test_config_options_map_to_cars_keys() -> None:
    config = _config(resolution=0.5, initial_elevation=Path("/dem.hgt"), geoid=Path("/g.gtx"), epsg=32631)
    assert config["input"]["initial_elevation"] == {"dem": "/dem.hgt", "geoid": "/g.gtx"}
    assert config["output"] == {"directory": "/run/out", "resolution": 0.5, "epsg": 32631, "geoid": "/g.gtx"}
    assert _config(geoid=False)["output"]["geoid"] is False  # ellipsoidal heights


def test_malloc_trim_threshold_is_removed_from_the_cars_environment() -> None:
    env = cars_environment({"MALLOC_TRIM_THRESHOLD_": "65536", "PATH": "/bin", "OMP_NUM_THREADS": "1"})
    assert env == {"PATH": "/bin", "OMP_NUM_THREADS": "1"}


def test_progress_lines_of_the_cars_log() -> None:
    line = "2026-11-25 05:41:20,994 :: INFO :: Started task tie_points in pipeline Tie Points, total: 11"
    assert parse_progress(line) == {"task": "Tie Points: tie_points", "percent": 0}
    line = "2026-11-25 05:41:48,481 :: INFO :: Data list to process: 30% complete (3/8 tiles) [run 1/1]"
    assert parse_progress(line) == {"percent": 30, "done": 3, "total": 8}
    assert parse_progress("2026-11-25 :: INFO :: CARS pipeline is started.") is None


def _rpc() -> RPC:
    coeffs = [0.0] * 20
    line = coeffs.copy()
    line[2] = -1.0
    samp = coeffs.copy()
    samp[1] = 1.0
    den = [1.0] + [0.0] * 19
    return RPC(
        height_off=200.0, height_scale=100.0, lat_off=43.6, lat_scale=0.01, line_den_coeff=den,
        line_num_coeff=line, line_off=50.0, line_scale=50.0, long_off=1.44, long_scale=0.01,
        samp_den_coeff=den, samp_num_coeff=samp, samp_off=50.0, samp_scale=50.0,
    )  # fmt: skip


def _write(path: Path, count: int = 1, rpc: RPC | None = None) -> Path:
    with rasterio.open(
        path, "w", driver="GTiff", width=100, height=100, count=count, dtype="uint16", rpcs=rpc
    ) as dst:
        dst.write(np.ones((count, 100, 100), np.uint16))
    return path


def test_rpc_from_tiff_tags_and_from_a_geom_sidecar(tmp_path: Path) -> None:
    tagged = _write(tmp_path / "tagged.tif", rpc=_rpc())
    assert sensor_image(tagged).geomodel == tagged
    assert read_rpc(tagged).lat_off == pytest.approx(43.6)
    plain = _write(tmp_path / "plain.tif")
    with pytest.raises(MissingRPCError, match="no RPC model"):
        sensor_image(plain)
    # an OSSIM keyword list beside the image, as shareloc writes and reads it
    (tmp_path / "plain.geom").write_text("not a keyword list\n")
    with pytest.raises(MissingRPCError):
        sensor_image(plain)


@pytest.mark.shared_data
def test_ossim_geom_of_the_ventoux_pair(shared_data: Path) -> None:
    left = sensor_image(shared_data / "phr_ventoux" / "left_image.tif")
    assert left.geomodel.suffix == ".geom"
    rpc = read_rpc(left.geomodel)
    assert 43.9 < rpc.lat_off < 44.4 and 5.0 < rpc.long_off < 5.5  # Mont Ventoux


def test_bad_options_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="one output per pair"):
        dsms_from_pairs([("a.tif", "b.tif")], outputs=[])
    with pytest.raises(ConfigurationError, match="timeout"):
        dsms_from_pairs([("a.tif", "b.tif")], outputs=["o.tif"], timeout=-1)
    with pytest.raises(FileNotFoundError, match="initial elevation"):
        dsms_from_pairs([("a.tif", "b.tif")], outputs=["o.tif"], initial_elevation=tmp_path / "none.hgt")


def test_height_margins_narrow_the_dense_matching_search() -> None:
    config = _config(height_margins=(50, 100))
    bounds = config["tie_points"]["applications"]["all"]["sparse_matching"]["disparity_bounds_estimation"]
    assert bounds == {"lower_margin": 50, "upper_margin": 100}
    assert "tie_points" not in _config()  # CARS's own margins by default
