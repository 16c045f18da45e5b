"""Word segmentation with the built pipeline: company names whole, traps avoided, sentences right."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.kb import load_kb
from pipeline.nlp import load_nlp
from pipeline.sentences import sentence_starts
from tests.conftest import REPO

MODEL = REPO / "models" / "zh_pipeline"
CONTEXTS = ("据报道，{}今天宣布了新的合作计划。", "分析师认为，{}的前景仍然乐观。", "（{}）股价的走势看法不一")


@pytest.fixture(scope="module")
def nlp():
    if not (MODEL / "config.cfg").exists():
        pytest.fail("models/zh_pipeline is missing: `make test` builds it with `dvc repro build_models`")
    return load_nlp(MODEL)


def test_every_single_word_alias_stays_one_token(nlp) -> None:
    kb = load_kb(REPO / "data" / "kb")
    words = kb.dictionary_words()
    assert len(words) > 1000
    broken = []
    for word in words:
        for context in CONTEXTS:
            tokens = [t.text for t in nlp.make_doc(context.format(word))]
            if word not in tokens:
                broken.append((word, context, tokens))
                break
    assert not broken, f"{len(broken)} aliases split, e.g. {broken[:5]}"


@pytest.mark.parametrize(
    ("text", "token", "absent"),
    [
        ("京东方面表示将继续投入物流", "京东", "京东方"),
        ("京东方发布新一代柔性面板", "京东方", "京东"),
        ("其中通过审核的商家超过一万家", "通过", "中通"),
        ("阿里山森林铁路导入行动支付", "阿里山", "阿里"),
        ("早餐喝了一碗小米粥", "小米粥", "小米"),
    ],
)
def test_lookalike_traps(nlp, text: str, token: str, absent: str) -> None:
    tokens = [t.text for t in nlp.make_doc(text)]
    assert token in tokens and absent not in tokens, tokens


def test_names_with_dots_stay_whole(nlp) -> None:
    tokens = [t.text for t in nlp.make_doc("淘宝物流开放给JD.COM，阿里巴巴(9988.HK)股价上涨")]
    assert "JD.COM" in tokens and "9988.HK" in tokens


def _sents(nlp, text: str) -> list[str]:
    return [s.text for s in nlp.make_doc(text).sents]


def test_sentence_rules(nlp) -> None:
    assert _sents(nlp, "他说：“这是好事。”随后离开了。问题来了！真的吗？") == [
        "他说：“这是好事。”", "随后离开了。", "问题来了！", "真的吗？"]
    assert _sents(nlp, "腾讯股价上涨……市场反应积极") == ["腾讯股价上涨……", "市场反应积极"]
    assert _sents(nlp, "阿里巴巴(9988.HK)股价报85.5港元。JD.COM下跌") == ["阿里巴巴(9988.HK)股价报85.5港元。",
                                                                     "JD.COM下跌"]
    paragraphs = _sents(nlp, "第一段没有句号\n第二段也没有")
    assert [p.strip() for p in paragraphs] == ["第一段没有句号", "第二段也没有"]


def test_overlong_run_is_split_after_a_comma() -> None:
    words = (["腾讯", "的", "业务", "，"] * 30) + ["好"]
    starts = sentence_starts(words, [False] * len(words), max_chars=40)
    cuts = [i for i, s in enumerate(starts) if s][1:]
    assert cuts, "a 150-character run must be split"
    assert all(words[i - 1] == "，" for i in cuts)


def test_built_model_holds_no_pickle() -> None:
    files = [p for p in MODEL.rglob("*") if p.is_file()]
    assert files
    assert not [p for p in files if p.suffix in {".pkl", ".pickle"}]


def test_loading_and_segmenting_never_unpickles() -> None:
    """Load the pipeline in a fresh interpreter where every pickle entry point raises."""
    code = f"""
import pickle
def refuse(*a, **k):
    raise RuntimeError("pickle used at run time")
pickle.load = pickle.loads = refuse
class Refuse(pickle.Unpickler):
    def __init__(self, *a, **k):
        refuse()
pickle.Unpickler = Refuse
import numpy
from pipeline.nlp import load_nlp
nlp = load_nlp({str(MODEL)!r})
print(len(nlp("阿里巴巴与腾讯互联互通。")))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().isdigit()


def test_jieba_switch_builds_and_segments(tmp_path: Path) -> None:
    from pipeline.build_models import build_pipeline

    manifest = build_pipeline(tmp_path / "zh_jieba", "jieba", REPO / "data" / "kb", ["阿里山"], 200, pins={})
    assert manifest["segmenter"] == "jieba"
    assert not (tmp_path / "zh_jieba" / "tokenizer" / "pkuseg_model").exists()
    nlp = load_nlp(tmp_path / "zh_jieba")
    tokens = [t.text for t in nlp("蚂蚁集团旗下支付宝与微信支付互通，宁德时代股价上涨。")]
    for name in ("蚂蚁集团", "支付宝", "微信支付", "宁德时代"):
        assert name in tokens


def test_converted_tables_segment_as_the_library_loads_them(tmp_path: Path, seed_text: str) -> None:
    """build_models stores pkuseg's tables as text (no bigram list, which segmentation never reads);
    the model must still cut every text exactly as spacy_pkuseg cuts it from its own layout."""
    import spacy_pkuseg

    from bench.reference import library_model_dir
    from pipeline.segmenter import load_pkuseg

    ours = load_pkuseg(MODEL / "tokenizer" / "pkuseg_model", [], [])
    library = spacy_pkuseg.pkuseg(str(library_model_dir(tmp_path / "pkuseg")), user_dict=None)
    assert ours.n_feature == library.n_feature > 2_000_000
    texts = [line for line in seed_text.split("\n") if line.strip()]
    texts += ["京东方面表示，其中通过率超过九成。", "蚂蚁集团旗下支付宝与微信支付互通", "Apple和华为2025年的5G手机"]
    for text in texts:
        assert ours._cut(text) == library._cut(text), text  # the model's own cut, before any dictionary
