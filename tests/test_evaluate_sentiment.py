"""Target-sentiment scorer: exact arithmetic on hand-made sets, each reader's quirks, the real gold sets if present.

The real sets (../shared/data/...) may not be copied into the repository, so those tests read them in
place and skip when they are absent. The small texts below were written for these tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.evaluation.sentiment import (
    Labelled,
    ReadStats,
    TargetExample,
    constant_predictor,
    ensemble_predictor,
    evaluate_sentiment,
    predict_batched,
    read_cfsc_absa,
    read_dataset,
    read_finnsp,
    split_normalise,
)
from tests.conftest import REPO

DATA = REPO.parent / "shared" / "data"
CFSC = DATA / "cfsc-absa"
FINNSP = DATA / "bbt-fincuge-finnsp"


def _item(sentence: str, term: str, polarity: str, aspect: str = "Corporate") -> dict:
    start = sentence.index(term)
    return {"sentence": sentence + "\n", "Level 1 aspect": aspect, "term": term, "polarity": polarity,
            "from": start, "to": start + len(term)}


# -- CFSC-ABSA format: exact arithmetic ----------------------------------------------------------------

CFSC_MINI = [
    _item("华为营收大增。", "华为", "positive"),
    _item("小米股价下跌。", "小米", "negative"),
    _item("腾讯发布公告。", "腾讯", "neutral"),
    _item("京东亏损扩大，而拼多多营收大增。", "京东", "negative"),
    _item("京东亏损扩大，而拼多多营收大增。", "拼多多", "positive"),
    _item("阿里巴巴召开发布会。", "阿里巴巴", "neutral"),
    _item("沪指上涨。", "沪指", "positive", aspect="Stock"),  # not a company: not read by default
]
# (text, target) -> predicted label; scores are only range-checked by the harness
CFSC_FIXED = {
    "华为": "positive",
    "小米": "neutral",
    "腾讯": "neutral",
    "京东": "negative",
    "拼多多": "negative",  # the other company's sentiment leaked in
    "阿里巴巴": "neutral",
}
SCORE = {"positive": 0.8, "neutral": 0.0, "negative": -0.8}


def fixed_predict(examples: list[TargetExample]) -> list[tuple[str, float]]:
    return [(CFSC_FIXED[ex.target], SCORE[CFSC_FIXED[ex.target]]) for ex in examples]


def _write_json(path: Path, value: object, bom: bool = False) -> Path:
    body = json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + body)
    return path


def test_cfsc_scores_are_exact_on_a_hand_made_set(tmp_path: Path) -> None:
    _write_json(tmp_path / "test.txt", CFSC_MINI, bom=True)
    result = evaluate_sentiment("cfsc-absa", tmp_path, fixed_predict)

    assert result["dataset"] == "cfsc-absa" and result["split"] == "test" and result["targets"] == 6
    assert result["gold_labels"] == {"positive": 2, "neutral": 2, "negative": 2}
    assert result["accuracy"] == 0.6667  # 4 of 6
    assert result["per_class"]["positive"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "gold": 2,
                                               "predicted": 1, "correct": 1}
    assert result["per_class"]["neutral"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "gold": 2,
                                              "predicted": 3, "correct": 2}
    assert result["per_class"]["negative"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "gold": 2,
                                               "predicted": 2, "correct": 1}
    assert result["macro_f1"] == 0.6556  # (0.6667 + 0.8 + 0.5) / 3
    assert result["confusion"] == {
        "positive": {"positive": 1, "neutral": 0, "negative": 1},
        "neutral": {"positive": 0, "neutral": 2, "negative": 0},
        "negative": {"positive": 0, "neutral": 1, "negative": 1},
    }
    # a three-way tie: the first class in LABELS order is the "majority"
    assert result["majority_baseline"] == {"label": "positive", "accuracy": 0.3333}
    json.dumps(result)  # JSON-able

    limited = evaluate_sentiment("cfsc-absa", tmp_path, fixed_predict, limit=2)
    assert limited["targets"] == 2 and limited["accuracy"] == 0.5


def test_cfsc_reader_offsets_aspects_and_misalignment(tmp_path: Path) -> None:
    path = _write_json(tmp_path / "test.txt", CFSC_MINI)
    items = read_cfsc_absa(path)
    assert items[3] == Labelled(TargetExample("京东亏损扩大，而拼多多营收大增。\n", 0, 2, "京东"), "negative")
    assert items[4].example.start == 8 and items[4].example.end == 11
    assert len(read_cfsc_absa(path, aspects=("Stock",))) == 1

    bad = [dict(CFSC_MINI[0], **{"from": 1})]
    with pytest.raises(ValueError, match="annotated as"):
        read_cfsc_absa(_write_json(tmp_path / "bad.txt", bad))
    with pytest.raises(ValueError, match="polarity"):
        read_cfsc_absa(_write_json(tmp_path / "bad2.txt", [dict(CFSC_MINI[0], polarity="mixed")]))


# -- FinNSP format ---------------------------------------------------------------------------------------

NSP_TEXT = "众车在线涉嫌非法吸收公众存款，众车在线被立案。恒丰银行发布公告。"
FINNSP_MINI = [
    ["a1", "", NSP_TEXT, "众车;众车在线;恒丰银行", "1", "众车在线"],
    ["\ufeffid", "title", "text", "entity", "negative", "key_entity"],  # the stray header row
    ["a2", "小资钱包暴雷", "平台出借人维权。京东金融表示正常运营。", "小资钱包;京东金融", "1", "小资钱包"],
    ["a3", "", "宜人贷发布季度报告，营收增长。", "宜人贷", "0", ""],
]
NSP_FIXED = {"众车在线": "negative", "恒丰银行": "negative", "京东金融": "neutral", "宜人贷": "positive"}


def nsp_predict(examples: list[TargetExample]) -> list[tuple[str, float]]:
    return [(NSP_FIXED[ex.target], SCORE[NSP_FIXED[ex.target]]) for ex in examples]


def test_finnsp_reader_rules(tmp_path: Path) -> None:
    stats = ReadStats()
    items = read_finnsp(_write_json(tmp_path / "eval_list.json", FINNSP_MINI), stats)
    assert [(x.example.target, x.gold) for x in items] == [
        ("众车在线", True), ("恒丰银行", False), ("京东金融", False), ("宜人贷", False)]
    # first occurrence of a repeated name; the nested candidate 众车 is not a target of its own
    assert items[0].example == TargetExample(NSP_TEXT, 0, 4, "众车在线")
    assert items[1].example.start == NSP_TEXT.index("恒丰银行")
    assert stats.as_dict() == {"rows": 3, "dropped_rows": 1, "candidates": 6, "nested_dropped": 1, "not_found": 1,
                               "not_found_in_title": 1, "multiple_occurrences": 1}


def test_finnsp_negative_class_scores_are_exact(tmp_path: Path) -> None:
    folder = tmp_path / "bbt-fincuge-finnsp"
    folder.mkdir()
    _write_json(folder / "eval_list.json", FINNSP_MINI)
    result = evaluate_sentiment("finnsp", tmp_path, nsp_predict)  # data_dir may be the parent folder
    assert result["split"] == "eval" and result["targets"] == 4
    assert result["gold_labels"] == {"negative": 1, "not_negative": 3}
    assert result["negative"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "gold": 1, "predicted": 2,
                                  "correct": 1}
    assert result["accuracy"] == 0.75
    assert result["all_negative_baseline_f1"] == 0.4  # P 1/4, R 1
    assert result["read"]["not_found"] == 1
    json.dumps(result)

    with pytest.raises(ValueError, match="split"):
        evaluate_sentiment("finnsp", tmp_path, nsp_predict, split="test")
    with pytest.raises(ValueError, match="dataset"):
        evaluate_sentiment("semeval", tmp_path, nsp_predict)
    with pytest.raises(FileNotFoundError):
        evaluate_sentiment("finnsp", tmp_path, nsp_predict, split="train")


# -- predictions -------------------------------------------------------------------------------------------


def test_predictions_are_batched_and_checked() -> None:
    sizes: list[int] = []
    ex = TargetExample("华为营收大增。", 0, 2, "华为")

    def predict(examples: list[TargetExample]) -> list[tuple[str, float]]:
        sizes.append(len(examples))
        return [("neutral", 0.0) for _ in examples]

    assert predict_batched(predict, [ex] * 5, batch_size=2) == [("neutral", 0.0)] * 5
    assert sizes == [2, 2, 1]
    with pytest.raises(ValueError, match="results"):
        predict_batched(lambda exs: [], [ex])
    with pytest.raises(ValueError, match="label"):
        predict_batched(lambda exs: [("pos", 1.0)], [ex])
    with pytest.raises(ValueError, match="score"):
        predict_batched(lambda exs: [("positive", 1.5)], [ex])
    with pytest.raises(ValueError, match="score"):
        predict_batched(lambda exs: [("positive", float("nan"))], [ex])
    assert constant_predictor("negative")([ex]) == [("negative", -1.0)]


def test_ensemble_averages_scores_and_thresholds() -> None:
    ex = TargetExample("华为营收大增。", 0, 2, "华为")
    strong = constant_predictor("positive")  # +1
    neutral = constant_predictor("neutral")  # 0
    assert ensemble_predictor([strong, neutral], [1, 1])([ex]) == [("positive", 0.5)]
    assert ensemble_predictor([strong, neutral], [1, 9])([ex]) == [("neutral", 0.1)]
    with pytest.raises(ValueError):
        ensemble_predictor([strong], [1, 2])


def test_split_normalise_keeps_the_target_span() -> None:
    text, start, end = split_normalise(TargetExample("據報，騰訊股價上漲。", 3, 5, "騰訊"), lambda t: t.upper())
    assert (text, start, end) == ("據報，騰訊股價上漲。", 3, 5)
    from pipeline.normalise import NormaliseConfig, Normaliser

    norm = Normaliser(NormaliseConfig(boilerplate=()))
    example = TargetExample("據報,騰訊股價上漲。", 3, 5, "騰訊")
    text, start, end = split_normalise(example, lambda t: norm.normalise(t).text)
    assert text[start:end] == "腾讯" and text.endswith("股价上涨。")


# -- the real gold sets, read in place ---------------------------------------------------------------------


@pytest.mark.skipif(not (CFSC / "test.txt").is_file(), reason="CFSC-ABSA not present at ../shared/data/cfsc-absa")
def test_real_cfsc_absa_counts_match_the_readme() -> None:
    items = read_dataset("cfsc-absa", DATA)
    assert len(items) == 1730
    assert {c: sum(x.gold == c for x in items) for c in ("positive", "neutral", "negative")} == {
        "positive": 711, "neutral": 696, "negative": 323}
    assert all(x.example.text[x.example.start : x.example.end] == x.example.target for x in items)
    result = evaluate_sentiment("cfsc-absa", CFSC, constant_predictor("positive"))
    assert result["majority_baseline"] == {"label": "positive", "accuracy": 0.411}
    assert result["accuracy"] == 0.411


@pytest.mark.skipif(not (FINNSP / "eval_list.json").is_file(),
                    reason="FinNSP not present at ../shared/data/bbt-fincuge-finnsp")
def test_real_finnsp_eval_counts() -> None:
    result = evaluate_sentiment("finnsp", DATA, constant_predictor("negative"))
    assert result["read"] == {"rows": 500, "dropped_rows": 0, "candidates": 1082, "nested_dropped": 177,
                              "not_found": 74, "not_found_in_title": 9, "multiple_occurrences": 332}
    assert result["targets"] == 831 and result["gold_labels"] == {"negative": 397, "not_negative": 434}
    assert result["negative"]["recall"] == 1.0


@pytest.mark.skipif(not (FINNSP / "train_list.json").is_file(),
                    reason="FinNSP not present at ../shared/data/bbt-fincuge-finnsp")
def test_real_finnsp_train_header_row_is_dropped() -> None:
    stats = ReadStats()
    read_finnsp(FINNSP / "train_list.json", stats)
    assert stats.rows == 3999 and stats.dropped_rows == 1
