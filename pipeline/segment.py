"""Segment stage: words and sentence boundaries for every normalised article, as DocBin parts.

Segmentation is the slowest step, so the stage's own overhead is kept small (texts are read by
column batch; spaCy is not imported: the segmenter and the part writer need none of it; documents
travel between processes as plain word lists and are hashed once per part) and the work can be spread
over several processes or Dask workers (pipeline.execution): the model is loaded once per process,
chunks come back in submission order, so the output is identical for any process count or backend.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pipeline.accounting import Tally
from pipeline.artefacts import write_json, write_jsonl
from pipeline.docparts import DocPartWriter, PartBuilder, read_symbol_table
from pipeline.execution import ExecutionSettings, map_chunks
from pipeline.progress import progress
from pipeline.records import Reject
from pipeline.segmenter import Segmenter


@dataclass(frozen=True)
class SegmentModel:
    """What a worker needs to segment: the built pipeline's segmenter, loaded once per process."""

    model_path: str

    def build(self) -> Segmenter:
        seg = Segmenter.from_pipeline(self.model_path)
        seg.load()  # lazy otherwise; loaded before any fork
        return seg


def _segment_chunk(seg: Segmenter,
                   chunk: list[tuple[str, str]]) -> tuple[PartBuilder, list[str], list[tuple[str, str]]]:
    """Tokenize a chunk of (doc_id, text); return its documents, their ids, and the failures."""
    out = PartBuilder()
    ids = []
    failures = []
    for doc_id, text in chunk:
        try:
            words, spaces, starts = seg.tokenize(text)
        except Exception as exc:
            failures.append((doc_id, f"{type(exc).__name__}: {exc}"))
            continue
        out.add(words, spaces, starts)
        ids.append(doc_id)
    return out, ids, failures


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
    execution: ExecutionSettings | None = None,
) -> Tally:
    """Segment one source; `n_process` (local backend) and `execution` change where, never what."""
    execution = execution or ExecutionSettings()
    spec = SegmentModel(str(Path(model_path).resolve()))
    tally = Tally(name, "segment")
    rejects: list[dict[str, Any]] = []
    total = pq.ParquetFile(in_path).metadata.num_rows
    symbols: Mapping[str, int] = read_symbol_table(model_path)
    results = map_chunks(_segment_chunk, spec, _chunks(Path(in_path), chunk_size), execution, n_process)
    with DocPartWriter(out_dir, symbols, part_size) as writer, progress(total, f"segment@{name}") as bar:
        for chunk, ids, failures in results:
            writer.add(chunk, ids)
            tally.records_in += len(chunk) + len(failures)
            tally.records_out += len(chunk)
            for doc_id, why in failures:
                tally.reject("segmentation_failed", why)
                rejects.append(Reject(name, "segment", doc_id, "segmentation_failed", why,
                                      doc_id=doc_id).to_row())
            bar.update(len(chunk) + len(failures))
    write_jsonl(rejects_path, rejects)
    write_json(metrics_path, tally.as_metrics())
    tally.check()
    return tally
