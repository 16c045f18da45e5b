""""Models alone": the three models the pipeline wraps, on the pipeline's own text, without the pipeline.

    python -m bench models [--corpus synthetic --n 1000 | --corpus short] [--processes 1 2] [--repeats 3]

Everything the pipeline does besides these three calls is overhead:

- segmentation: `spacy_pkuseg.pkuseg(model_dir).cut(text)` per article, the pinned model in the
  library's own layout (bench/reference.py), loaded by the library;
- NER: `pipeline.lac_ner.LacTagger().tag(texts)`, 128 articles per call (as the ner stage calls it);
- scoring: `pipeline.sentiment.score_document` per article with companies, on the tokens the segment
  stage wrote and the mentions the ner stage found, for the company and the group targets (as the
  sentiment stage does); reading those is not timed.

The text is the normalised text of a benchmark project (bench.project) after the pipeline ran, so the
models see exactly the characters the stages saw. Only the calls are timed (model loading separately).
With N processes each phase runs in N forked workers and counts the busiest worker's time: the ideal
parallel time, with no cost for moving data.

The measurement itself runs in a child process (`python -m bench.models --project DIR --source S`),
so its memory and imports do not mix with the caller's. `--phases` times some of the three only,
loading only their models: `python -m bench pipeline` times each right after the stage built on it,
so that the host's drifting speed (±25 % over minutes here) affects both sides of a ratio alike.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

TEXT_BATCH = 128  # = pipeline.ner.CHUNK_DOCS: the models see the same calls as in the ner stage
_STATE: dict[str, Any] = {}  # models loaded in the parent before forking, inherited by workers

Timed = tuple[int, float, float, int]  # (worker pid, busy wall seconds, busy CPU seconds, items)


class _Clock:
    """Wall and CPU time of the timed calls only."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> _Clock:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._w
        self.cpu += time.process_time() - self._c


def _texts(normalised: Path, batch: int = TEXT_BATCH) -> Iterator[list[str]]:
    import pyarrow.parquet as pq

    for b in pq.ParquetFile(normalised).iter_batches(batch_size=batch, columns=["text"]):
        yield b.column("text").to_pylist()


def _cut(texts: list[str]) -> Timed:
    cut = _STATE["pkuseg"].cut
    with _Clock() as clock:
        for text in texts:
            cut(text)
    return os.getpid(), clock.wall, clock.cpu, len(texts)


def _tag(texts: list[str]) -> Timed:
    with _Clock() as clock:
        _STATE["lac"].tag(texts)
    return os.getpid(), clock.wall, clock.cpu, len(texts)


Targets = list[tuple[int, int, str]]
ScoreItem = tuple[Path, list[str], dict[str, tuple[Targets, Targets]]]


def _doc_targets(entities: Path) -> Iterator[tuple[str, Targets, Targets]]:
    """(doc_id, company targets, group targets) per document with linked mentions, in file order."""
    import pyarrow.parquet as pq

    current: str | None = None
    comp: Targets = []
    grp: Targets = []
    cols = ["doc_id", "start_char", "end_char", "company_id", "group_id"]
    for batch in pq.ParquetFile(entities).iter_batches(batch_size=4096, columns=cols):
        for r in batch.to_pylist():
            if r["doc_id"] != current:
                if current is not None and comp:
                    yield current, comp, grp
                current, comp, grp = r["doc_id"], [], []
            if r["company_id"]:
                comp.append((r["start_char"], r["end_char"], r["company_id"]))
                if r["group_id"]:
                    grp.append((r["start_char"], r["end_char"], r["group_id"]))
    if current is not None and comp:
        yield current, comp, grp


def _score_items(segmented: Path, entities: Path) -> Iterator[ScoreItem]:
    """(DocBin part, its doc ids, targets of its documents) for every part, streaming both inputs."""
    from pipeline.docbin_tokens import part_paths, read_doc_ids

    targets = _doc_targets(entities)
    pending = next(targets, None)
    for part, ids in zip(part_paths(segmented), read_doc_ids(segmented), strict=True):
        mine: dict[str, tuple[Targets, Targets]] = {}
        wanted = set(ids)
        while pending is not None and pending[0] in wanted:
            mine[pending[0]] = (pending[1], pending[2])
            pending = next(targets, None)
        yield part, ids, mine


def _score(item: ScoreItem) -> Timed:
    from spacy.tokens import DocBin

    from pipeline.sentiment import score_document

    part, ids, targets = item
    lexicon, cfg, vocab = _STATE["lexicon"], _STATE["cfg"], _STATE["vocab"]
    clock = _Clock()
    scored = 0
    for doc, doc_id in zip(DocBin().from_disk(part).get_docs(vocab), ids, strict=True):
        if doc_id not in targets:
            continue
        words = [t.text for t in doc]
        spaces = [bool(t.whitespace_) for t in doc]
        starts = [bool(t.is_sent_start) for t in doc]
        with clock:
            for level in targets[doc_id]:
                if level:
                    score_document(words, spaces, starts, level, lexicon, cfg)
        scored += 1
    return os.getpid(), clock.wall, clock.cpu, scored


def _phase(fn: Callable[[Any], Timed], items: Iterable[Any], processes: int) -> dict[str, Any]:
    """Run `fn` over `items` in this process or in forked workers; busy time of the busiest worker."""
    busy: dict[int, float] = defaultdict(float)
    cpu: dict[int, float] = defaultdict(float)
    count = 0
    t0 = time.perf_counter()
    if processes > 1:
        with mp.get_context("fork").Pool(processes) as pool:
            results: Iterable[Timed] = list(pool.imap_unordered(fn, items))
    else:
        results = map(fn, items)
    for pid, seconds, cpu_seconds, n in results:
        busy[pid] += seconds
        cpu[pid] += cpu_seconds
        count += n
    return {"busy_s": round(max(busy.values(), default=0.0), 3), "cpu_s": round(max(cpu.values(), default=0.0), 3),
            "wall_s": round(time.perf_counter() - t0, 3), "items": count, "workers": len(busy)}


PHASES = ("pkuseg_cut", "lac_tag", "score_document")


def measure(project: Path, source: str, processes: int, phases: tuple[str, ...] = PHASES) -> dict[str, Any]:
    """Load the models `phases` need, then time each phase on the project's outputs for `source`."""
    import spacy_pkuseg
    import yaml
    from spacy.vocab import Vocab

    from bench.reference import library_model_dir
    from pipeline.lac_ner import LacTagger
    from pipeline.lexicons import load_lexicons
    from pipeline.sentiment import Lexicon, SentimentConfig

    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    library_dir = library_model_dir(project / ".bench-pkuseg")  # written once per project, not timed
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise ValueError(f"unknown phases {sorted(unknown)}; choose from {', '.join(PHASES)}")
    loads: dict[str, float] = {}
    cpu0 = time.process_time()
    if "pkuseg_cut" in phases:
        t = time.perf_counter()
        _STATE["pkuseg"] = spacy_pkuseg.pkuseg(str(library_dir))
        loads["pkuseg"] = time.perf_counter() - t
    if "lac_tag" in phases:
        t = time.perf_counter()
        _STATE["lac"] = LacTagger()
        _STATE["lac"]._load()  # the tagger loads lazily; load it here so that it is not timed as tagging
        loads["lac"] = time.perf_counter() - t
    if "score_document" in phases:
        t = time.perf_counter()
        lexicon_dir = project / (params.get("lexicons") or {}).get("out_dir", "models/lexicons")
        _STATE["lexicon"] = Lexicon(load_lexicons(lexicon_dir))
        loads["lexicons"] = time.perf_counter() - t
    load_cpu = time.process_time() - cpu0
    _STATE["cfg"] = SentimentConfig.from_params(params.get("sentiment") or {})
    _STATE["vocab"] = Vocab()

    normalised = project / "data" / "normalised" / f"{source}.parquet"
    timed: dict[str, dict[str, Any]] = {}
    if "pkuseg_cut" in phases:
        timed["pkuseg_cut"] = _phase(_cut, _texts(normalised), processes)
    if "lac_tag" in phases:
        timed["lac_tag"] = _phase(_tag, _texts(normalised), processes)
    if "score_document" in phases:
        timed["score_document"] = _phase(_score, _score_items(project / "data" / "segmented" / source,
                                                              project / "data" / "entities" / f"{source}.parquet"),
                                         processes)
    compute = sum(p["busy_s"] for p in timed.values())
    compute_cpu = sum(p["cpu_s"] for p in timed.values())
    load = sum(loads.values())
    return {
        "processes": processes,
        "load_s": {k: round(v, 3) for k, v in loads.items()},
        "load_cpu_s": round(load_cpu, 3),
        "phases": timed,
        "compute_s": round(compute, 3),
        "compute_cpu_s": round(compute_cpu, 3),
        "models_alone_s": round(compute + load, 3),
        "models_alone_cpu_s": round(compute_cpu + load_cpu, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.models", description="models-alone worker")
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    args = parser.parse_args()
    print(json.dumps(measure(args.project.resolve(), args.source, args.processes, tuple(args.phases))))


if __name__ == "__main__":
    main()


def run(corpus: str, n: int | None = None, processes: tuple[int, ...] = (1,), repeats: int = 3,
        min_bytes: int = 1_000_000, workdir: Path | None = None, repo: Path | None = None) -> dict[str, Any]:
    """Standalone: run the pipeline once (untimed) for its outputs, then the models alone `repeats` times."""
    import statistics
    import tempfile

    from bench import results
    from bench.machine import machine
    from bench.pipeline_run import corpus_size, prepare, run_models, run_pipeline
    from bench.project import REPO

    with tempfile.TemporaryDirectory(prefix="bench-models-", dir=workdir) as tmp:
        project, source = prepare(Path(tmp) / "project", corpus, n, min_bytes, repo=repo or REPO)
        run_pipeline(project, source)
        articles, chars = corpus_size(project, source)
        by_p: dict[str, Any] = {}
        for p in processes:
            runs = [run_models(project, source, p) for _ in range(repeats)]
            alone = statistics.median(r["models_alone_s"] for r in runs)
            by_p[str(p)] = {
                "models_alone_s": round(alone, 3),
                "compute_s": round(statistics.median(r["compute_s"] for r in runs), 3),
                "phases_busy_s": {k: round(statistics.median(r["phases"][k]["busy_s"] for r in runs), 3)
                                  for k in runs[0]["phases"]},
                "chars_per_s": round(chars / alone, 1),
                "runs": runs,
            }
    summary = {"bench": "models", "corpus": corpus, "n": n if corpus == "synthetic" else None, "articles": articles,
               "chars": chars, "repeats": repeats, "by_processes": by_p, "machine": machine()}
    results.append("models", summary)
    return summary
