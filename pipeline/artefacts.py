"""Atomic, deterministic artefact writing.

Every artefact is written to a temporary file in the destination folder and renamed into place, so a
stage killed mid-write never leaves a partial file for DVC to accept. Writers avoid anything that
varies between runs (timestamps, dict order, thread timing) so that identical inputs give identical
bytes and `dvc repro --force` reproduces dvc.lock exactly.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.abc
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

_UMASK = os.umask(0)
os.umask(_UMASK)


class _PandasHidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is hidden while pyarrow checks for it (pipeline.artefacts)")
        return None


def skip_pandas_probe() -> None:
    """Let this process's first Python-to-Arrow conversion run without importing pandas.

    pyarrow checks once per process, at the first `pa.array` / `Table.from_pylist`, whether pandas is
    installed (so as to recognise a Series among its inputs), and the check is an `import pandas`:
    0.3-0.8 s in every stage process that writes a Parquet file, most of which never use pandas.
    Here the check runs once with pandas made unimportable, so pyarrow records "no pandas" for its
    input sniffing; everything that really needs pandas (`Table.to_pandas`, `Table.from_pandas`,
    `pd.read_parquet`) imports it again on first use, which tests/test_artefacts.py checks. The CLI
    calls this before a command runs; a process that has imported pandas already is left alone.
    (Converting a value whose Arrow type pyarrow must infer still imports pandas, from its C++ side:
    stages give types, as ParquetBatchWriter's schema does.)
    """
    if "pandas" in sys.modules:
        return
    finder = _PandasHidden()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([], type=pa.null())
    finally:
        sys.meta_path.remove(finder)


def stale_temp_paths(dest: Path, suffix: str = ".tmp") -> list[Path]:
    """Temp files (or folders) that earlier writes of `dest` left when they were killed: exactly the
    names tempfile gives with prefix `.{dest.name}.` (eight random characters) and `suffix`."""
    name = re.compile(rf"\.{re.escape(dest.name)}\.[a-z0-9_]{{8}}{re.escape(suffix)}")
    return sorted(p for p in dest.parent.glob(f".{glob.escape(dest.name)}.*") if name.fullmatch(p.name))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it over `path` only if the block succeeds.

    A write killed with SIGKILL leaves its temp file behind; the next write of the same artefact
    removes it (one stage writes each artefact, so no other writer can own it), so that stale files
    do not pile up in folders that DVC hashes as a whole (data/normalised, data/sentiment).
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    for stale in stale_temp_paths(dest):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; artefacts are ordinary files
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, dest)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    encoding = None if "b" in mode else "utf-8"
    newline = None if "b" in mode else "\n"
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding, newline=newline) as fh:
        yield fh


def write_json(path: str | os.PathLike[str], obj: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    with atomic_open(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            fh.write("\n")
            n += 1
    return n


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class ParquetBatchWriter:
    """Stream row batches into one Parquet file, atomically.

    Stages hand over batches as they go so memory stays flat in the number of articles.
    """

    def __init__(self, path: str | os.PathLike[str], schema: pa.Schema) -> None:
        self.path = Path(path)
        self.schema = schema
        self.rows = 0
        self._ctx = atomic_path(self.path)
        self._writer: pq.ParquetWriter | None = None

    def __enter__(self) -> ParquetBatchWriter:
        tmp = self._ctx.__enter__()
        self._writer = pq.ParquetWriter(
            tmp, self.schema, compression="zstd", write_statistics=False, store_schema=True
        )
        return self

    def write_rows(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        assert self._writer is not None
        self._writer.write_table(pa.Table.from_pylist(rows, schema=self.schema))
        self.rows += len(rows)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        assert self._writer is not None
        self._writer.close()
        return self._ctx.__exit__(exc_type, exc, tb)


def write_parquet(path: str | os.PathLike[str], rows: list[dict[str, Any]], schema: pa.Schema) -> None:
    with ParquetBatchWriter(path, schema) as writer:
        writer.write_rows(rows)


def iter_parquet_rows(path: str | os.PathLike[str], batch_size: int = 256,
                      columns: list[str] | None = None) -> Iterator[list[dict[str, Any]]]:
    """Yield the rows of a Parquet file batch by batch (only `columns`, when given: the others are
    never decoded)."""
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
        yield batch.to_pylist()
