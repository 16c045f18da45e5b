"""Segment stage throughput against raw pkuseg on the same text (issue: segmentation).

    python -m bench segment [--repeats 3] [--min-bytes 1000000]

Raw: `spacy_pkuseg.pkuseg(<the pinned model in the library's layout>).cut(text)` per article
(pkuseg's own default dictionary post-processing included, no company words). Stage:
`pipeline.segment.segment_source` on the same articles, already normalised into a Parquet file, with
1 and 2 processes; its time includes reading the Parquet file, the words' alignment, sentence boundaries and
writing the DocBin parts, but not the one-off model load (reported separately). Medians over the repeats.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import short_news
from bench.reference import library_model_dir
from pipeline.artefacts import write_parquet
from pipeline.execution import worker_state
from pipeline.normalise import NormaliseConfig, Normaliser
from pipeline.records import NORMALISED_SCHEMA
from pipeline.segment import SegmentModel, segment_source

MODEL = Path("models/zh_pipeline")


def _normalised_file(texts: list[str], path: Path) -> int:
    normaliser = Normaliser(NormaliseConfig())
    rows = []
    chars = 0
    for i, text in enumerate(texts):
        n = normaliser.normalise(text)
        chars += len(n.text)
        rows.append({"doc_id": f"b:{i}", "source": "b", "native_id": str(i), "url": None, "title": None,
                     "title_original": None, "published_at": None, "text": n.text, "text_original": text,
                     "offsets": n.anchors, "script": n.script, "opencc": n.opencc, "flags": n.flags,
                     "removed_lines": 0, "encoding": "utf-8", "content_sha256": ""})
    write_parquet(path, rows, NORMALISED_SCHEMA)
    return chars


def run(repeats: int = 3, min_bytes: int = 1_000_000) -> dict[str, Any]:
    import spacy_pkuseg

    texts = short_news(min_bytes)
    t0 = time.perf_counter()
    # Loaded once here, as the stage's worker cache keeps it: the stage timings below exclude loading.
    worker_state(SegmentModel(str(Path(MODEL).resolve())))
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        raw = spacy_pkuseg.pkuseg(str(library_model_dir(Path(tmp) / "pkuseg")))
        src = Path(tmp) / "norm.parquet"
        chars = _normalised_file(texts, src)
        norm_texts = [t for t in (Normaliser(NormaliseConfig()).normalise(x).text for x in texts)]
        raw_times, stage = [], {1: [], 2: []}
        for _ in range(repeats):
            t = time.perf_counter()
            for text in norm_texts:
                raw.cut(text)
            raw_times.append(time.perf_counter() - t)
            for n in (1, 2):
                out = Path(tmp) / f"out{n}"
                t = time.perf_counter()
                segment_source("b", src, out / "seg", out / "r.jsonl", out / "m.json", MODEL, n_process=n)
                stage[n].append(time.perf_counter() - t)
    raw_s = statistics.median(raw_times)
    res = {
        "bench": "segment",
        "articles": len(texts),
        "chars": chars,
        "utf8_bytes": sum(len(t.encode("utf-8")) for t in norm_texts),
        "repeats": repeats,
        "model_load_s": round(load_s, 2),
        "raw_pkuseg_chars_per_s": round(chars / raw_s),
    }
    for n, times in stage.items():
        res[f"stage_{n}proc_chars_per_s"] = round(chars / statistics.median(times))
    res["stage_1proc_vs_raw"] = round(res["stage_1proc_chars_per_s"] / res["raw_pkuseg_chars_per_s"], 3)
    res["stage_2proc_vs_1proc"] = round(res["stage_2proc_chars_per_s"] / res["stage_1proc_chars_per_s"], 3)
    return res


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False))
