"""Ingest stage: run a source's adapter and write Article rows plus a rejects file.

Everything the adapter yields is either an Article (written) or a Reject (written to the rejects
file with its reason); records that pass the adapter but cannot be used downstream (duplicate id,
over-long text) are rejected here, so `in = out + rejected` holds per source.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pipeline.accounting import Tally
from pipeline.artefacts import ParquetBatchWriter, write_json, write_jsonl
from pipeline.records import ARTICLE_SCHEMA, Article, Reject
from pipeline.sources import get_adapter
from pipeline.sources.common import valid_str


class SourcePathError(ValueError):
    """A source path that is missing, or outside the project without permission."""


def resolve_source_path(
    name: str, path: str, root: str | os.PathLike[str], allow_outside: bool = False
) -> Path:
    """The source's path, refused if it leaves `root` (directly or through a symlink).

    A params.yaml edit must not make the pipeline read /etc or a user's home by accident; a user who
    means it sets `allow_outside: true` on that source.
    """
    root_path = Path(root).resolve()
    given = Path(path)
    candidate = given if given.is_absolute() else root_path / given
    if not candidate.exists():
        raise SourcePathError(f"source {name!r}: path {path!r} does not exist")
    resolved = candidate.resolve()
    if not allow_outside:
        if not resolved.is_relative_to(root_path):
            raise SourcePathError(
                f"source {name!r}: path {path!r} resolves to {resolved}, outside the project {root_path}; "
                "set allow_outside: true on the source to read it anyway"
            )
        if any(p.is_symlink() for p in [candidate, *candidate.parents] if p.is_relative_to(root_path)):
            raise SourcePathError(
                f"source {name!r}: path {path!r} goes through a symlink; set allow_outside: true to follow it"
            )
    return resolved


def ingest_source(
    name: str,
    options: dict[str, Any],
    out_path: str | os.PathLike[str],
    rejects_path: str | os.PathLike[str],
    metrics_path: str | os.PathLike[str],
    root: str | os.PathLike[str] = ".",
    max_chars: int = 200_000,
    batch_size: int = 256,
) -> Tally:
    fmt = options.get("format")
    if not fmt:
        raise ValueError(f"source {name!r} has no `format`")
    adapter = get_adapter(fmt)
    path = resolve_source_path(name, options["path"], root, bool(options.get("allow_outside", False)))
    tally = Tally(name, "ingest")
    rejects: list[dict[str, Any]] = []
    seen: set[str] = set()

    # Origins are written relative to the project, so that the artefacts do not depend on where the
    # project is checked out (a clone, a `dvc exp run --temp` workspace) nor reveal the user's paths.
    root_prefix = str(Path(root).resolve()) + os.sep

    def relative(text: str) -> str:
        return text.replace(root_prefix, "")

    def reject(r: Reject) -> None:
        # An origin can be a file name that is not UTF-8 (GBK names unpacked from a zip): escaped, so
        # that the rejects file can still be written.
        row = {k: relative(valid_str(v)) if isinstance(v, str) else v for k, v in r.to_row().items()}
        tally.reject(r.reason, row["detail"])
        rejects.append(row)

    with ParquetBatchWriter(out_path, ARTICLE_SCHEMA) as writer:
        batch: list[dict[str, Any]] = []
        # The adapter also gets max_chars, so that it can refuse a gigantic page before parsing it.
        for record in adapter(name, path, {**options, "max_chars": max_chars}):
            tally.records_in += 1
            if isinstance(record, Reject):
                reject(record)
                continue
            assert isinstance(record, Article)
            record.origin = relative(record.origin)
            if record.doc_id in seen:
                reject(Reject(name, "ingest", record.origin, "duplicate_id",
                              f"id {record.native_id!r} seen earlier in this source", doc_id=record.doc_id))
                continue
            if len(record.text) > max_chars:
                reject(Reject(name, "ingest", record.origin, "too_long",
                              f"{len(record.text)} characters > ingest.max_chars={max_chars}",
                              doc_id=record.doc_id))
                continue
            seen.add(record.doc_id)
            batch.append(record.to_row())
            tally.records_out += 1
            if len(batch) >= batch_size:
                writer.write_rows(batch)
                batch = []
        writer.write_rows(batch)
    write_jsonl(rejects_path, rejects)
    write_json(metrics_path, tally.as_metrics())
    tally.check()
    return tally
