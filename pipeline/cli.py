"""`python -m pipeline <command>`: the thin layer that dvc.yaml calls.

Commands read params.yaml, pick out plain arguments and call library functions; no library module
reads params.yaml itself, so every function can be used from a notebook with explicit arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline import paths
from pipeline.accounting import AllRejected


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def source_options(params: dict[str, Any], name: str) -> dict[str, Any]:
    sources = params.get("sources") or {}
    if name not in sources:
        raise SystemExit(f"error: no source named {name!r} under `sources:` in params.yaml "
                         f"(known: {', '.join(sorted(sources)) or 'none'})")
    return dict(sources[name])


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipeline.ingest import SourcePathError, ingest_source

    params = load_params(args.params)
    options = source_options(params, args.source)
    cfg = params.get("ingest") or {}
    try:
        tally = ingest_source(
            args.source,
            options,
            out_path=paths.ingested(args.source),
            rejects_path=paths.ingest_rejects(args.source),
            metrics_path=paths.stage_metrics("ingest", args.source),
            root=".",
            max_chars=int(cfg.get("max_chars", 200_000)),
        )
    except SourcePathError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(tally.summary())
    return 0


def cmd_normalise(args: argparse.Namespace) -> int:
    from pipeline.normalise import NormaliseConfig, normalise_source

    params = load_params(args.params)
    source_options(params, args.source)
    tally = normalise_source(
        args.source,
        paths.ingested(args.source),
        paths.normalised(args.source),
        paths.normalise_rejects(args.source),
        paths.stage_metrics("normalise", args.source),
        NormaliseConfig.from_params(params.get("normalise") or {}),
    )
    print(tally.summary())
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from pipeline.show import show

    print(show(load_params(args.params)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="read one source into Article rows (+ rejects)")
    p.add_argument("source")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("normalise", help="script conversion and cleaning for one source")
    p.add_argument("source")
    p.set_defaults(func=cmd_normalise)

    p = sub.add_parser("show", help="print the result table of the last stage that has run")
    p.set_defaults(func=cmd_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except AllRejected as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
