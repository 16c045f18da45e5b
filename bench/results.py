"""Benchmark results as JSON lines under bench/results/ (git-ignored), one file per benchmark."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def append(name: str, record: dict[str, Any], results_dir: Path = RESULTS_DIR) -> Path:
    """Append one record (stamped with the time) to `<results_dir>/<name>.jsonl`; return the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.jsonl"
    record = {"recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **record}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return path


def read(name: str, results_dir: Path = RESULTS_DIR) -> Iterator[dict[str, Any]]:
    """Every record of one benchmark, oldest first."""
    path = results_dir / f"{name}.jsonl"
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def latest(name: str, results_dir: Path = RESULTS_DIR, **match: Any) -> dict[str, Any] | None:
    """The newest record whose top-level fields equal `match`."""
    found = None
    for record in read(name, results_dir):
        if all(record.get(k) == v for k, v in match.items()):
            found = record
    return found
