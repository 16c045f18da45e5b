"""The segment stage on a bundled source: complete, ordered, identical for any process count."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from spacy.tokens import DocBin

from pipeline.docbin_tokens import count_docs, part_paths
from pipeline.docstore import iter_docs
from pipeline.nlp import load_nlp
from pipeline.normalise import NormaliseConfig, normalise_source
from pipeline.segment import segment_source
from tests.conftest import REPO, ingest_huaxia

MODEL = REPO / "models" / "zh_pipeline"


@pytest.fixture(scope="module")
def normalised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("seg")
    normalise_source("hx", ingest_huaxia(d), d / "norm.parquet", d / "norm.rej", d / "norm.json", NormaliseConfig())
    return d / "norm.parquet"


def _run(normalised: Path, out: Path, n_process: int, part_size: int = 8) -> None:
    segment_source("hx", normalised, out / "seg", out / "rej.jsonl", out / "m.json", MODEL,
                   n_process=n_process, chunk_size=3, part_size=part_size)


def test_segment_is_complete_and_ordered(normalised: Path, tmp_path: Path) -> None:
    _run(normalised, tmp_path, n_process=1)
    texts = pd.read_parquet(normalised, columns=["doc_id", "text"])
    nlp = load_nlp(MODEL)
    docs = list(iter_docs(tmp_path / "seg", nlp.vocab))
    assert [d.user_data["doc_id"] for d in docs] == list(texts["doc_id"])
    assert [d.text for d in docs] == list(texts["text"])
    assert all(d.has_annotation("SENT_START") for d in docs)
    assert len(part_paths(tmp_path / "seg")) == 3  # 20 docs in parts of >= 8, cut at chunk boundaries
    assert count_docs(tmp_path / "seg") == 20
    assert len(DocBin().from_disk(part_paths(tmp_path / "seg")[0])) >= 8
    metrics = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    assert metrics == {"in": 20, "out": 20, "rejected": 0, "rejected_by_reason": {}}


def test_two_processes_give_identical_bytes(normalised: Path, tmp_path: Path) -> None:
    _run(normalised, tmp_path / "one", n_process=1)
    _run(normalised, tmp_path / "two", n_process=2)
    one = [p.read_bytes() for p in part_paths(tmp_path / "one" / "seg")]
    two = [p.read_bytes() for p in part_paths(tmp_path / "two" / "seg")]
    assert one and one == two
