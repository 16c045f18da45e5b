"""normalise and fingerprint with forked processes write the same bytes as with one.

Small batches, so that two processes really share the work of the bundled source; the batches
come back in order, so the files (and the counts in = out + rejected) are the one-process ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.fingerprint import fingerprint_source
from pipeline.normalise import NormaliseConfig, normalise_source
from tests.conftest import ingest_huaxia


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ingest_huaxia(tmp_path_factory.mktemp("forked"))


def _normalise(ingested: Path, out: Path, n_process: int) -> Path:
    out.mkdir()
    normalise_source("hx", ingested, out / "norm.parquet", out / "rej.jsonl", out / "m.json", NormaliseConfig(),
                     batch_size=3, n_process=n_process)
    return out


def test_normalise_with_two_processes_writes_the_same_bytes(ingested: Path, tmp_path: Path) -> None:
    one = _normalise(ingested, tmp_path / "one", 1)
    two = _normalise(ingested, tmp_path / "two", 2)
    for name in ("norm.parquet", "rej.jsonl", "m.json"):
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    metrics = json.loads((two / "m.json").read_text(encoding="utf-8"))
    assert metrics["in"] == 20 and metrics["in"] == metrics["out"] + metrics["rejected"]


def test_fingerprint_with_two_processes_writes_the_same_bytes(ingested: Path, tmp_path: Path) -> None:
    normalised = _normalise(ingested, tmp_path / "norm", 1) / "norm.parquet"
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    assert fingerprint_source(normalised, one, 5, batch_size=3, n_process=1) == 20
    assert fingerprint_source(normalised, two, 5, batch_size=3, n_process=2) == 20
    assert one.read_bytes() == two.read_bytes()
