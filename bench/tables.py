"""Markdown tables for docs/benchmarks.md from the newest results in bench/results/.

    python -m bench tables
"""

from __future__ import annotations

from typing import Any

from bench import results
from bench.pipeline_run import summarise
from bench.project import GLOBAL_STAGES, PER_SOURCE_STAGES

STAGES = (*PER_SOURCE_STAGES, *GLOBAL_STAGES)


def _f(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def _summaries() -> list[dict[str, Any]]:
    """Per (corpus, n), the newest batch of `python -m bench pipeline` runs, summarised afresh from
    bench/results/pipeline_runs.jsonl (so that a run still in progress shows what it has so far)."""
    batches: dict[tuple[str, int | None], dict[str | None, list[dict[str, Any]]]] = {}
    for run in results.read("pipeline_runs"):
        batches.setdefault((run["corpus"], run.get("n")), {}).setdefault(run.get("batch"), []).append(run)
    out = []
    for (corpus, n), by_batch in batches.items():
        runs = list(by_batch.values())[-1]
        out.append({"corpus": corpus, "n": n, "articles": runs[0]["articles"], "chars": runs[0]["chars"],
                    "repeats": max(r["repeat"] for r in runs) + 1, "code_sha": runs[0].get("code_sha"),
                    "code_from": runs[0].get("code_from"),
                    "by_processes": summarise(runs, runs[0]["articles"], runs[0]["chars"])})
    return sorted(out, key=lambda r: (r["corpus"] != "short", r.get("n") or 0))


def _label(s: dict[str, Any]) -> str:
    return "short news" if s["corpus"] == "short" else f"synthetic N={s['n']:,}"


def throughput(summary: dict[str, Any]) -> str:
    """Per stage and end to end, for each process count: wall, chars/s, articles/s, CPU, memory."""
    by_p = summary["by_processes"]
    ps = sorted(by_p, key=int)
    head = "| stage | " + " | ".join(
        f"{p} proc: s | chars/s | articles/s | CPU s{' (critical path)' if p != '1' else ''}" for p in ps) + " |"
    sep = "|---" * (1 + 4 * len(ps)) + "|"
    rows = [head, sep]
    for stage in [s for s in STAGES if s in by_p[ps[0]]["stages"]]:
        cells = []
        for p in ps:
            st = by_p[p]["stages"][stage]
            cpu = st["cpu_s"] if p == "1" else st.get("critical_cpu_s")
            cells += [_f(st["wall_s"], 1), _f(st["chars_per_s"]), _f(st["articles_per_s"], 1), _f(cpu, 1)]
        rows.append(f"| {stage} | " + " | ".join(cells) + " |")
    cells = []
    for p in ps:
        e = by_p[p]
        cpu = e["end_to_end_cpu_s"] if p == "1" else e.get("end_to_end_critical_cpu_s")
        cells += [f"**{_f(e['end_to_end_s'], 1)}**", f"**{_f(e['end_to_end_chars_per_s'])}**",
                  _f(e["end_to_end_articles_per_s"], 1), _f(cpu, 1)]
    rows.append("| **end to end** | " + " | ".join(cells) + " |")
    if all("models" in by_p[p] for p in ps):
        cells = []
        for p in ps:
            m = by_p[p]["models"]
            cells += [_f(m["models_alone_s"], 1), _f(m["chars_per_s"]), "", _f(m.get("models_alone_cpu_s"), 1)]
        rows.append("| models alone | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def models_ratio(summaries: list[dict[str, Any]]) -> str:
    """End to end against the models alone, per corpus and process count."""
    rows = ["| corpus | processes | end to end s | models alone s (load + cut + tag + score) | ratio (wall) | "
            "ratio (CPU) | target ≤ 1.25 | vs the model calls only (no load) |", "|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        for p, e in sorted(s["by_processes"].items(), key=lambda kv: int(kv[0])):
            if "models" not in e:
                continue
            m = e["models"]
            ph = m["phases_busy_s"]
            ratio_cpu = e.get("end_to_end_vs_models_alone_cpu")
            rows.append(f"| {_label(s)} | {p} | {_f(e['end_to_end_s'], 1)} | {_f(m['models_alone_s'], 1)} "
                        f"({_f(m['load_s'], 1)} + {_f(ph['pkuseg_cut'], 1)} + {_f(ph['lac_tag'], 1)} + "
                        f"{_f(ph['score_document'], 1)}) | {e['end_to_end_vs_models_alone']:.2f} | "
                        f"{_f(ratio_cpu, 2)} | {'met' if e['end_to_end_vs_models_alone'] <= 1.25 else 'not met'} | "
                        f"{_f(e.get('end_to_end_vs_model_calls'), 2)} |")
    return "\n".join(rows)


def scaling(summaries: list[dict[str, Any]]) -> str:
    """2 processes against 1: measured wall-clock speedup and the CPU-time estimate."""
    rows = ["| corpus | segment (wall) | ner (wall) | end to end (wall) | segment (CPU est.) | ner (CPU est.) | "
            "end to end (CPU est.) |", "|---|---|---|---|---|---|---|"]
    for s in summaries:
        e = s["by_processes"].get("2")
        if not e or "speedup_vs_1" not in e:
            continue
        w, c = e["speedup_vs_1"], e.get("cpu_speedup_estimate", {})
        rows.append(f"| {_label(s)} | {w['segment']:.2f} | {w['ner']:.2f} | {w['end_to_end']:.2f} | "
                    f"{_f(c.get('segment'), 2)} | {_f(c.get('ner'), 2)} | {_f(c.get('end_to_end'), 2)} |")
    return "\n".join(rows)


def memory() -> str:
    """Peak resident memory per stage, smallest against largest corpus (newest `memory` result)."""
    record = results.latest("memory")
    if record is None:
        return "(no memory results)"
    sizes = record["sizes"]
    rows = ["| stage | " + " | ".join(f"N={s:,}: peak RSS MiB" for s in sizes) + " | ratio | flat (≤ "
            f"{record['limit']}×) |", "|---" * (3 + len(sizes)) + "|"]
    for stage, v in record["stages"].items():
        rows.append(f"| {stage} | " + " | ".join(_f(v[f'max_rss_mib_{s}'], 0) for s in sizes)
                    + f" | {v['ratio']:.2f} | {'yes' if v['flat'] else '**no**'} |")
    return "\n".join(rows)


def incremental() -> str:
    """Full `dvc repro` against the one after adding a source (the newest series of repeats)."""
    from bench.incremental import summarise as summarise_incremental

    runs = list(results.read("incremental_runs"))
    starts = [i for i, r in enumerate(runs) if r["repeat"] == 0]
    if not starts:
        return "(no incremental results)"
    r = summarise_incremental(runs[starts[-1]:])
    return "\n".join([
        f"{r['sources']} sources × {r['articles_per_source']} synthetic articles, then one more; medians of "
        f"{r['repeats']} fresh projects (wall ratios per repeat: {', '.join(f'{x:.1%}' for x in r['ratio_runs'])}).",
        "",
        "| what | stages run | wall s | CPU s (dvc + stages) |", "|---|---|---|---|",
        f"| full `dvc repro` | {r['stages_full']} | {_f(r['full_s'], 1)} | {_f(r['full_cpu_s'], 1)} |",
        f"| `dvc repro` after adding one source | {r['stages_add_one']} | {_f(r['add_one_s'], 1)} | "
        f"{_f(r['add_one_cpu_s'], 1)} |",
        f"| `dvc repro` with nothing changed | 0 | {_f(r['noop_s'], 1)} | {_f(r['noop_cpu_s'], 1)} |",
        f"| **add one / full** | | **{r['ratio']:.1%}** | **{r['cpu_ratio']:.1%}** |",
    ])


def render() -> str:
    summaries = _summaries()
    parts = []
    for s in summaries:
        parts.append(f"### {_label(s)}: {s['articles']:,} articles, {s['chars']:,} characters "
                     f"({s['repeats']} run(s) per configuration)\n\n{throughput(s)}")
    parts += ["### End to end vs models alone\n\n" + models_ratio(summaries),
              "### 2 processes vs 1\n\n" + scaling(summaries),
              "### Peak memory per stage\n\n" + memory(),
              "### Adding a source\n\n" + incremental()]
    return "\n\n".join(parts)
