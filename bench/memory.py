"""Peak memory per stage, small corpus against large: do the stages stream?

    python -m bench memory [--sizes 1000 50000] [--reuse]

For each size, the synthetic corpus goes through every stage once with one process
(bench.pipeline_run, without the models-alone baseline; runs recorded in memory_pipeline_runs.jsonl)
and each stage's peak resident memory is read from the kernel (bench.proc: /usr/bin/time's maximum
resident set size of the stage's process). A stage is flat when its peak on the largest corpus is
within `--limit` (1.2) × its peak on the smallest. `--reuse` takes the figures from the newest
matching one-process run already recorded (by this benchmark or by `python -m bench pipeline`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import pipeline_run, results
from bench.machine import machine


def _stage_peaks(size: int, reuse: bool) -> tuple[dict[str, dict[str, float]], str]:
    """{stage: {max_rss_mib, peak_pss_mib}} for one corpus size, and where the figures came from."""
    if reuse:
        runs = [*results.read("memory_pipeline_runs"), *results.read("pipeline_runs")]
        for record in sorted(runs, key=lambda r: r["recorded_at"], reverse=True):
            if record.get("corpus") == "synthetic" and record.get("n") == size and record.get("processes") == 1:
                peaks = {s["stage"]: {"max_rss_mib": s["max_rss_mib"], "peak_pss_mib": s["peak_pss_mib"]}
                         for s in record["stages"]}
                return peaks, f"run recorded_at {record['recorded_at']}"
    summary = pipeline_run.run("synthetic", size, processes=(1,), repeats=1, models=False,
                               record_as="memory_pipeline")
    stages = summary["by_processes"]["1"]["stages"]
    return ({k: {"max_rss_mib": v["max_rss_mib"], "peak_pss_mib": v["peak_pss_mib"]} for k, v in stages.items()},
            "measured")


def run(sizes: Sequence[int] = (1000, 50000), reuse: bool = False, limit: float = 1.2) -> dict[str, Any]:
    """Peak memory per stage at each size; the ratio largest/smallest and whether it is within `limit`."""
    sizes = sorted(sizes)
    peaks: dict[int, dict[str, dict[str, float]]] = {}
    origin: dict[str, str] = {}
    for size in sizes:
        peaks[size], origin[str(size)] = _stage_peaks(size, reuse)
    small, large = peaks[sizes[0]], peaks[sizes[-1]]
    stages = {}
    for stage in small:
        ratio = round(large[stage]["max_rss_mib"] / small[stage]["max_rss_mib"], 3)
        stages[stage] = {
            **{f"max_rss_mib_{size}": peaks[size][stage]["max_rss_mib"] for size in sizes},
            "ratio": ratio, "flat": ratio <= limit,
        }
    summary = {"bench": "memory", "sizes": sizes, "limit": limit, "stages": stages,
               "not_flat": [s for s, v in stages.items() if not v["flat"]], "source": origin, "machine": machine()}
    results.append("memory", summary)
    return summary
