"""The per-article stages (normalise, segment, ner, sentiment) on Dask with 1 vs 2 workers.

    python -m bench dask --n 2000 [--workers 1 2] [--repeats 3] [--partition-size 256]
                         [--scheduler bench-cluster|local-cluster] [--local]

A temporary project (bench.project) gets N synthetic articles as one source and is ingested once; then,
for each repeat and each worker count (interleaved, so every pair of runs compared shares the load of
the moment), the four stages run as their real commands (`python -m pipeline <stage> synth`) with
`execution.backend: dask`:

- `bench-cluster` (default): this process starts a LocalCluster (N worker processes, 1 thread each,
  127.0.0.1, no dashboard) per run and points `execution.dask.scheduler` at its address: a long-lived
  cluster, as with dask-jobqueue or dask-kubernetes. Each worker starts empty, so its model loads are
  inside the measured stages. Worker CPU is read from /proc for every stage.
- `local-cluster`: each stage starts and stops its own LocalCluster (`scheduler: local-cluster`), so
  cluster start-up is inside each stage's wall time.

`--local` adds the local backend with one process as a reference. Every run records the md5 of every
output, and the summary says whether they were all equal. Wall times are medians; ratios are taken
within a repeat, then their median is reported. Because the machine is shared, the load average is
recorded and CPU-time figures are given beside wall times: `critical_cpu_s` per stage is the larger
of the driver's CPU time and the busiest worker's (driver and workers overlap), the least wall time
free cores would allow.

Runs are appended to bench/results/dask_runs.jsonl, the summary to bench/results/dask.jsonl.
"""

from __future__ import annotations

import hashlib
import logging
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import results
from bench.machine import load_average, machine
from bench.pipeline_run import corpus_size, prepare
from bench.project import REPO, Project

PER_ARTICLE = ("normalise", "segment", "ner", "sentiment")
OUTPUTS = ("data/normalised", "data/segmented", "data/entities", "data/sentiment")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


@contextmanager
def bench_cluster(n_workers: int) -> Iterator[tuple[str, list[int]]]:
    """A LocalCluster in this process: (scheduler address, worker pids)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.WARNING) as cluster, Client(cluster) as client:
        pids = sorted(client.run(os.getpid).values())
        yield cluster.scheduler_address, pids


def output_md5s(project: Project) -> dict[str, str]:
    out = {}
    for rel in OUTPUTS:
        for path in sorted((project.root / rel).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(project.root))] = hashlib.md5(path.read_bytes()).hexdigest()
    return out


def set_execution(project: Project, block: dict[str, Any]) -> None:
    params = project.read_params()
    params["execution"] = block
    params["segment"]["n_process"] = params["ner"]["n_process"] = 1
    project.write_params(params)


def run_stages(project: Project, source: str, worker_pids: Sequence[int] = ()) -> list[dict[str, Any]]:
    """The four stages once, in order; per stage the command's measurement plus worker and
    scheduler (this process) CPU seconds when the cluster is this process's."""
    out = []
    for stage in PER_ARTICLE:
        before = {pid: _cpu_s(pid) for pid in worker_pids}
        own = _own_cpu_s()
        m = project.stage(stage, source)
        record: dict[str, Any] = {"stage": stage, **m.as_dict()}
        record.pop("stdout", None)
        workers = [round(_cpu_s(pid) - before[pid], 3) for pid in worker_pids]
        record["worker_cpu_s"] = workers
        record["scheduler_cpu_s"] = round(_own_cpu_s() - own, 3) if worker_pids else 0.0
        # The stage process's tree (workers included for local-cluster) + the bench cluster's workers.
        record["total_cpu_s"] = round(m.cpu_s + sum(workers) + record["scheduler_cpu_s"], 3)
        record["critical_cpu_s"] = round(max([m.critical_cpu_s, *workers]), 3)
        out.append(record)
    return out


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3)


def _sum(run: dict[str, Any], key: str) -> float:
    return sum(s[key] for s in run["stages"])


def summarise(runs: list[dict[str, Any]], articles: int) -> dict[str, Any]:
    by: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by.setdefault(run["config"], []).append(run)
    summary: dict[str, Any] = {}
    for config, group in by.items():
        stages = {s: {"wall_s": _median([next(x for x in r["stages"] if x["stage"] == s)["wall_s"] for r in group]),
                      "total_cpu_s": _median([next(x for x in r["stages"] if x["stage"] == s)["total_cpu_s"]
                                              for r in group]),
                      "critical_cpu_s": _median([next(x for x in r["stages"] if x["stage"] == s)["critical_cpu_s"]
                                                 for r in group])}
                  for s in PER_ARTICLE}
        wall = _median([_sum(r, "wall_s") for r in group])
        cpu = _median([_sum(r, "total_cpu_s") for r in group])
        summary[config] = {
            "runs": len(group), "stages": stages, "wall_s": wall, "wall_s_runs": [round(_sum(r, "wall_s"), 3)
                                                                               for r in group],
            "total_cpu_s": cpu, "critical_cpu_s": _median([_sum(r, "critical_cpu_s") for r in group]),
            "articles_per_s": round(articles / wall, 2), "cpu_ms_per_article": round(1000 * cpu / articles, 2),
            "load_average": [r["load_before"][0] for r in group],
        }
    ones = {r["repeat"]: r for r in by.get("dask-1", [])}
    for config, group in by.items():
        pairs = [(ones[r["repeat"]], r) for r in group if config != "dask-1" and r["repeat"] in ones]
        if not pairs:
            continue
        summary[config]["speedup_vs_dask_1"] = {
            "wall": _median([_sum(a, "wall_s") / _sum(b, "wall_s") for a, b in pairs]),
            "wall_by_stage": {s: _median([next(x for x in a["stages"] if x["stage"] == s)["wall_s"]
                                          / next(x for x in b["stages"] if x["stage"] == s)["wall_s"]
                                          for a, b in pairs]) for s in PER_ARTICLE},
            "critical_cpu": _median([_sum(a, "critical_cpu_s") / _sum(b, "critical_cpu_s") for a, b in pairs]),
        }
    return summary


def run(n: int = 2000, workers: Sequence[int] = (1, 2), repeats: int = 3, partition_size: int = 256,
        scheduler: str = "bench-cluster", local: bool = False, workdir: Path | None = None,
        repo: Path = REPO) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-dask-", dir=workdir) as tmp:
        project, source = prepare(Path(tmp) / "project", "synthetic", n, 0, repo=repo)
        project.stage("ingest", source)
        config: dict[str, Any] = {"corpus": "synthetic", "n": n, "code_sha": project.code_sha(),
                                  "partition_size": partition_size, "scheduler": scheduler, "batch": Path(tmp).name}
        runs: list[dict[str, Any]] = []
        articles = 0
        configs: list[tuple[str, int]] = [("local-1", 1)] if local else []
        configs += [(f"dask-{w}", w) for w in workers]
        for r in range(repeats):
            for name, w in configs:
                before = load_average()
                if name.startswith("local"):
                    set_execution(project, {"backend": "local"})
                    stages = run_stages(project, source)
                elif scheduler == "local-cluster":
                    set_execution(project, {"backend": "dask", "partition_size": partition_size,
                                            "dask": {"scheduler": "local-cluster", "n_workers": w}})
                    stages = run_stages(project, source)
                else:
                    with bench_cluster(w) as (address, pids):
                        set_execution(project, {"backend": "dask", "partition_size": partition_size,
                                                "dask": {"scheduler": address}})
                        stages = run_stages(project, source, pids)
                if not articles:
                    articles, _ = corpus_size(project, source)
                record = {**config, "config": name, "workers": w, "repeat": r, "articles": articles,
                          "stages": stages, "outputs_md5": output_md5s(project), "load_before": before,
                          "load_after": load_average()}
                results.append("dask_runs", record)
                runs.append(record)
                print(f"[bench dask] n={n} {name} repeat {r + 1}/{repeats}: {_sum(record, 'wall_s'):.1f} s wall, "
                      f"{_sum(record, 'total_cpu_s'):.1f} s CPU, load {before[:1]}", file=sys.stderr)
    identical = len({tuple(sorted(r["outputs_md5"].items())) for r in runs}) == 1
    summary = {"bench": "dask", **config, "articles": articles, "repeats": repeats,
               "configs": [c for c, _ in configs], "outputs_identical": identical,
               "by_config": summarise(runs, articles), "machine": machine()}
    results.append("dask", summary)
    return summary
