"""Sentiment per company: target-aware scope, composition, evidence in the original script."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from pipeline.analyse import analyse_text
from pipeline.cli import load_params
from tests.conftest import REPO

MODEL = REPO / "models" / "zh_pipeline"


@pytest.fixture(scope="module")
def params() -> dict:
    return load_params(REPO / "params.yaml") | {"lexicons": {"out_dir": str(REPO / "models" / "lexicons")},
                                               "kb": {"path": str(REPO / "data" / "kb")}}


def labels(params: dict, text: str, level: str = "companies") -> dict[str, str]:
    result = analyse_text(text, params, MODEL)
    key = "company_id" if level == "companies" else "group_id"
    return {row[key]: row["label"] for row in result[level]}


def test_two_companies_in_one_sentence(params: dict) -> None:
    found = labels(params, "京东物流亏损扩大，而拼多多营收大增。", "groups")
    assert found == {"jd": "negative", "pinduoduo": "positive"}


def test_double_negation_and_contrast(params: dict) -> None:
    text = "分析人士认为，美团的外卖业务并非没有隐忧，但其到店业务表现强劲，整体前景乐观。"
    assert labels(params, text) == {"meituan": "positive"}


def test_concession_then_contrast(params: dict) -> None:
    text = "虽然抖音用户增长迅猛，但其电商业务屡被曝出售假货，投诉激增。"
    assert labels(params, text, "groups") == {"bytedance": "negative"}


def test_negated_penalty_is_not_negative(params: dict) -> None:
    assert labels(params, "腾讯并没有因此受到处罚。")["tencent"] != "negative"


def test_degree_adverb_strengthens(params: dict) -> None:
    plain = analyse_text("小米手机销量增长。", params, MODEL)["companies"][0]["score"]
    strong = analyse_text("小米手机销量极其强劲地增长。", params, MODEL)["companies"][0]["score"]
    assert strong > plain > 0


def test_question_weighs_less(params: dict) -> None:
    stated = analyse_text("百度的业绩暴跌。", params, MODEL)["companies"][0]["score"]
    asked = analyse_text("百度的业绩会暴跌吗？", params, MODEL)["companies"][0]["score"]
    assert stated < asked < 0


def test_idiom_counts(params: dict) -> None:
    assert labels(params, "此次合作对阿里巴巴来说可谓雪中送炭，一举两得。") == {"alibaba": "positive"}


def test_company_name_words_do_not_count(params: dict) -> None:
    # 理想 ("ideal") inside 理想汽车 is a name, not praise.
    assert labels(params, "理想汽车今天公布了十月交付数据。") == {"li_auto": "neutral"}


def test_window_lends_neighbour_sentences(params: dict) -> None:
    text = "蔚来公布了第三季度财报。毛利率大幅下滑，亏损扩大。"
    assert labels(params, text) == {"nio": "neutral"}
    wide = params | {"sentiment": params["sentiment"] | {"window": 1}}
    assert labels(wide, text) == {"nio": "negative"}


def test_evidence_quotes_original_script(params: dict) -> None:
    result = analyse_text("騰訊第三季度收入按年增長，遊戲業務表現強勁。", params, MODEL)
    ev = result["companies"][0]["evidence"][0]
    assert ev["original"] == "騰訊第三季度收入按年增長，遊戲業務表現強勁。"
    assert ev["sentence"] == "腾讯第三季度收入按年增长，游戏业务表现强劲。"
    assert {w["term"] for w in ev["words"]} >= {"强劲"}


def test_sentiment_stage_rows(baseline_repo) -> None:
    df = pd.read_parquet(baseline_repo / "data" / "sentiment" / "seed.parquet")
    assert set(df["level"]) == {"company", "group"}
    groups = df[df["level"] == "group"]
    assert {"alibaba", "tencent", "bytedance", "jd"} <= set(groups["company_id"])
    assert (groups["company_id"] == groups["group_id"]).all()
    assert df["score"].between(-1, 1).all()
    assert set(df["label"]) <= {"positive", "neutral", "negative"}
    ali = groups[groups["company_id"] == "alibaba"].iloc[0]
    evidence = json.loads(ali["evidence"])
    assert evidence and "阿裏" in ali["evidence_text"]  # quoted in the seed's Traditional script
    metrics = json.loads((baseline_repo / "metrics" / "eval.json").read_text(encoding="utf-8"))
    assert {"accuracy", "macro_f1", "per_class", "coverage"} <= set(metrics)


def test_config_from_params() -> None:
    from pipeline.sentiment import SentimentConfig

    cfg = SentimentConfig.from_params({"window": 2, "contrast_words": ["但"], "unknown_key": 1})
    assert cfg.window == 2 and cfg.contrast_words == ("但",)
    assert replace(cfg, window=0).window == 0
