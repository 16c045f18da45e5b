"""`dvc repro --force` reproduces every output byte for byte, for any process count and any checkout.

Four forced runs of the whole pipeline in a clone of the baseline (normalise, fingerprint, segment,
ner and sentiment n_process = 1 twice, then = 2 twice) must record the same md5 for every out in dvc.lock (data,
models, metrics and plots), and the same md5s as the baseline itself, which was built in another
directory: nothing may depend on hash seeds, process scheduling, time or the project's location.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.dvc_helpers import clone_tree, dvc, read_params, write_params

pytestmark = pytest.mark.slow


def out_md5s(root: Path) -> dict[str, str]:
    lock = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))
    return {out["path"]: out["md5"] for stage in lock["stages"].values() for out in stage.get("outs", [])}


def differences(a: dict[str, str], b: dict[str, str]) -> dict[str, tuple[str | None, str | None]]:
    return {path: (a.get(path), b.get(path)) for path in sorted(a.keys() | b.keys()) if a.get(path) != b.get(path)}


def test_forced_repro_is_byte_identical(baseline_repo: Path, tmp_path: Path) -> None:
    root = clone_tree(baseline_repo, tmp_path / "elsewhere" / "repo")
    baseline = out_md5s(root)
    assert any(p.startswith("data/segmented/") for p in baseline) and "reports/index.html" in baseline
    runs: dict[str, dict[str, str]] = {}
    for n_process in (1, 2):
        params = read_params(root)
        for stage in ("normalise", "fingerprint", "segment", "ner", "sentiment"):
            params.setdefault(stage, {})["n_process"] = n_process
        write_params(root, params)
        for attempt in (1, 2):
            dvc(root, "repro", "--force")
            runs[f"n_process={n_process} run {attempt}"] = out_md5s(root)
    first = runs["n_process=1 run 1"]
    for name, md5s in runs.items():
        assert differences(first, md5s) == {}, f"{name} differs from n_process=1 run 1"
    assert differences(baseline, first) == {}, "a clone in another directory differs from the baseline"


def test_sentiment_with_two_scoring_processes_writes_the_same_bytes(baseline_repo: Path, tmp_path: Path) -> None:
    """Small chunks, so that the forked scorers really share the work; rows come back in order."""
    from pipeline.sentiment import SentimentConfig
    from pipeline.sentiment_stage import sentiment_source

    out = {}
    for n in (1, 2):
        path = tmp_path / f"p{n}.parquet"
        sentiment_source("huaxia_wire", baseline_repo / "data/segmented/huaxia_wire",
                         baseline_repo / "data/entities/huaxia_wire.parquet",
                         baseline_repo / "data/normalised/huaxia_wire.parquet", path, tmp_path / f"p{n}.json",
                         baseline_repo / "models/lexicons", SentimentConfig(), chunk_size=3, n_process=n)
        out[n] = path.read_bytes()
    assert out[1] == out[2]
    assert out[1] == (baseline_repo / "data/sentiment/huaxia_wire.parquet").read_bytes()
