"""The train_ner stage on a tiny corpus written for the tests (tests/data/ner/tiny_train.jsonl), the
trained model in the ner stage (`ner.model: trained | both`), and the disabled default.

The full training (CLUENER train, ~30 min) is a documented command, not a test: see docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
import yaml

from pipeline.ner import ner_pipeline
from pipeline.ner_trained import DISABLED_MARKER, ModelSpan, TrainedNer, map_label, merge_spans
from tests.conftest import REPO
from tests.dvc_helpers import clone_tree, dvc, read_params, stages_run, write_params

MODEL = REPO / "models" / "zh_pipeline"
KB = REPO / "data" / "kb"
TINY = "tests/data/ner/tiny_train.jsonl"
TINY_TRAIN = {"enabled": True, "corpus": {"path": TINY, "format": "jsonl"}, "eval": {"path": TINY, "format": "jsonl"},
              "heldout_fraction": 0.2, "max_steps": 30, "eval_frequency": 10, "patience": 30}


def _params_with(tmp: Path, train: dict) -> Path:
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["ner"]["train"] = {**params["ner"]["train"], **train}
    path = tmp / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    return path


def _train_ner(params: Path, out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pipeline", "--params", str(params), "train-ner", "--out", str(out / "model"),
           "--corpus-dir", str(out / "corpus"), "--metrics", str(out / "metrics.json")]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True,
                          env={"OMP_NUM_THREADS": "1", "NEWSLENS_PROGRESS": "0", "PATH": ""})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ner_trained")
    _train_ner(_params_with(out, TINY_TRAIN), out)
    return out


def test_training_writes_model_corpus_and_metrics(trained: Path) -> None:
    metrics = json.loads((trained / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["enabled"] and metrics["tokens"] == "word"
    assert metrics["steps"] == 30 and metrics["model_bytes"] > 0
    assert metrics["corpus"]["sentences"] == 40
    assert {"company", "ORG", "micro", "per_label"} <= set(metrics["eval"])
    assert sorted(p.name for p in (trained / "corpus").iterdir()) == ["eval.spacy", "heldout.spacy", "train.spacy"]
    nlp = spacy.load(trained / "model")  # a plain spaCy pipeline: no project code needed to load it
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert set(nlp.get_pipe("ner").labels) == {"company", "PER", "LOC", "ORG"}
    assert nlp.meta["newslens"]["tokens"] == "word"


def test_trained_model_predicts_valid_spans(trained: Path) -> None:
    from pipeline.nlp import load_nlp

    model = TrainedNer(trained / "model")
    texts = ["星河科技今天在杭州发布了新款手机，董事长陈立新出席发布会。", "", "  ", "A股"]
    docs = [load_nlp(MODEL).make_doc(t) for t in texts]
    for text, spans in zip(texts, model.predict_docs(docs), strict=True):
        for s in spans:
            assert 0 <= s.start < s.end <= len(text)
            assert s.label in {"ORG", "PER", "LOC"}
            assert s.is_company == (True if s.label == "ORG" else None) or s.label == "ORG"


@pytest.mark.parametrize("mode", ["trained", "both"])
def test_ner_pipeline_with_trained_model(trained: Path, mode: str) -> None:
    nlp = ner_pipeline(MODEL, KB, ner_model=mode, trained_path=trained / "model")
    assert ("trained_ner" in nlp.pipe_names) and (("lac_ner" in nlp.pipe_names) == (mode == "both"))
    text = "星河科技与腾讯在深圳签署了合作协议，董事长陈立新出席。"
    doc = nlp(text)
    assert ("腾讯", "tencent") in [(m.text, m.company_id) for m in doc._.mentions]  # the KB ruler still leads
    for m in doc._.mentions:
        assert text[m.start:m.end] == m.text
    ner_pipeline(MODEL, KB)  # back to the default for the other tests sharing load_nlp's cache


def test_label_map_and_merge() -> None:
    assert map_label("company", {"company": "company"}) == ("ORG", True)
    assert map_label("government", {"government": "ORG"}) == ("ORG", False)
    assert map_label("ORG", {}) == ("ORG", None)
    assert map_label("PRODUCT", {}) == ("PRODUCT", None)  # a user's own type passes through
    trained = [ModelSpan(0, 4, "ORG", True)]
    lac = [ModelSpan(0, 2, "ORG", None), ModelSpan(5, 7, "LOC", None)]
    assert merge_spans(trained, lac) == [ModelSpan(0, 4, "ORG", True), ModelSpan(5, 7, "LOC", None)]  # default
    assert merge_spans(trained, lac, first="lac") == lac  # LAC first: the overlapping trained span goes
    same = [ModelSpan(0, 2, "ORG", False), ModelSpan(8, 9, "PER", None)]
    assert merge_spans(same, lac) == [ModelSpan(0, 2, "ORG", False), ModelSpan(5, 7, "LOC", None),
                                      ModelSpan(8, 9, "PER", None)]


def test_disabled_stage_writes_a_stable_marker(tmp_path: Path) -> None:
    params = _params_with(tmp_path, {"enabled": False, "corpus": {"path": "../nowhere.json", "format": "cluener"}})
    a, b = tmp_path / "a", tmp_path / "b"
    assert "disabled" in _train_ner(params, a).stdout
    _train_ner(params, b)
    for rel in ("model/README.md", f"model/{DISABLED_MARKER}", "corpus/README.md", "metrics.json"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    assert json.loads((a / "metrics.json").read_text(encoding="utf-8")) == {"enabled": False}
    with pytest.raises(FileNotFoundError, match=r"ner\.train\.enabled"):
        ner_pipeline(MODEL, KB, ner_model="trained", trained_path=a / "model")
    ner_pipeline(MODEL, KB)


def test_dvc_train_params_do_not_rerun_ner_and_trained_ner_stage_runs(baseline_repo: Path, tmp_path: Path) -> None:
    root = clone_tree(baseline_repo, tmp_path / "repo")
    assert json.loads((root / "metrics" / "ner_trained.json").read_text(encoding="utf-8")) == {"enabled": False}
    # A train parameter edited while training is disabled: train_ner re-runs, writes the same marker,
    # and nothing downstream runs.
    params = read_params(root)
    params["ner"]["train"]["max_steps"] = 7
    write_params(root, params)
    assert stages_run(dvc(root, "repro").stdout) == {"train_ner"}
    # Enabled on the tiny corpus with ner.model: trained: the real stages train and use the model.
    params["ner"]["train"].update(TINY_TRAIN)
    params["ner"]["model"] = "trained"
    write_params(root, params)
    ran = stages_run(dvc(root, "repro", "ner@seed").stdout)
    assert ran == {"train_ner", "ner@seed"}
    import pandas as pd

    entities = pd.read_parquet(root / "data" / "entities" / "seed.parquet")
    assert len(entities) > 0 and set(entities["method"]) <= {"kb", "kb_char", "model"}


def test_kb_mention_inside_a_trained_company_span_takes_its_extent() -> None:
    from pipeline.company_matcher import Mention
    from pipeline.ner import widen_to_trained

    text = "交通银行深圳分行与招行合作"
    kb = [Mention(0, 4, "交通银行", "ORG", "bankcomm", "kb"), Mention(9, 11, "招行", "ORG", "cmb", "kb")]
    model = [ModelSpan(0, 8, "ORG", True), ModelSpan(0, 11, "ORG", True)]  # the second holds two KB mentions
    out = widen_to_trained(kb, model[:1], text)
    assert [(m.text, m.company_id) for m in out] == [("交通银行深圳分行", "bankcomm"), ("招行", "cmb")]
    assert widen_to_trained(kb, model[1:], text) == kb
    # LAC spans (no company opinion) never widen a KB mention
    assert widen_to_trained(kb, [ModelSpan(0, 8, "ORG", None)], text) == kb


def test_evaluate_ner_model_option() -> None:
    from pipeline.cli import _evaluate_models, build_parser

    def models(*argv: str, params: dict | None = None) -> tuple[str, str]:
        args = build_parser().parse_args(["evaluate", "ner", "--dataset", "cluener", "--data-dir", "x", *argv])
        return _evaluate_models(args, params or {})

    assert models() == ("models/zh_pipeline", "lac")
    assert models(params={"ner": {"model": "both"}}) == ("models/zh_pipeline", "both")
    assert models("--model", "trained") == ("models/zh_pipeline", "trained")
    assert models("--model", "some/pipeline") == ("some/pipeline", "lac")  # a path still names the pipeline
    assert models("--model", "both", "--pipeline-model", "p") == ("p", "both")


def test_missing_trained_model_is_one_message_not_a_traceback(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["ner"]["model"] = "trained"
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    missing = tmp_path / "no_model"
    args = ["--params", str(path), "evaluate", "ner", "--dataset", "cfsc-ner", "--data-dir", str(tmp_path),
            "--trained-model", str(missing)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no trained NER model at") and "Traceback" not in err
    assert "ner.model: lac" in err
    with pytest.raises(FileNotFoundError):  # still a FileNotFoundError for library callers
        TrainedNer(missing)
