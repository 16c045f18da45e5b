"""Company recognition: the seed's groups, ambiguous names, look-alikes, model entities, linking."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from pipeline.kb import load_kb
from pipeline.linker import Linker, candidate_keys
from pipeline.ner import ner_pipeline
from pipeline.normalise import NormaliseConfig, Normaliser
from tests.conftest import REPO, SEED

MODEL = REPO / "models" / "zh_pipeline"
SEED_GROUPS = {"alibaba", "tencent", "bytedance", "kuaishou", "jd", "pinduoduo", "meituan", "sf_express", "youzan",
               "questmobile"}


@pytest.fixture(scope="module")
def nlp():
    return ner_pipeline(MODEL, REPO / "data" / "kb")


@pytest.fixture(scope="module")
def kb():
    return load_kb(REPO / "data" / "kb")


def companies(nlp, text: str) -> list[tuple[str, str]]:
    return [(m.text, m.company_id) for m in nlp(text)._.mentions if m.company_id]


def test_seed_groups(nlp, kb) -> None:
    text = Normaliser(NormaliseConfig()).normalise(SEED.read_text(encoding="utf-8")).text
    groups = {kb.group_of(m.company_id) for m in nlp(text)._.mentions if m.company_id}
    extra = groups - SEED_GROUPS
    assert groups >= SEED_GROUPS
    # at most the media outlet the article cites as a source (华尔街日报)
    assert extra <= {kb.group_of("wsj")}
    assert kb["wsj"].kind == "media"


def test_seed_machine_translation_artefacts(nlp) -> None:
    found = dict(companies(nlp, "通过Tik Tok、Aauto更快、Aauto Quicker等工具，以及JD.COM和TikTok。"))
    assert found == {"Tik Tok": "douyin", "Aauto更快": "kuaishou", "Aauto Quicker": "kuaishou", "JD.COM": "jd",
                     "TikTok": "douyin"}


@pytest.mark.parametrize("text", ["你饿了么？", "菜鸟司机开车很小心。", "早上喝了一碗小米粥。", "他吃了两个苹果。"])
def test_ordinary_words_are_not_companies(nlp, text: str) -> None:
    assert companies(nlp, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("饿了么平台今天宣布降低佣金。", ("饿了么", "eleme")),
        ("菜鸟网络的包裹量创新高。", ("菜鸟网络", "cainiao")),
        ("小米手机销量上升。", ("小米", "xiaomi")),
        ("苹果公司发布新款产品。", ("苹果公司", "apple")),
        ("有赞公司股价暴跌。", ("有赞", "youzan")),
    ],
)
def test_ambiguous_names_with_company_context(nlp, text: str, expected: tuple[str, str]) -> None:
    assert expected in companies(nlp, text)


def test_unambiguous_mention_elsewhere_gives_context(nlp) -> None:
    found = companies(nlp, "小米集团今天公布了业绩。分析师认为，小米的增长还会持续。")
    assert [c for _, c in found] == ["xiaomi", "xiaomi"]


def test_lookalikes(nlp) -> None:
    assert companies(nlp, "京东方发布新一代柔性面板。") == [("京东方", "boe")]
    assert companies(nlp, "京东方面表示，将继续投入物流。") == [("京东", "jd")]
    assert companies(nlp, "阿里山森林铁路导入行动支付。") == []
    assert ("比亚迪", "byd") in companies(nlp, "市场对比亚迪的新车期待很高。")


def test_nicknames_and_tickers(nlp) -> None:
    found = {c for _, c in companies(nlp, "鹅厂和狗东之外，菊厂与B站也在列，BABA与3690.HK股价走高。")}
    assert found == {"tencent", "jd", "huawei", "bilibili", "alibaba", "meituan"}


def test_model_entities_fill_in_and_do_not_overlap_kb(nlp) -> None:
    doc = nlp("阿里巴巴集团董事局主席张勇在杭州表示，腾讯控股有限公司也已回应。")
    by_text = {m.text: (m.label, m.company_id, m.method) for m in doc._.mentions}
    assert by_text["阿里巴巴集团"] == ("ORG", "alibaba", "kb")
    assert by_text["张勇"][0] == "PER" and by_text["杭州"][0] == "LOC"
    assert any(cid == "tencent" for _, cid, _ in by_text.values())
    spans = sorted((m.start, m.end) for m in doc._.mentions)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    assert next(e.kb_id_ for e in doc.ents if e.label_ == "ORG") == "alibaba"


def test_linker_strips_legal_forms(kb) -> None:
    linker = Linker(kb)
    assert candidate_keys("腾讯控股有限公司")[:3] == ["腾讯控股有限公司", "腾讯控股", "腾讯"]
    assert linker.link("腾讯控股有限公司") == "tencent"
    assert linker.link("浙江大学社会治理研究院") is None
    assert linker.link("苹果") is None  # ambiguous names are never linked from a model string alone


def test_analyse_json_lines() -> None:
    proc = subprocess.run([sys.executable, "-m", "pipeline", "analyse", "--json", str(SEED)], cwd=REPO,
                          capture_output=True, text=True, check=True)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {"company_id", "group_id", "mentions"} <= set(rows[0])
    by_id = {r["company_id"]: r for r in rows}
    assert by_id["douyin"]["group_id"] == "bytedance" and by_id["douyin"]["mentions"] == 6
    assert "騰訊" in by_id["tencent"]["surface_forms"]  # quoted in the article's own script


def test_ner_stage_outputs(baseline_repo) -> None:
    import csv

    import pandas as pd

    ents = pd.read_parquet(baseline_repo / "data" / "entities" / "seed.parquet")
    assert list(ents.columns) == ["doc_id", "source", "sent_id", "start_char", "end_char", "text", "label",
                                  "company_id", "group_id", "method", "is_company"]
    assert set(ents["doc_id"]) == {"seed:platform-interop-article"}
    linked = ents[ents["company_id"].notna()]
    assert (linked["group_id"].notna()).all() and linked["is_company"].sum() > 50
    assert ents["sent_id"].min() == 0 and ents["sent_id"].is_monotonic_increasing
    with open(baseline_repo / "data" / "entities" / "seed.unlinked.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {"text", "count", "looks_like_company", "example_sentence"} == set(rows[0])
    assert any(r["text"] == "浙江大学社会治理研究院" and r["example_sentence"] for r in rows)


def test_ner_builds_its_name_patterns_without_loading_the_segmenter() -> None:
    """The ner stage reads documents that are already cut; building its KB patterns from the names
    cut at build time keeps the 170 MB segmenter (and 4 s of start-up) out of every ner process."""
    script = """
import pipeline.segmenter as zt
def refuse(*a, **k):
    raise AssertionError("segmenter loaded")
zt.load_pkuseg = zt.load_jieba = refuse
from spacy.tokens import Doc
from pipeline.ner import ner_pipeline
nlp = ner_pipeline("models/zh_pipeline", "data/kb")
doc = Doc(nlp.vocab, words=["阿里巴巴", "与", "騰訊", "宣布", "合作", "。"], spaces=[False] * 6)
for _, proc in nlp.pipeline:
    doc = proc(doc)
print(sorted({m.company_id for m in doc._.mentions if m.company_id}))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[-2] == "['alibaba', 'tencent']"
