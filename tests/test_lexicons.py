"""Sentiment lexicons: built from the pinned cntext wheel plus the project extension, with provenance.

These tests fetch the real wheel (about 8 MB, once, into .cache/downloads like build_models does), so
a re-pin, an upstream change of the word lists or an edit of data/lexicons/news_extra.yaml shows up
here term by term.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline import fetch
from pipeline.lexicons import (
    LISTS,
    LexiconError,
    Lexicons,
    build_lexicons,
    load_extension,
    load_lexicons,
)
from tests.conftest import REPO

CACHE = REPO / ".cache" / "downloads"
EXTRA = REPO / "data" / "lexicons" / "news_extra.yaml"
PINS = fetch.load_pins(REPO / "configs" / "model_sources.yaml")
EXT: dict[str, Any] = yaml.safe_load(EXTRA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("lexicons")
    return out, build_lexicons(out, PINS, CACHE, EXTRA)


@pytest.fixture(scope="module")
def lex(built: tuple[Path, dict[str, Any]]) -> Lexicons:
    return load_lexicons(built[0])


def _json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- provenance -------------------------------------------------------------------------------------


def test_manifest_records_the_pinned_wheel(built: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = built
    pin = PINS["cntext"]
    assert manifest == _json(out / "manifest.json")
    assert (manifest["package"], manifest["file"], manifest["sha256"]) == (
        "cntext==2.2.1", pin["file"], pin["sha256"])
    assert fetch.sha256_file(CACHE / pin["file"]) == pin["sha256"]
    assert "MIT" in manifest["licence"]
    ext = manifest["sources"]["extension"]
    assert ext["sha256"] == hashlib.sha256(EXTRA.read_bytes()).hexdigest()
    # floors well under today's counts (4,5xx / 5,9xx / 45 / 10x): a broken merge falls through them
    floors = {"positive": 4000, "negative": 5000, "negation": 40, "degree": 80}
    for name, floor in floors.items():
        assert manifest["counts"][name] > floor, name


def test_every_list_file_names_its_sources(built: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = built
    citations = {"financial": "Jiang", "financial_formal": "姚加权", "hownet": "董振东"}
    for role, author in citations.items():
        src = manifest["sources"][role]
        assert author in src["citation"], role
        assert src["member"] == PINS["cntext"]["members"][role]
        assert src["sha256"] == PINS["cntext"]["sha256"]
    for name in LISTS:
        body = _json(out / f"{name}.json")
        assert body["list"] == name and body["count"] == len(body["terms"])
        assert body["sources"], name
        for src in body["sources"]:
            assert {"package", "file", "sha256", "member", "citation", "licence"} <= set(src)
            assert len(src["sha256"]) == 64
        assert body["sources"][-1]["file"].endswith("news_extra.yaml")
        terms = body["terms"]
        assert list(terms) == sorted(terms), f"{name}: terms not sorted"


@pytest.mark.parametrize(
    ("source", "floor"),
    [("financial:pos", 3000), ("financial:neg", 5000), ("financial_formal:正式-肯定情绪", 3000),
     ("financial_formal:正式-否定情绪", 1500), ("hownet:deny", 15), ("hownet:very", 60),
     ("hownet:more", 30), ("hownet:ish", 35)],
)
def test_each_base_list_is_non_trivial(built: tuple[Path, dict[str, Any]], source: str, floor: int) -> None:
    assert built[1]["base_counts"][source] >= floor


def test_build_is_deterministic(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    build_lexicons(tmp_path, PINS, CACHE, EXTRA)
    for name in [*LISTS, "manifest"]:
        assert (tmp_path / f"{name}.json").read_bytes() == (built[0] / f"{name}.json").read_bytes(), name
    text = (tmp_path / "positive.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and "\\u" not in text  # ensure_ascii=False, trailing newline


def test_tampered_wheel_is_refused(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    pin = PINS["cntext"]
    cache = tmp_path / "cache"
    cache.mkdir()
    tampered = cache / pin["file"]
    shutil.copyfile(CACHE / pin["file"], tampered)
    with open(tampered, "r+b") as fh:
        fh.seek(4096)
        byte = fh.read(1)
        fh.seek(4096)
        fh.write(bytes([byte[0] ^ 0xFF]))
    out = tmp_path / "out"
    with pytest.raises(fetch.IntegrityError, match="does not match the pinned"):
        build_lexicons(out, PINS, cache, EXTRA)
    assert not out.exists() or not any(out.iterdir())


def test_loading_refuses_a_half_updated_directory(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    copy = tmp_path / "lexicons"
    shutil.copytree(built[0], copy)
    body = _json(copy / "negative.json")
    body["terms"]["新词"] = 1.0
    (copy / "negative.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(LexiconError, match="does not match manifest"):
        load_lexicons(copy)


# --- the extension: every entry, one case each --------------------------------------------------------


def test_extension_is_all_effective(built: tuple[Path, dict[str, Any]]) -> None:
    """No removal that matches nothing and no entry that changes nothing: after a re-pin these show
    which lines of news_extra.yaml went stale."""
    review = built[1]["review"]
    assert review["stale_removals"] == []
    assert review["extension_noops"] == []


@pytest.mark.parametrize(("term", "entry"), sorted(EXT["sentiment"].items()))
def test_sentiment_addition(lex: Lexicons, term: str, entry: dict[str, Any]) -> None:
    polarity, weight = entry["polarity"], entry["weight"]
    other = "negative" if polarity == "positive" else "positive"
    assert getattr(lex, polarity).get(term) == weight
    assert term not in getattr(lex, other)
    assert term not in lex.negation and term not in lex.degree
    assert lex.sentiment(term) == (weight if polarity == "positive" else -weight)


@pytest.mark.parametrize("term", EXT["negation"])
def test_negation_addition(lex: Lexicons, term: str) -> None:
    assert term in lex.negation
    assert term not in lex.positive and term not in lex.negative and term not in lex.degree


@pytest.mark.parametrize(("term", "level"), sorted(EXT["degree"].items()))
def test_degree_addition(lex: Lexicons, term: str, level: str) -> None:
    assert lex.degree.get(term) == EXT["degree_levels"][level]
    assert term not in lex.positive and term not in lex.negative and term not in lex.negation


@pytest.mark.parametrize(
    ("name", "term"), [(name, term) for name, terms in EXT["remove"].items() for term in terms or []]
)
def test_removal(lex: Lexicons, name: str, term: str) -> None:
    assert term not in getattr(lex, name)


# --- what the sentiment stage relies on ----------------------------------------------------------------


def test_negation_core(lex: Lexicons) -> None:
    core = {"不", "没有", "并非", "无法", "难以", "不再"}
    assert core <= lex.negation
    assert not core & (set(lex.negative) | set(lex.positive))


def test_degree_multipliers_are_ordered(lex: Lexicons) -> None:
    assert lex.degree["极其"] > lex.degree["很"] > lex.degree["稍"]
    assert lex.degree["非常"] > lex.degree["很"] > lex.degree["较为"] > 1.0 > lex.degree["稍微"] > 0
    levels = EXT["degree_levels"]
    assert levels["极其"] > levels["很"] > levels["较"] > 1.0 > levels["稍"] > 0


# Terms company news needs with this polarity, whichever source provides them (base or extension).
NEWS_CORE = {
    "positive": ["雪中送炭", "如日中天", "蒸蒸日上", "独占鳌头", "一举两得", "名利双收", "强劲", "回暖",
                 "上调", "乐观", "盈利", "增长", "扭亏为盈", "超预期", "售罄", "领跑"],
    "negative": ["每况愈下", "一落千丈", "雪上加霜", "举步维艰", "暴跌", "罚款", "下架", "裁员", "假货",
                 "下调", "悲观", "亏损", "违约", "召回", "隐忧", "不及预期", "亏损扩大"],
}


@pytest.mark.parametrize(
    ("polarity", "term"), [(p, t) for p, terms in NEWS_CORE.items() for t in terms]
)
def test_news_core_term(lex: Lexicons, polarity: str, term: str) -> None:
    assert term in getattr(lex, polarity)


def test_base_noise_is_gone(lex: Lexicons) -> None:
    """Function words that HowNet's polarity lists would have contributed, and company names."""
    for term in ("是", "和", "对", "约", "上", "中", "新", "会", "第一", "发展", "吉利", "菜鸟"):
        assert lex.sentiment(term) == 0.0, term


# --- the extension file is validated before anything is fetched ----------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("degree_levels: {很: 1.5, 较: 1.25, 稍: 0.75}\nsentiment:\n  暴跌: {polarity: negative, weight: 1.5}\n"
         "  暴跌: {polarity: negative, weight: 1.0}\n", "duplicate entry"),
        ("degree_levels: {很: 1.5, 较: 1.25, 稍: 0.75}\nsentiment:\n  暴跌: {polarity: bad, weight: 1.5}\n",
         "polarity must be"),
        ("degree_levels: {很: 1.5, 较: 1.25, 稍: 0.75}\nsentiment:\n  并非: {polarity: negative, weight: 1}\n"
         "negation: [并非]\n", "two roles"),
        ("degree_levels: {很: 1.5, 稍: 0.75}\n", "lacks"),
        ("degree_levels: {很: 1.5, 较: 1.25, 稍: 0.75}\nnegation: [不 再]\n", "not a plain"),
    ],
)
def test_bad_extension_is_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        load_extension(path)
