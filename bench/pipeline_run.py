"""Per-stage and end-to-end throughput of the real stage commands, against the models alone.

    python -m bench pipeline --corpus short [--min-bytes 1000000] [--processes 1 2] [--repeats 3]
    python -m bench pipeline --corpus synthetic --n 1000 [--processes 1 2] [--repeats 3]

A temporary project (bench.project) gets the corpus as one `jsonl` source; then, for each repeat and
each process count (`segment.n_process` = `ner.n_process`), every stage runs as its own
`python -m pipeline <stage> ...` process, in dvc.yaml order: ingest, normalise, segment, ner,
sentiment, evaluate-gold, aggregate, report. Each stage's wall time therefore includes interpreter
start-up and model loading; end to end is their sum (`dvc repro` runs the same commands, plus its
own bookkeeping, measured by `python -m bench incremental`). The models alone (bench.models) run
on the same text, in child processes, with the same process count, each model right after the
stage built on it (pkuseg's cut after segment, LAC after ner, the scorer after sentiment): this
host's speed drifts by a quarter over minutes, and a stage and its model timed seconds apart see
the same host. Characters are those of the normalised text; medians over the repeats.

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


def prepare(root: Path, corpus: str, n: int | None, min_bytes: int, seed: int = SYNTHETIC_SEED,
            repo: Path = REPO) -> tuple[Project, str]:
    """A benchmark project at `root`, copied from `repo`, whose only source is the corpus, as jsonl."""
    project = create_project(root, repo)
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


def run_models(project: Project, source: str, processes: int, phases: Sequence[str] | None = None
               ) -> dict[str, Any]:
    """The models-alone measurement (bench.models) in a child process, on the project's outputs."""
    env = project.env()
    env["PYTHONPATH"] = str(REPO)  # `bench` from the repository, `pipeline` from the copy (the cwd)
    m = run_measured([sys.executable, "-m", "bench.models", "--project", str(project.root), "--source", source,
                      "--processes", str(processes), *(["--phases", *phases] if phases else [])], project.root, env)
    if m.returncode != 0:
        raise RuntimeError(f"bench.models failed ({m.returncode}): {m.stderr[-2000:]}")
    out = json.loads(m.stdout.strip().splitlines()[-1])
    out.update({"process_wall_s": m.wall_s, "max_rss_mib": m.max_rss_mib, "peak_pss_mib": m.peak_pss_mib})
    return out


# The model each stage is built on: timed alone right after the stage (bench.models phases).
MODEL_AFTER = {"segment": "pkuseg_cut", "ner": "lac_tag", "sentiment": "score_document"}


def combine_models(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One models-alone record from per-phase ones: times add up, memory is the largest."""
    out: dict[str, Any] = {"processes": parts[0]["processes"], "load_s": {}, "phases": {}, "paired": True}
    for part in parts:
        out["load_s"].update(part["load_s"])
        out["phases"].update(part["phases"])
    for key in ("load_cpu_s", "compute_s", "compute_cpu_s", "models_alone_s", "models_alone_cpu_s", "process_wall_s"):
        out[key] = round(sum(part[key] for part in parts), 3)
    for key in ("max_rss_mib", "peak_pss_mib"):
        out[key] = max(part[key] for part in parts)
    return out


def run_pipeline_paired(project: Project, source: str, processes: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every stage once, in order, each model alone right after its stage: (stages, models)."""
    stages, parts = [], []
    for label, args in project.stage_commands(source):
        m = project.stage(*args)
        stages.append({"stage": label, **m.as_dict()})
        if label in MODEL_AFTER:
            parts.append(run_models(project, source, processes, [MODEL_AFTER[label]]))
    return stages, combine_models(parts)


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3)


def _rate(amount: int, seconds: float) -> float:
    return round(amount / seconds, 1) if seconds > 0 else 0.0


def _e2e(run: dict[str, Any], key: str = "wall_s") -> float:
    return sum(s[key] for s in run["stages"])


def _stage(run: dict[str, Any], label: str) -> dict[str, Any]:
    return next(s for s in run["stages"] if s["stage"] == label)


def _critical(stage: dict[str, Any]) -> float:
    """The stage's critical-path CPU time (bench.proc); older records only have the busiest process's."""
    return float(stage.get("critical_cpu_s", stage["busiest_cpu_s"]))


def _stage_summary(ms: list[dict[str, Any]], articles: int, chars: int) -> dict[str, Any]:
    wall = _median([m["wall_s"] for m in ms])
    fastest = min(m["wall_s"] for m in ms)
    return {
        "wall_s": wall, "wall_s_min": fastest, "wall_s_runs": [m["wall_s"] for m in ms],
        "cpu_s": _median([m["cpu_s"] for m in ms]), "busiest_cpu_s": _median([m["busiest_cpu_s"] for m in ms]),
        "critical_cpu_s": _median([_critical(m) for m in ms]),
        "chars_per_s": _rate(chars, wall), "articles_per_s": _rate(articles, wall),
        "chars_per_s_best": _rate(chars, fastest), "chars_per_cpu_s": _rate(chars, _median([m["cpu_s"] for m in ms])),
        "max_rss_mib": max(m["max_rss_mib"] for m in ms), "peak_pss_mib": max(m["peak_pss_mib"] for m in ms),
    }


def _models_summary(models: list[dict[str, Any]], chars: int) -> dict[str, Any]:
    alone = _median([m["models_alone_s"] for m in models])
    return {
        "models_alone_s": alone, "models_alone_s_min": min(m["models_alone_s"] for m in models),
        "compute_s": _median([m["compute_s"] for m in models]),
        "load_s": _median([sum(m["load_s"].values()) for m in models]),
        "models_alone_cpu_s": _median([m["models_alone_cpu_s"] for m in models]),
        "phases_busy_s": {k: _median([m["phases"][k]["busy_s"] for m in models]) for k in models[0]["phases"]},
        "phases_cpu_s": {k: _median([m["phases"][k]["cpu_s"] for m in models]) for k in models[0]["phases"]},
        "chars_per_s": _rate(chars, alone),
        "max_rss_mib": max(m["max_rss_mib"] for m in models),
    }


def _pipeline_cpu(run: dict[str, Any]) -> float:
    """CPU seconds on the critical path: the whole run with 1 process, else each stage's critical path."""
    return _e2e(run, "cpu_s") if run["processes"] == 1 else sum(_critical(s) for s in run["stages"])


def summarise(runs: list[dict[str, Any]], articles: int, chars: int) -> dict[str, Any]:
    """Per process count: per stage and end to end (median, fastest, every run), the models alone,
    and the ratios the targets use. Ratios are taken within a repeat (the runs compared ran back to
    back, under the same load from other work on the machine), then their median is reported."""
    by_p: dict[int, list[dict[str, Any]]] = {}
    for run in runs:
        by_p.setdefault(run["processes"], []).append(run)
    summary: dict[str, Any] = {}
    for p, group in sorted(by_p.items()):
        labels = [s["stage"] for s in group[0]["stages"]]
        e2e = _median([_e2e(r) for r in group])
        entry: dict[str, Any] = {
            "runs": len(group),
            "stages": {label: _stage_summary([_stage(r, label) for r in group], articles, chars) for label in labels},
            "end_to_end_s": e2e, "end_to_end_s_min": min(_e2e(r) for r in group),
            "end_to_end_s_runs": [round(_e2e(r), 3) for r in group],
            "end_to_end_cpu_s": _median([_e2e(r, "cpu_s") for r in group]),
            "end_to_end_critical_cpu_s": _median([_pipeline_cpu(r) for r in group]),
            "end_to_end_chars_per_s": _rate(chars, e2e), "end_to_end_articles_per_s": _rate(articles, e2e),
            "load_average": [r.get("load_before", [None])[0] for r in group],
        }
        with_models = [r for r in group if r.get("models")]
        if with_models:
            entry["models"] = _models_summary([r["models"] for r in with_models], chars)
            entry["end_to_end_vs_models_alone"] = _median([_e2e(r) / r["models"]["models_alone_s"]
                                                           for r in with_models])
            entry["end_to_end_vs_models_alone_cpu"] = _median([_pipeline_cpu(r) / r["models"]["models_alone_cpu_s"]
                                                               for r in with_models])
            # The stricter reading: against the three models' calls only, their loading left out (the
            # pipeline loads pkuseg faster than the library does, which the ratio above credits to it).
            entry["end_to_end_vs_model_calls"] = _median([_e2e(r) / r["models"]["compute_s"] for r in with_models])
        summary[str(p)] = entry
    if 1 in by_p:
        ones = {r["repeat"]: r for r in by_p[1]}
        for p, group in by_p.items():
            pairs = [(ones[r["repeat"]], r) for r in group if p != 1 and r["repeat"] in ones]
            if not pairs:
                continue
            summary[str(p)]["speedup_vs_1"] = {
                **{s: _median([_stage(a, s)["wall_s"] / _stage(b, s)["wall_s"] for a, b in pairs])
                   for s in ("segment", "ner")},
                "end_to_end": _median([_e2e(a) / _e2e(b) for a, b in pairs]),
            }
            # What free cores would give: 1-process CPU time over the critical-path CPU time.
            summary[str(p)]["cpu_speedup_estimate"] = {
                **{s: _median([_stage(a, s)["cpu_s"] / _critical(_stage(b, s)) for a, b in pairs])
                   for s in ("segment", "ner")},
                "end_to_end": _median([_e2e(a, "cpu_s") / _pipeline_cpu(b) for a, b in pairs]),
            }
    return summary


def run(corpus: str, n: int | None = None, processes: Sequence[int] = (1, 2), repeats: int = 3,
        min_bytes: int = 1_000_000, models: bool = True, workdir: Path | None = None,
        repo: Path = REPO, record_as: str = "pipeline") -> dict[str, Any]:
    """Build the project, run every configuration `repeats` times (process counts interleaved); each
    run is appended to `<record_as>_runs.jsonl`, the summary to `<record_as>.jsonl`."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-", dir=workdir) as tmp:
        project, source = prepare(Path(tmp) / "project", corpus, n, min_bytes, repo=repo)
        config: dict[str, Any] = {"corpus": corpus, "n": n if corpus == "synthetic" else None,
                                  "code_sha": project.code_sha(), "batch": Path(tmp).name}
        if repo.resolve() != REPO:
            config["code_from"] = str(repo.resolve())
        runs = []
        articles = chars = 0
        for r in range(repeats):
            for p in processes:
                project.set_params(processes=p)
                before = load_average()
                if models:
                    stages, alone = run_pipeline_paired(project, source, p)
                else:
                    stages, alone = run_pipeline(project, source), None
                if not chars:
                    articles, chars = corpus_size(project, source)
                record: dict[str, Any] = {**config, "processes": p, "repeat": r, "articles": articles,
                                          "chars": chars, "stages": stages}
                if alone:
                    record["models"] = alone
                record["load_before"], record["load_after"] = before, load_average()
                results.append(f"{record_as}_runs", record)
                runs.append(record)
                total = sum(s["wall_s"] for s in stages)
                print(f"[bench pipeline] {corpus} n={n} p={p} repeat {r + 1}/{repeats}: {total:.1f} s "
                      f"({chars / total:,.0f} chars/s)", file=sys.stderr)
    summary = {"bench": "pipeline", **config, "articles": articles, "chars": chars, "repeats": repeats,
               "processes": list(processes), "by_processes": summarise(runs, articles, chars),
               "machine": machine()}
    results.append(record_as, summary)
    return summary
