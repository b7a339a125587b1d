"""DTM extraction: terrain.dtm against Bulldozer's CLI at its defaults and against CSF, on the same DSMs.

    .venv/bin/python benchmarks/bench_dtm.py [--scale 0.5] [--repeats 3] [--extra [LABEL=]DSM:TRUTH ...]

DSMs, each with a reference DTM: the ISPRS filter-test samples when ``../shared/data/isprs_filtertest``
is present (airborne LiDAR, 1 m), the demo area's DSM always (generated at ``--scale`` into a
temporary folder; its true DTM is known), and any ``--extra`` pair (for instance the DSM CARS makes from
the demo's synthetic stereo pair, with the demo DTM resampled onto its grid).

For each DSM, in one process and one run:
- ours: ``terrain.dtm(path)`` at its defaults (in-process, library imported);
- Bulldozer CLI: ``bulldozer --dsm_path DSM --output_dir OUT``, every parameter at its default (includes
  the CLI's start-up, as a user running it pays it);
- Bulldozer API: ``dsm_to_dtm`` in-process at its defaults, one worker (the engine alone, no start-up);
- CSF at its defaults on the DSM cells, ground cells interpolated back (one run: it is slow).
The first three take turns, ``--repeats`` times each, medians reported. RMSE against the reference over
the cells where the DSM and the reference are both valid (the same cells for every method); time
ratios ours / peer. Prints a Markdown table and writes ``benchmarks/results/bench_dtm.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from ai4geo_kernel import terrain  # noqa: E402
from benchmarks.dtm_peers import (  # noqa: E402
    bulldozer_api_dtm,
    bulldozer_cli_dtm,
    csf_dtm,
    read_heights,
    rmse,
)

ISPRS = REPO.parent / "shared" / "data" / "isprs_filtertest"


def _interleaved(functions: dict, repeats: int) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    """Run each function ``repeats`` times, taking turns (the machine's load hits each alike)."""
    runs: dict = {name: [] for name in functions}
    results: dict = {}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            results[name] = function()
            runs[name].append(time.perf_counter() - start)
    return results, {name: statistics.median(times) for name, times in runs.items()}, runs


def measure(name: str, dsm_path: Path, truth_path: Path, repeats: int, csf: bool) -> dict:
    reference, _ = read_heights(truth_path)
    dsm, transform = read_heights(dsm_path)
    # Every method is scored on the same cells: where the DSM and the reference are both valid
    # (Bulldozer fills holes inside the DSM, CSF classifies only the DSM's points).
    cells = np.isfinite(dsm)
    row: dict = {"dsm": name, "shape": list(dsm.shape), "dsm_rmse": rmse(dsm, reference)}
    # One warm-up of each in-process path (imports, GDAL drivers), not timed.
    terrain.dtm(dsm_path, progress=False)
    bulldozer_api_dtm(dsm_path)
    results, medians, runs = _interleaved(
        {
            "ours": lambda: terrain.dtm(dsm_path, progress=False).values,
            "cli": lambda: bulldozer_cli_dtm(dsm_path),
            "api": lambda: bulldozer_api_dtm(dsm_path),
        },
        repeats,
    )
    for key in results:
        row[f"{key}_s"], row[f"{key}_runs"] = medians[key], runs[key]
        row[f"{key}_rmse"] = rmse(np.where(cells, results[key], np.nan), reference)
    if csf:
        start = time.perf_counter()
        peer = csf_dtm(dsm, transform)
        row["csf_s"] = time.perf_counter() - start
        row["csf_rmse"] = rmse(np.where(cells, peer, np.nan), reference)
    print(json.dumps({k: v for k, v in row.items() if not k.endswith("_runs")}), flush=True)
    return row


def table(rows: list[dict]) -> str:
    lines = [
        "| DSM | pixels | ours: RMSE, time | Bulldozer CLI defaults: RMSE, time | time ratio ours / CLI "
        "| Bulldozer API (in-process) time | ratio ours / API | CSF: RMSE, time | ratio ours / CSF "
        "| raw DSM RMSE |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        scores = {key: r[f"{key}_rmse"] for key in ("ours", "cli", "csf") if f"{key}_rmse" in r}
        best = min(scores, key=scores.__getitem__)

        def score(key: str, r: dict = r, best: str = best) -> str:
            text = f"{r[f'{key}_rmse']:.3f} m"
            return f"**{text}**" if key == best else text

        csf = f"{score('csf')}, {r['csf_s']:.2f} s" if "csf_s" in r else "not run"
        csf_ratio = f"{r['ours_s'] / r['csf_s']:.3f}" if "csf_s" in r else "-"
        lines.append(
            f"| {r['dsm']} | {r['shape'][0]} x {r['shape'][1]} "
            f"| {score('ours')}, {r['ours_s']:.2f} s "
            f"| {score('cli')}, {r['cli_s']:.2f} s | {r['ours_s'] / r['cli_s']:.2f} "
            f"| {r['api_s']:.2f} s | {r['ours_s'] / r['api_s']:.2f} | {csf} | {csf_ratio} "
            f"| {r['dsm_rmse']:.3f} m |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.5, help="demo area scale (0.5: 640 x 640 m at 1 m)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--extra", action="append", default=[], metavar="[LABEL=]DSM:TRUTH")
    parser.add_argument("--no-csf-above", type=int, default=1_000_000, help="skip CSF above this many cells")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bench_dtm.json")
    args = parser.parse_args()

    cases: list[tuple[str, Path, Path]] = []
    if ISPRS.is_dir():
        for dsm in sorted(ISPRS.glob("samp*_dsm.tif")):
            cases.append(
                (f"ISPRS {dsm.name.split('_')[0]}", dsm, dsm.with_name(dsm.name.replace("_dsm", "_dtm_ref")))
            )
    else:
        print(f"{ISPRS} absent: ISPRS samples skipped", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-dtm-") as folder:
        from ai4geo_kernel.demo import generate

        area = generate(Path(folder) / "demo", seed=0, scale=args.scale, progress=False)
        cases.append((f"demo (scale {args.scale})", area.dsm, area.dtm))
        for extra in args.extra:
            label, _, paths = extra.rpartition("=")
            dsm, truth = paths.split(":")
            cases.append((label or Path(dsm).stem, Path(dsm), Path(truth)))
        rows = []
        for name, dsm, truth in cases:
            cells = read_heights(dsm)[0].size
            rows.append(measure(name, dsm, truth, args.repeats, csf=cells <= args.no_csf_above))
    isprs = [r for r in rows if r["dsm"].startswith("ISPRS")]
    summary = {}
    if isprs:
        for key in ("ours", "cli", "csf"):
            values = [r[f"{key}_rmse"] for r in isprs if f"{key}_rmse" in r]
            summary[f"isprs_mean_{key}_rmse"] = sum(values) / len(values)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "summary": summary}, indent=2))
    print()
    print(table(rows))
    if summary:
        print()
        print(
            "ISPRS mean RMSE: "
            + ", ".join(f"{key.split('_')[2]} {value:.3f} m" for key, value in summary.items())
        )


if __name__ == "__main__":
    main()
