"""`python -m bench <name> [options]`: run one benchmark, print its result as one JSON line and append
it to bench/results/<name>.jsonl (git-ignored).

    python -m bench segment                               segment stage vs raw pkuseg (in-process)
    python -m bench pipeline --corpus short               every stage, short news, 1 and 2 processes
    python -m bench pipeline --corpus synthetic --n 1000  every stage, N synthetic longer articles
    python -m bench models --corpus synthetic --n 1000    the models alone on the same text
    python -m bench memory --sizes 1000 50000             peak memory per stage, small vs large corpus
    python -m bench incremental                           dvc repro after adding a source vs full run
    python -m bench dask --n 2000                         per-article stages on Dask, 1 vs 2 workers
    python -m bench default                               what `make bench` runs
    python -m bench tables                                Markdown tables from the newest results
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("NEWSLENS_PROGRESS", "0")

REPO = Path(__file__).resolve().parent.parent


def _corpus_args(p: argparse.ArgumentParser, processes: tuple[int, ...]) -> None:
    p.add_argument("--corpus", choices=["short", "synthetic"], default="synthetic")
    p.add_argument("--n", type=int, default=1000, help="synthetic articles (default 1000)")
    p.add_argument("--min-bytes", type=int, default=1_000_000, help="short news: UTF-8 bytes to read")
    p.add_argument("--processes", type=int, nargs="+", default=list(processes))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=None, help="where the temporary project goes (default: $TMPDIR)")
    p.add_argument("--repo", type=Path, default=REPO,
                   help="copy code, configuration and models from this tree instead (e.g. a patched worktree)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="name", required=True)

    p = sub.add_parser("segment", help="segment stage vs raw pkuseg, in-process")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--min-bytes", type=int, default=1_000_000)

    p = sub.add_parser("pipeline", help="per-stage and end-to-end throughput, with the models-alone baseline")
    _corpus_args(p, (1, 2))
    p.add_argument("--no-models", action="store_true", help="skip the models-alone baseline")

    p = sub.add_parser("models", help="the models alone (pkuseg, LAC, score_document) on the pipeline's text")
    _corpus_args(p, (1,))

    p = sub.add_parser("memory", help="peak memory per stage, smallest vs largest synthetic corpus")
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 50000])
    p.add_argument("--limit", type=float, default=1.2)
    p.add_argument("--reuse", action="store_true", help="take one-process figures from earlier `pipeline` runs")

    p = sub.add_parser("incremental", help="dvc repro after adding one source vs the full run")
    p.add_argument("--sources", type=int, default=20)
    p.add_argument("--articles", type=int, default=100, help="synthetic articles per source")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--repo", type=Path, default=REPO, help="copy code, configuration and models from this tree")

    p = sub.add_parser("dask", help="per-article stages on a Dask cluster with 1 vs 2 workers (docs/scaling.md)")
    p.add_argument("--n", type=int, default=2000, help="synthetic articles (default 2000)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--partition-size", type=int, default=256)
    p.add_argument("--scheduler", choices=["bench-cluster", "local-cluster"], default="bench-cluster",
                   help="a cluster started by the bench per run (default), or one started by each stage")
    p.add_argument("--local", action="store_true", help="also run the local backend (1 process) as a reference")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--repo", type=Path, default=REPO, help="copy code, configuration and models from this tree")

    sub.add_parser("default", help="the `make bench` set: segment, pipeline on short news and on N=1000")
    sub.add_parser("tables", help="Markdown tables from the newest results")
    return parser


def run(args: argparse.Namespace) -> dict[str, Any] | list[dict[str, Any]] | str:
    if args.name == "segment":
        from bench import results, segment_throughput
        from bench.machine import machine

        result = segment_throughput.run(args.repeats, args.min_bytes)
        result["machine"] = machine()
        results.append("segment", result)
        return result
    if args.name == "pipeline":
        from bench import pipeline_run

        return pipeline_run.run(args.corpus, args.n, args.processes, args.repeats, args.min_bytes,
                                models=not args.no_models, workdir=args.workdir, repo=args.repo)
    if args.name == "models":
        from bench import models

        return models.run(args.corpus, args.n, tuple(args.processes), args.repeats, args.min_bytes, args.workdir,
                          args.repo)
    if args.name == "memory":
        from bench import memory

        return memory.run(args.sizes, args.reuse, args.limit)
    if args.name == "incremental":
        from bench import incremental

        return incremental.run(args.sources, args.articles, args.repeats, args.workdir, args.repo)
    if args.name == "dask":
        from bench import dask_run

        return dask_run.run(args.n, args.workers, args.repeats, args.partition_size, args.scheduler, args.local,
                            args.workdir, args.repo)
    if args.name == "default":
        return run_default()
    if args.name == "tables":
        from bench import tables

        return tables.render()
    raise SystemExit(f"unknown benchmark {args.name!r}")


DEFAULT_SET = (["segment"], ["pipeline", "--corpus", "short"], ["pipeline", "--corpus", "synthetic", "--n", "1000"])


def run_default() -> list[dict[str, Any]]:
    """Every benchmark of the default set; one that fails is reported and the others still run."""
    parser = build_parser()
    out: list[dict[str, Any]] = []
    for argv in DEFAULT_SET:
        try:
            result = run(parser.parse_args(argv))
        except RuntimeError as exc:  # a stage command failed: keep its message, go on
            result = {"bench": " ".join(argv), "error": str(exc)[-3000:]}
        assert isinstance(result, dict)
        out.append(result)
    return out


def main() -> None:
    result = run(build_parser().parse_args())
    if isinstance(result, str):
        print(result)
    else:
        items = result if isinstance(result, list) else [result]
        for item in items:
            print(json.dumps(item, ensure_ascii=False))
        if any("error" in item for item in items):
            raise SystemExit(1)


if __name__ == "__main__":
    main()
