"""Segment stage: words and sentence boundaries for every normalised article, as DocBin parts.

Segmentation is the slowest step, so the stage's own overhead is kept small (texts are read by
column batch, documents travel between processes as compact DocBin bytes) and the work can be spread
over several processes. Workers are forked after the model is loaded, so the model's memory is shared
and loaded once; chunks come back in submission order, so the output is identical for any process
count.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from spacy.language import Language
from spacy.tokens import DocBin

from pipeline.accounting import Tally
from pipeline.artefacts import write_json, write_jsonl
from pipeline.docstore import ATTRS, DocPartWriter, append_tokens
from pipeline.nlp import load_nlp
from pipeline.progress import progress
from pipeline.records import Reject

_NLP: Language | None = None  # set in the parent before forking; inherited by workers


def _segment_chunk(chunk: list[tuple[str, str]]) -> tuple[DocBin, list[str], list[tuple[str, str]]]:
    """Tokenize a chunk of (doc_id, text); return a DocBin, its doc ids, and the failures."""
    assert _NLP is not None
    tokenize = _NLP.tokenizer.tokenize  # type: ignore[attr-defined]
    out = DocBin(attrs=ATTRS)
    ids = []
    failures = []
    for doc_id, text in chunk:
        try:
            words, spaces, starts = tokenize(text)
        except Exception as exc:
            failures.append((doc_id, f"{type(exc).__name__}: {exc}"))
            continue
        append_tokens(out, words, spaces, starts)
        ids.append(doc_id)
    return out, ids, failures


def _segment_chunk_bytes(chunk: list[tuple[str, str]]) -> tuple[bytes, list[str], list[tuple[str, str]]]:
    """Worker-process variant: a DocBin travels between processes as its compact bytes."""
    out, ids, failures = _segment_chunk(chunk)
    return out.to_bytes(), ids, failures


def _chunks(path: Path, size: int) -> Iterator[list[tuple[str, str]]]:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=size, columns=["doc_id", "text"]):
        cols = batch.to_pydict()
        yield list(zip(cols["doc_id"], cols["text"], strict=True))


def segment_source(
    name: str,
    in_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    rejects_path: str | os.PathLike[str],
    metrics_path: str | os.PathLike[str],
    model_path: str | os.PathLike[str],
    n_process: int = 1,
    chunk_size: int = 64,
    part_size: int = 500,
) -> Tally:
    global _NLP
    _NLP = load_nlp(model_path)
    _NLP.tokenizer.ensure_loaded()  # type: ignore[attr-defined]  (before the fork: shared, loaded once)
    tally = Tally(name, "segment")
    rejects: list[dict[str, Any]] = []
    total = pq.ParquetFile(in_path).metadata.num_rows
    chunks = _chunks(Path(in_path), chunk_size)
    pool = mp.get_context("fork").Pool(n_process) if n_process > 1 else None
    try:
        results = pool.imap(_segment_chunk_bytes, chunks) if pool else map(_segment_chunk, chunks)
        with DocPartWriter(out_dir, part_size) as writer, progress(total, f"segment@{name}") as bar:
            for data, ids, failures in results:
                chunk = DocBin().from_bytes(data) if isinstance(data, bytes) else data
                writer.add_docbin(chunk, ids)
                tally.records_in += len(chunk) + len(failures)
                tally.records_out += len(chunk)
                for doc_id, why in failures:
                    tally.reject("segmentation_failed", why)
                    rejects.append(Reject(name, "segment", doc_id, "segmentation_failed", why,
                                          doc_id=doc_id).to_row())
                bar.update(len(chunk) + len(failures))
    finally:
        if pool:
            pool.close()
            pool.join()
    write_jsonl(rejects_path, rejects)
    write_json(metrics_path, tally.as_metrics())
    tally.check()
    return tally
