"""DTM quality goal on the ISPRS filter-test samples (real airborne LiDAR, ../shared/data).

terrain.dtm at its defaults must give a lower RMSE against the reference DTM than both peers, run here
on the same cells: Bulldozer at its defaults and CSF (cloth simulation filter) at its defaults.
"""

from __future__ import annotations

import numpy as np
import pytest

from ai4geo_kernel import terrain
from benchmarks.dtm_peers import bulldozer_api_dtm, csf_dtm, read_heights, rmse

SAMPLES = ("samp11", "samp21")


@pytest.mark.parametrize("sample", SAMPLES)
def test_dtm_beats_bulldozer_defaults_and_csf(shared_data, sample: str) -> None:  # type: ignore[no-untyped-def]
    folder = shared_data / "isprs_filtertest"
    dsm_path = folder / f"{sample}_dsm.tif"
    if not dsm_path.exists():
        pytest.skip(f"{dsm_path} is absent")
    reference, _ = read_heights(folder / f"{sample}_dtm_ref.tif")
    dsm, transform = read_heights(dsm_path)

    ours = terrain.dtm(dsm_path, progress=False)
    assert ours.rio.crs is not None and ours.shape == dsm.shape
    ours_rmse = rmse(ours.values, reference)
    bulldozer_rmse = rmse(bulldozer_api_dtm(dsm_path), reference)
    csf_rmse = rmse(csf_dtm(dsm, transform), reference)
    raw_rmse = rmse(dsm, reference)
    print(
        f"{sample}: ours {ours_rmse:.3f} m, bulldozer {bulldozer_rmse:.3f} m, CSF {csf_rmse:.3f} m, "
        f"DSM {raw_rmse:.3f} m"
    )
    # Cells compared: every cell where both are valid, the same for the three.
    assert np.isfinite(ours.values).sum() == np.isfinite(dsm).sum()
    assert ours_rmse < bulldozer_rmse, (ours_rmse, bulldozer_rmse)
    assert ours_rmse < csf_rmse, (ours_rmse, csf_rmse)
