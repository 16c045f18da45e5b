"""Learned target sentiment: input rendering, corpus readers, and a real (tiny) training run.

The training sentences below were written for these tests (short financial-news style, one target
in ⟨ ⟩ each); the model trained on them is thrown away with the temporary directory.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.evaluation.sentiment import LABELS, TargetExample, evaluate_sentiment
from pipeline.sentiment_learned import (
    META_KEY,
    InputConfig,
    LearnedScorer,
    Renderer,
    TrainExample,
    build_corpus,
    read_finnsp_train,
    read_sentence_set,
    split_dev,
    train,
    train_sentiment,
)
from tests.conftest import REPO

CONFIG = REPO / "configs" / "sentiment_textcat.cfg"

POSITIVE = [
    "⟨华为⟩营收大增，净利润同比增长三成。",
    "⟨比亚迪⟩股价大涨，市值创历史新高。",
    "⟨宁德时代⟩业绩超预期，盘中涨停。",
    "⟨腾讯⟩净利润增长，回购股份提振信心。",
    "⟨小米集团⟩销量大增，股价上涨逾五成。",
    "⟨美团⟩营收增长强劲，利润创新高。",
    "⟨京东⟩中标大单，股价大涨。",
    "⟨拼多多⟩业绩大增，盘后股价大涨。",
    "⟨海尔智家⟩利润增长，分红提高。",
    "⟨格力电器⟩获机构增持，股价上涨。",
    "⟨招商银行⟩净利润同比增长，资产质量改善。",
    "⟨中芯国际⟩订单饱满，营收创新高。",
]
NEGATIVE = [
    "⟨恒大⟩巨额亏损，股价暴跌。",
    "⟨乐视⟩债务违约，被立案调查。",
    "⟨瑞幸⟩财务造假，股价暴跌。",
    "⟨獐子岛⟩业绩亏损，遭监管处罚。",
    "⟨康美药业⟩涉嫌违规，股价跌停。",
    "⟨蔚来⟩亏损扩大，股价下跌。",
    "⟨小资钱包⟩涉嫌诈骗，平台暴雷。",
    "⟨苏宁⟩净利润大幅下降，亏损扩大。",
    "⟨华夏幸福⟩债务违约，股价跌停。",
    "⟨万达⟩被罚款，经营风险上升。",
    "⟨唯品会⟩营收下滑，股价暴跌。",
    "⟨某证券⟩违规被罚，遭立案调查。",
]
NEUTRAL = [
    "⟨中国平安⟩发布公告，召开股东大会。",
    "⟨阿里巴巴⟩在互动平台表示，公司经营正常。",
    "⟨工商银行⟩公布董事会换届安排。",
    "⟨中国石油⟩将于下周披露季度报告。",
    "⟨百度⟩回复投资者提问，介绍产品情况。",
    "⟨网易⟩发布公告，变更公司注册地址。",
    "⟨联想集团⟩召开发布会，介绍新品参数。",
    "⟨中信证券⟩公布董事会决议公告。",
    "⟨长城汽车⟩表示将按计划披露信息。",
    "⟨万科⟩发布公告，聘任公司秘书。",
    "⟨携程⟩在互动平台回复投资者提问。",
    "⟨顺丰控股⟩公布股东大会通知。",
]
# Held out: no training sentence has these companies or these exact texts.
HELD_OUT = [
    ("⟨吉利汽车⟩净利润大增，股价大涨，创历史新高。", "positive"),
    ("⟨某地产⟩巨额亏损，债务违约，股价暴跌。", "negative"),
]


def marked(sentence: str) -> TargetExample:
    """"a⟨T⟩b" → TargetExample("aTb", len(a), len(a) + len(T), "T")."""
    start = sentence.index("⟨")
    end = sentence.index("⟩") - 1
    text = sentence.replace("⟨", "").replace("⟩", "")
    return TargetExample(text, start, end, text[start:end])


def tiny_corpus() -> list[TrainExample]:
    out = []
    for label, sentences in (("positive", POSITIVE), ("negative", NEGATIVE), ("neutral", NEUTRAL)):
        out.extend(TrainExample(marked(s), label, "tiny") for s in sentences)
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("textcat") / "model"
    metrics = train(tiny_corpus(), out, CONFIG, seed=0, max_epochs=15, dev_fraction=0.0)
    return out, metrics


# -- rendering ---------------------------------------------------------------------------------------------


def test_render_marks_crops_and_normalises() -> None:
    text = "第一句无关。前文：騰訊營收大增，股價上漲。另一家公司亏损。最后一句。"
    start = text.index("騰訊")
    ex = TargetExample(text, start, start + 2, "騰訊")
    assert Renderer(InputConfig(sentences=0)).render(ex) == "前文：⦃腾讯⦄营收大增，股价上涨。"
    wider = "第一句无关。前文：⦃腾讯⦄营收大增，股价上涨。另一家公司亏损。"
    assert Renderer(InputConfig(sentences=1)).render(ex) == wider
    assert Renderer(InputConfig(sentences=0, marker="placeholder")).render(ex) == "前文：⦃⦄营收大增，股价上涨。"
    assert Renderer(InputConfig(sentences=0, marker="none")).render(ex) == "前文：腾讯营收大增，股价上涨。"
    assert Renderer(InputConfig(crop="window", window=2)).render(ex) == "前文：⦃腾讯⦄营收"[1:]
    # a sentence-level example (no target) is the whole normalised text, unmarked
    assert Renderer(InputConfig()).render(TargetExample("騰訊。", 0, 0, "")) == "腾讯。"
    with pytest.raises(ValueError, match="marker"):
        InputConfig(marker="bold")


# -- corpus ------------------------------------------------------------------------------------------------


def test_corpus_readers(tmp_path: Path) -> None:
    nsp = tmp_path / "finnsp.json"
    nsp.write_text(json.dumps([
        ["a1", "", "众车在线涉嫌非法吸收公众存款。恒丰银行发布公告。", "众车在线;恒丰银行", "1", "众车在线"],
        ["\ufeffid", "title", "text", "entity", "negative", "key_entity"],
    ], ensure_ascii=False), encoding="utf-8")
    assert [(t.example.target, t.label) for t in read_finnsp_train(nsp)] == [
        ("众车在线", "negative"), ("恒丰银行", "neutral")]
    assert [t.label for t in read_finnsp_train(nsp, "drop")] == ["negative"]

    finne = tmp_path / "finne.json"
    finne.write_text(json.dumps([["营收大增", "1.0"], ["trainingSourceData", "Sentiment"], ["亏损扩大", "0.0"],
                                 ["召开会议", "0.5"]], ensure_ascii=False), encoding="utf-8")
    rows = read_sentence_set("finne", finne)
    assert [(r.example.text, r.example.end, r.label) for r in rows] == [
        ("营收大增", 0, "positive"), ("亏损扩大", 0, "negative"), ("召开会议", 0, "neutral")]

    corpus = build_corpus({"finnsp": {"path": "finnsp.json", "limit": 1}, "finne": {"path": "finne.json"},
                           "finfe": {"path": "none.json", "enabled": False}}, root=tmp_path)
    assert [c.source for c in corpus] == ["finnsp", "finne", "finne", "finne"]
    with pytest.raises(ValueError, match="unknown training source"):
        build_corpus({"cfsc-absa": {"path": "test.txt"}}, root=tmp_path)


def test_dev_split_is_by_text_and_stable() -> None:
    corpus = tiny_corpus() * 2  # every text twice: both copies must land on the same side
    train_a, dev_a = split_dev(corpus, 0.3)
    _, dev_b = split_dev(list(reversed(corpus)), 0.3)
    assert {t.example.text for t in train_a}.isdisjoint({t.example.text for t in dev_a})
    assert {t.example.text for t in dev_a} == {t.example.text for t in dev_b}
    assert 0 < len(dev_a) < len(corpus)


# -- training and prediction -------------------------------------------------------------------------------


def test_training_writes_a_plain_spacy_model(trained: tuple[Path, dict]) -> None:
    out, metrics = trained
    assert (out / "config.cfg").is_file() and (out / "meta.json").is_file()
    assert not list(out.rglob("*.pkl")) and not list(out.rglob("*.pickle"))
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert meta[META_KEY]["labels"] == list(LABELS)
    assert meta[META_KEY]["input"]["marker"] == "mark"
    assert metrics["train_examples"] == 36 and metrics["dev_examples"] == 0
    assert metrics["epochs_run"] == 15 and metrics["model_bytes"] > 0


def test_predictions_are_valid_and_obvious_cases_right(trained: tuple[Path, dict]) -> None:
    scorer = LearnedScorer(trained[0])
    examples = [marked(s) for s, _ in HELD_OUT]
    preds = scorer.predict(examples)
    assert len(preds) == 2
    for label, score in preds:
        assert label in LABELS and -1.0 <= score <= 1.0
    assert [label for label, _ in preds] == [gold for _, gold in HELD_OUT]
    assert preds[0][1] > 0 > preds[1][1]


def test_same_seed_same_predictions(trained: tuple[Path, dict], tmp_path: Path) -> None:
    again = tmp_path / "again"
    train(tiny_corpus(), again, CONFIG, seed=0, max_epochs=15, dev_fraction=0.0)
    probe = [marked(s) for s, _ in HELD_OUT] + [marked(s) for s in NEUTRAL[:3]]
    assert LearnedScorer(trained[0]).predict(probe) == LearnedScorer(again).predict(probe)


def test_scorer_plugs_into_the_evaluation(trained: tuple[Path, dict], tmp_path: Path) -> None:
    items = []
    for sentence, gold in HELD_OUT:
        ex = marked(sentence)
        items.append({"sentence": ex.text + "\n", "Level 1 aspect": "Corporate", "term": ex.target, "polarity": gold,
                      "from": ex.start, "to": ex.end})
    (tmp_path / "test.txt").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    result = evaluate_sentiment("cfsc-absa", tmp_path, LearnedScorer(trained[0]).predict)
    assert result["targets"] == 2 and result["accuracy"] == 1.0


def test_train_sentiment_entry_and_errors(tmp_path: Path) -> None:
    rows = [[s.replace("⟨", "").replace("⟩", ""), label]
            for label, group in (("1.0", POSITIVE), ("0.0", NEGATIVE), ("0.5", NEUTRAL)) for s in group]
    (tmp_path / "finne.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    metrics = train_sentiment({"corpus": {"finne": {"path": "finne.json", "target": "none"}}, "max_epochs": 2,
                               "dev_fraction": 0.25, "config": str(CONFIG)},
                              tmp_path / "model", root=tmp_path, metrics_path=tmp_path / "metrics.json")
    assert metrics["dev_examples"] > 0 and "finne" in metrics["dev"]
    assert json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))["train_examples"] == 36 - \
        metrics["dev_examples"]
    assert (tmp_path / "model" / "meta.json").is_file()

    with pytest.raises(FileNotFoundError):
        LearnedScorer(tmp_path / "missing")
    with pytest.raises(ValueError, match="no training examples"):
        train([], tmp_path / "empty", CONFIG)


# -- the sentiment stage with sentiment.method learned / ensemble ---------------------------------------


def _stage(repo: Path, out: Path, **kwargs: object) -> list[dict]:
    import pyarrow.parquet as pq

    from pipeline.sentiment import SentimentConfig
    from pipeline.sentiment_stage import sentiment_source

    sentiment_source("huaxia_wire", repo / "data/segmented/huaxia_wire", repo / "data/entities/huaxia_wire.parquet",
                     repo / "data/normalised/huaxia_wire.parquet", out, out.with_suffix(".json"),
                     repo / "models/lexicons", SentimentConfig(), **kwargs)
    return pq.read_table(out).to_pylist()


def test_stage_methods_learned_and_ensemble(baseline_repo: Path, trained: tuple[Path, dict], tmp_path: Path) -> None:
    lexicon = _stage(baseline_repo, tmp_path / "lexicon.parquet")
    learned = _stage(baseline_repo, tmp_path / "learned.parquet", method="learned", learned_model=trained[0])
    ensemble = _stage(baseline_repo, tmp_path / "ensemble.parquet", method="ensemble", learned_model=trained[0],
                      learned_weight=0.25)
    key = [(r["doc_id"], r["level"], r["company_id"]) for r in lexicon]
    assert key == [(r["doc_id"], r["level"], r["company_id"]) for r in learned]  # same rows, other scores
    assert {r["method"] for r in learned} == {"learned"} and {r["method"] for r in ensemble} == {"ensemble"}
    assert any(a["score"] != b["score"] for a, b in zip(lexicon, learned, strict=True))
    for lex, lea, ens in zip(lexicon, learned, ensemble, strict=True):
        assert -1.0 <= lea["score"] <= 1.0
        assert ens["score"] == pytest.approx(0.75 * lex["score"] + 0.25 * lea["score"], abs=2e-4)
        assert ens["evidence_text"]  # evidence still quotes the article


def test_stage_learned_without_a_model_says_how_to_build_it(baseline_repo: Path, tmp_path: Path) -> None:
    from pipeline.sentiment_learned import write_disabled

    write_disabled(tmp_path / "model", tmp_path / "metrics.json")
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["NOT_TRAINED.txt"]
    assert json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8")) == {"enabled": False}
    with pytest.raises(FileNotFoundError, match=r"sentiment_learned\.enabled"):
        _stage(baseline_repo, tmp_path / "x.parquet", method="learned", learned_model=tmp_path / "model")
    with pytest.raises(ValueError, match=r"sentiment\.method must be one of"):
        _stage(baseline_repo, tmp_path / "x.parquet", method="bert")
