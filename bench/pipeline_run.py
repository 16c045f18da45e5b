"""Per-stage and end-to-end throughput of the real stage commands, against the models alone.

    python -m bench pipeline --corpus short [--min-bytes 1000000] [--processes 1 2] [--repeats 3]
    python -m bench pipeline --corpus synthetic --n 1000 [--processes 1 2] [--repeats 3]

A temporary project (bench.project) gets the corpus as one `jsonl` source; then, for each repeat and
each process count (`segment.n_process` = `ner.n_process`), every stage runs as its own
`python -m pipeline <stage> ...` process, in dvc.yaml order: ingest, normalise, segment, ner,
sentiment, evaluate-gold, aggregate, report. Each stage's wall time therefore includes interpreter
start-up and model loading; end to end is their sum (`dvc repro` runs the same commands, plus its
own bookkeeping, measured by `python -m bench incremental`). After each pipeline run the models
alone (bench.models) run on the same normalised text, in a child process, with the same process
count. Characters are those of the normalised text; medians over the repeats.

Every run is appended to bench/results/pipeline_runs.jsonl, the summary to bench/results/pipeline.jsonl.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import results
from bench.corpus import SYNTHETIC_SEED, short_news_articles, synthetic_articles, write_jsonl
from bench.machine import load_average, machine
from bench.proc import run_measured
from bench.project import REPO, Project, create_project, jsonl_source

SOURCE = {"short": "news", "synthetic": "synth"}


def prepare(root: Path, corpus: str, n: int | None, min_bytes: int, seed: int = SYNTHETIC_SEED) -> tuple[Project, str]:
    """A benchmark project at `root` whose only source is the corpus, written as jsonl."""
    project = create_project(root)
    source = SOURCE[corpus]
    rel = f"data/sources/{source}/articles.jsonl"
    if corpus == "short":
        write_jsonl(project.root / rel, short_news_articles(min_bytes))
    else:
        if not n:
            raise ValueError("--corpus synthetic needs --n")
        write_jsonl(project.root / rel, synthetic_articles(n, seed))
    project.set_params(sources={source: jsonl_source(rel)})
    return project, source


def corpus_size(project: Project, source: str) -> tuple[int, int]:
    """(articles, characters) of the source's normalised text, i.e. what segment/ner/sentiment read."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    text = pq.read_table(project.root / "data" / "normalised" / f"{source}.parquet", columns=["text"]).column("text")
    return len(text), int(pc.sum(pc.utf8_length(text)).as_py() or 0)


def run_pipeline(project: Project, source: str) -> list[dict[str, Any]]:
    """Every stage once, in order; one measurement per stage."""
    out = []
    for label, args in project.stage_commands(source):
        m = project.stage(*args)
        out.append({"stage": label, **m.as_dict()})
    return out


def run_models(project: Project, source: str, processes: int) -> dict[str, Any]:
    """The models-alone measurement (bench.models) in a child process, on the project's outputs."""
    env = project.env()
    env["PYTHONPATH"] = str(REPO)  # `bench` from the repository, `pipeline` from the copy (the cwd)
    m = run_measured([sys.executable, "-m", "bench.models", "--project", str(project.root), "--source", source,
                      "--processes", str(processes)], project.root, env)
    out = json.loads(m.stdout.strip().splitlines()[-1])
    out.update({"process_wall_s": m.wall_s, "max_rss_mib": m.max_rss_mib, "peak_pss_mib": m.peak_pss_mib})
    return out


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3)


def _rate(amount: int, seconds: float) -> float:
    return round(amount / seconds, 1) if seconds > 0 else 0.0


def summarise(runs: list[dict[str, Any]], articles: int, chars: int) -> dict[str, Any]:
    """Medians per process count: per stage, end to end, models alone, and the ratios the targets use."""
    by_p: dict[int, list[dict[str, Any]]] = {}
    for run in runs:
        by_p.setdefault(run["processes"], []).append(run)
    summary: dict[str, Any] = {}
    for p, group in sorted(by_p.items()):
        stages: dict[str, Any] = {}
        for label in [s["stage"] for s in group[0]["stages"]]:
            ms = [next(s for s in r["stages"] if s["stage"] == label) for r in group]
            wall = _median([m["wall_s"] for m in ms])
            stages[label] = {
                "wall_s": wall, "cpu_s": _median([m["cpu_s"] for m in ms]),
                "busiest_cpu_s": _median([m["busiest_cpu_s"] for m in ms]),
                "chars_per_s": _rate(chars, wall), "articles_per_s": _rate(articles, wall),
                "max_rss_mib": max(m["max_rss_mib"] for m in ms), "peak_pss_mib": max(m["peak_pss_mib"] for m in ms),
            }
        e2e = _median([sum(s["wall_s"] for s in r["stages"]) for r in group])
        entry: dict[str, Any] = {
            "runs": len(group), "stages": stages, "end_to_end_s": e2e,
            "end_to_end_cpu_s": _median([sum(s["cpu_s"] for s in r["stages"]) for r in group]),
            "end_to_end_busiest_cpu_s": _median([sum(s["busiest_cpu_s"] for s in r["stages"]) for r in group]),
            "end_to_end_chars_per_s": _rate(chars, e2e), "end_to_end_articles_per_s": _rate(articles, e2e),
        }
        models = [r["models"] for r in group if r.get("models")]
        if models:
            alone = _median([m["models_alone_s"] for m in models])
            compute = _median([m["compute_s"] for m in models])
            entry["models"] = {
                "models_alone_s": alone, "compute_s": compute,
                "load_s": _median([sum(m["load_s"].values()) for m in models]),
                "models_alone_cpu_s": _median([m["models_alone_cpu_s"] for m in models]),
                "phases_busy_s": {k: _median([m["phases"][k]["busy_s"] for m in models]) for k in models[0]["phases"]},
                "phases_cpu_s": {k: _median([m["phases"][k]["cpu_s"] for m in models]) for k in models[0]["phases"]},
                "chars_per_s": _rate(chars, alone),
                "max_rss_mib": max(m["max_rss_mib"] for m in models),
            }
            entry["end_to_end_vs_models_alone"] = round(e2e / alone, 3)
            entry["end_to_end_vs_models_compute"] = round(e2e / compute, 3)
            # The same on CPU time (insensitive to other work on the machine); with N processes the
            # pipeline's side is the sum over stages of each stage's busiest process.
            e2e_cpu = entry["end_to_end_cpu_s"] if p == 1 else entry["end_to_end_busiest_cpu_s"]
            entry["end_to_end_vs_models_alone_cpu"] = round(e2e_cpu / entry["models"]["models_alone_cpu_s"], 3)
        summary[str(p)] = entry
    if "1" in summary:
        one = summary["1"]
        for p, entry in summary.items():
            if p != "1":
                entry["speedup_vs_1"] = {
                    **{s: round(one["stages"][s]["wall_s"] / entry["stages"][s]["wall_s"], 3)
                       for s in ("segment", "ner")},
                    "end_to_end": round(one["end_to_end_s"] / entry["end_to_end_s"], 3),
                }
                # What free cores would give: 1-process CPU time over the busiest process's CPU time.
                entry["cpu_speedup_estimate"] = {
                    **{s: round(one["stages"][s]["cpu_s"] / entry["stages"][s]["busiest_cpu_s"], 3)
                       for s in ("segment", "ner")},
                    "end_to_end": round(one["end_to_end_cpu_s"] / entry["end_to_end_busiest_cpu_s"], 3),
                }
    return summary


def run(corpus: str, n: int | None = None, processes: Sequence[int] = (1, 2), repeats: int = 3,
        min_bytes: int = 1_000_000, models: bool = True, workdir: Path | None = None) -> dict[str, Any]:
    """Build the project, run every configuration `repeats` times (process counts interleaved)."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-", dir=workdir) as tmp:
        project, source = prepare(Path(tmp) / "project", corpus, n, min_bytes)
        config = {"corpus": corpus, "n": n if corpus == "synthetic" else None}
        runs = []
        articles = chars = 0
        for r in range(repeats):
            for p in processes:
                project.set_params(processes=p)
                before = load_average()
                stages = run_pipeline(project, source)
                if not chars:
                    articles, chars = corpus_size(project, source)
                record: dict[str, Any] = {**config, "processes": p, "repeat": r, "articles": articles,
                                          "chars": chars, "stages": stages}
                if models:
                    record["models"] = run_models(project, source, p)
                record["load_before"], record["load_after"] = before, load_average()
                results.append("pipeline_runs", record)
                runs.append(record)
                total = sum(s["wall_s"] for s in stages)
                print(f"[bench pipeline] {corpus} n={n} p={p} repeat {r + 1}/{repeats}: {total:.1f} s "
                      f"({chars / total:,.0f} chars/s)", file=sys.stderr)
    summary = {"bench": "pipeline", **config, "articles": articles, "chars": chars, "repeats": repeats,
               "processes": list(processes), "by_processes": summarise(runs, articles, chars),
               "machine": machine()}
    results.append("pipeline", summary)
    return summary
