"""`dvc repro` after adding one small source to existing ones, against the full run.

    python -m bench incremental [--sources 20] [--articles 100] [--repeats 3]

Each repeat makes a fresh benchmark project (bench.project) with `--sources` small jsonl sources of
`--articles` synthetic articles each (bench.corpus, a different seed per source), records the model
stages as built, and times:

1. the full `dvc repro` (every per-source stage of every source, then evaluate, aggregate, report);
2. after adding one more source of the same size to params.yaml, the next `dvc repro` (that source's
   six stages, then evaluate, aggregate and report over all sources);
3. one more `dvc repro` with nothing changed: DVC's own status checks, for reference.

Both include DVC's own work (status checks, hashing, caching outputs). Target: 2. < 10% of 1.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import results
from bench.corpus import SYNTHETIC_SEED, bundled_paragraphs, synthetic_articles, write_jsonl
from bench.machine import load_average, machine
from bench.project import REPO, Project, create_project, jsonl_source

_RAN = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)


def _add_source(project: Project, k: int, articles: int, paragraphs: list[Any]) -> tuple[str, dict[str, Any]]:
    name = f"s{k:02d}"
    rel = f"data/sources/{name}/articles.jsonl"
    write_jsonl(project.root / rel, synthetic_articles(articles, SYNTHETIC_SEED + k, paragraphs, id_prefix=name))
    return name, jsonl_source(rel)


def _repro(project: Project) -> dict[str, Any]:
    before = load_average()
    m = project.dvc("repro")
    ran = _RAN.findall(m.stdout)
    return {"wall_s": m.wall_s, "cpu_s": round(m.cpu_s, 3), "dvc_own_cpu_s": m.main_cpu_s,
            "stages_run": len(ran), "ran": ran,
            "load_before": before, "load_after": load_average()}


def run_once(root: Path, n_sources: int, articles: int, paragraphs: list[Any], repo: Path = REPO) -> dict[str, Any]:
    """One fresh project: full repro of `n_sources` sources, then repro after adding one more."""
    project = create_project(root, repo)
    sources = dict(_add_source(project, k, articles, paragraphs) for k in range(1, n_sources + 1))
    project.set_params(sources=sources, processes=1)
    project.init_dvc()
    full = _repro(project)
    name, entry = _add_source(project, n_sources + 1, articles, paragraphs)
    project.set_params(sources={**sources, name: entry})
    added = _repro(project)
    noop = _repro(project)  # nothing changed: DVC's own checks alone
    return {"full": full, "add_one": added, "noop": noop, "ratio": round(added["wall_s"] / full["wall_s"], 4),
            "cpu_ratio": round(added["cpu_s"] / full["cpu_s"], 4), "code_sha": project.code_sha()}


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the repeats; the ratios are taken per repeat (full and add-one ran in the same
    project, minutes apart), on wall time and on CPU time (dvc and every stage it ran)."""
    def med(values: Any) -> float:
        return round(statistics.median(values), 4)

    first = runs[0]
    return {
        "bench": "incremental", "sources": first["sources"], "articles_per_source": first["articles_per_source"],
        "repeats": len(runs),
        "full_s": med(r["full"]["wall_s"] for r in runs), "add_one_s": med(r["add_one"]["wall_s"] for r in runs),
        "noop_s": med(r["noop"]["wall_s"] for r in runs),
        "full_cpu_s": med(r["full"]["cpu_s"] for r in runs), "add_one_cpu_s": med(r["add_one"]["cpu_s"] for r in runs),
        "noop_cpu_s": med(r["noop"]["cpu_s"] for r in runs),
        "stages_full": first["full"]["stages_run"], "stages_add_one": first["add_one"]["stages_run"],
        "ran_add_one": first["add_one"]["ran"],
        "ratio": med(r["ratio"] for r in runs), "ratio_runs": [r["ratio"] for r in runs],
        "cpu_ratio": med(r["add_one"]["cpu_s"] / r["full"]["cpu_s"] for r in runs),
    }


def run(n_sources: int = 20, articles: int = 100, repeats: int = 3, workdir: Path | None = None,
        repo: Path = REPO) -> dict[str, Any]:
    paragraphs = bundled_paragraphs()
    runs = []
    for r in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-incremental-", dir=workdir) as tmp:
            one = run_once(Path(tmp) / "project", n_sources, articles, paragraphs, repo)
        one.update({"sources": n_sources, "articles_per_source": articles, "repeat": r})
        results.append("incremental_runs", one)
        runs.append(one)
        print(f"[bench incremental] repeat {r + 1}/{repeats}: full {one['full']['wall_s']:.1f} s, "
              f"add one {one['add_one']['wall_s']:.1f} s ({one['ratio']:.1%})", file=sys.stderr)
    summary = summarise(runs)
    summary["machine"] = machine()
    results.append("incremental", summary)
    return summary
