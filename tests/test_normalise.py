"""Normalisation: the seed article's acceptance list, cleaning rules, and the map back to the original."""

from __future__ import annotations

import opencc
import pytest

from pipeline.normalise import NormaliseConfig, Normaliser
from pipeline.offsets import original_span
from pipeline.script import detect_script


@pytest.fixture(scope="module")
def normaliser() -> Normaliser:
    return Normaliser(NormaliseConfig())


def test_seed_has_nothing_left_for_t2s(normaliser: Normaliser, seed_text: str) -> None:
    result = normaliser.normalise(seed_text)
    assert result.script == "traditional"
    assert opencc.OpenCC("t2s").convert(result.text) == result.text
    assert "阿里巴巴集团董事局主席" in result.text


def test_seed_variant_yi_folded(normaliser: Normaliser, seed_text: str) -> None:
    text = normaliser.normalise(seed_text).text
    assert "壹" not in text
    assert "与其他平台一起面向未来" in text
    assert "2022财年第一季度" in text


def test_yi_kept_in_amounts(normaliser: Normaliser) -> None:
    text = normaliser.normalise("合同金额为人民币壹万元整，壹佰股，第壹次签约，壹起合作。").text
    assert "壹万元整" in text and "壹佰股" in text
    assert "第一次签约" in text and "一起合作" in text


def test_seed_boilerplate_removed(normaliser: Normaliser, seed_text: str) -> None:
    result = normaliser.normalise(seed_text)
    for gone in ("当前位置", "法律咨询服务网 - 企业资讯", "上一篇", "下一篇", "copyright", "政采云平台操作流程"):
        assert gone not in result.text
    assert result.removed_lines == 4
    assert result.text.startswith("真正的互联互通不应该止于阿里和腾讯的开放。")
    assert result.text.endswith("实际上可能会增加垄断的风险。")


def test_seed_corrupted_numbers_flagged(normaliser: Normaliser, seed_text: str) -> None:
    result = normaliser.normalise(seed_text)
    numbers = [f for f in result.flags if f["kind"] == "corrupted_number"]
    assert [f["text"] for f in numbers] == ["65438", "165438+8", "654.38+0", "12.5438+04", "2065438+278", "65438+"]
    for f in numbers:
        assert result.text[f["start"] : f["end"]] == f["text"]
    assert result.text[numbers[1]["end"]] == "亿"  # 165438+8億 -> flagged span stops before the unit


def test_evidence_maps_back_to_original_script(normaliser: Normaliser, seed_text: str) -> None:
    result = normaliser.normalise(seed_text)
    for phrase, original in [
        ("腾讯总裁刘炽平回应了平台互联的问题", "騰訊總裁劉熾平回應了平臺互聯的問題"),
        ("这对于天然依赖流量的电商业态来说，简直是雪中送炭", "這對於天然依賴流量的電商業態來說,簡直是雪中送炭"),
        ("相信很多企业都乐于和阿里沟通", "相信很多企業都樂於和阿裏溝通"),
    ]:
        start = result.text.index(phrase)
        s, e = original_span(result.anchors, start, start + len(phrase))
        assert seed_text[s:e] == original


def test_width_invisible_and_spaces(normaliser: Normaliser) -> None:
    raw = "ＡＩ芯片\u200b销量２０２６年增长３５％，阿\u200d里\ufeff巴巴　股价上涨。\x07Tik  Tok 与 京东\ue000合作！"
    result = normaliser.normalise(raw)
    assert result.text == "AI芯片销量2026年增长35%，阿里巴巴 股价上涨。Tik Tok 与 京东合作！"
    # Chinese punctuation stays full width
    assert "，" in result.text and "！" in result.text
    start = result.text.index("阿里巴巴")
    s, e = original_span(result.anchors, start, start + 4)
    assert raw[s:e] == "阿\u200d里\ufeff巴巴"


def test_emoji_and_mixed_script_survive(normaliser: Normaliser) -> None:
    result = normaliser.normalise("小米汽车交付火爆🔥，雷軍表示產能將繼續提升 👍 Xiaomi shares rose.")
    assert result.text == "小米汽车交付火爆🔥，雷军表示产能将继续提升 👍 Xiaomi shares rose."
    assert result.script == "mixed"


@pytest.mark.parametrize(
    ("config", "raw", "expected"),
    [
        ("t2s", "軟體公司的網路服務", "软体公司的网路服务"),
        ("tw2sp", "軟體公司的網路服務", "软件公司的网络服务"),
        ("hk2s", "的士司機在網上投訴", "的士司机在网上投诉"),
        ("none", "騰訊", "騰訊"),
        ("auto", "腾讯控股", "腾讯控股"),
        ("auto", "騰訊控股", "腾讯控股"),
    ],
)
def test_opencc_config_is_selectable(config: str, raw: str, expected: str) -> None:
    result = Normaliser(NormaliseConfig(opencc=config)).normalise(raw)
    assert result.text == expected


def test_unknown_opencc_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown OpenCC config 'x2y'"):
        Normaliser(NormaliseConfig(opencc="x2y"))


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("腾讯发布第三季度财报，收入增长。", "simplified"),
        ("騰訊發佈第三季度財報，收入增長。", "traditional"),
        ("腾讯发布财报。騰訊發佈財報，收入增長。", "mixed"),
        ("Apple 2026 Q3", "simplified"),
    ],
)
def test_script_detection(text: str, script: str) -> None:
    assert detect_script(text) == script


def test_boilerplate_only_short_lines(normaliser: Normaliser) -> None:
    long_sentence = "法院认定，涉案软件的版权所有者为该公司，被告须赔偿经济损失共计三百万元并公开道歉，" * 2
    raw = f"分享到：微信 微博\n{long_sentence}\n责任编辑：王明\n版权所有 © 2026 某某网"
    result = normaliser.normalise(raw)
    assert result.text == long_sentence
    assert result.removed_lines == 3


def test_ascii_punctuation_in_chinese_becomes_full_width(normaliser: Normaliser) -> None:
    result = normaliser.normalise("如此一来,Tik Tok、Aauto Quicker等商家:市值1,000亿?比分3:2!")
    assert result.text == "如此一来，Tik Tok、Aauto Quicker等商家：市值1,000亿？比分3:2!"


@pytest.fixture(scope="module")
def bundled_lines() -> list[str]:
    """Every line of every bundled source's articles (titles included), as the adapters read them."""
    import yaml

    from pipeline.records import Article
    from pipeline.sources import get_adapter
    from tests.conftest import REPO as repo

    sources = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))["sources"]
    lines: list[str] = []
    for name, options in sources.items():
        for record in get_adapter(options["format"])(name, repo / options["path"], {**options, "max_chars": 200_000}):
            if isinstance(record, Article):
                lines.extend([*(record.title or "").split("\n"), *record.text.split("\n")])
    assert len(lines) > 300
    return lines


@pytest.mark.parametrize("config", ["t2s", "hk2s", "tw2s", "tw2sp", "s2t", "s2hk", "s2tw"])
def test_converter_gives_opencc_output(config: str, bundled_lines: list[str]) -> None:
    """The converter skips pieces without a trigger character; what it returns must still be exactly
    OpenCC's conversion, on Traditional and Simplified news alike."""
    from pipeline.script import converter

    fast = converter(config)
    assert fast.triggers  # type: ignore[attr-defined]  (the fast path is in use, not the fallback)
    reference = opencc.OpenCC(config)
    changed = 0
    for line in bundled_lines:
        expected = reference.convert(line)
        assert fast(line) == expected, line
        changed += expected != line
    assert changed > 50  # the lines exercised the conversion, not only the skip
