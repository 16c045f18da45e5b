"""The knowledge base is consistent, and inconsistencies are refused with a clear message."""

from __future__ import annotations

import json

import pytest

from pipeline import kb as kb_module
from pipeline.kb import VARIANTS_FILE, KBError, load_kb, parse_entries, script_variants
from tests.conftest import REPO

REQUIRED = [
    "alibaba", "taobao", "tmall", "alipay", "ant_group", "eleme", "cainiao", "alibaba_cloud", "tencent",
    "wechat", "wechat_pay", "wecom", "qq", "weishi", "tencent_news", "tencent_music", "jd", "jd_logistics",
    "pinduoduo", "meituan", "bytedance", "douyin", "toutiao", "kuaishou", "baidu", "sf_express", "youzan",
    "xiaomi", "huawei", "netease", "didi", "bilibili", "byd", "nio", "boe", "apple", "tesla", "questmobile",
]
GROUPS = {
    "alibaba": "taobao tmall alipay ant_group eleme cainiao alibaba_cloud",
    "tencent": "wechat wechat_pay wecom qq weishi tencent_news tencent_music",
    "bytedance": "douyin toutiao",
    "jd": "jd_logistics",
}


@pytest.fixture(scope="module")
def kb():
    return load_kb(REPO / "data" / "kb")


def test_size_and_required_ids(kb) -> None:
    assert len(kb) >= 200
    missing = [cid for cid in REQUIRED if cid not in kb]
    assert not missing


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_groups_roll_up(kb, group: str) -> None:
    for cid in GROUPS[group].split():
        assert kb.group_of(cid) == group, cid


def test_required_aliases(kb) -> None:
    index = kb.surface_index()
    expect = {"tik tok": "douyin", "tiktok": "douyin", "jd.com": "jd", "aauto更快": "kuaishou",
              "aauto quicker": "kuaishou", "鹅厂": "tencent", "狗东": "jd", "菊厂": "huawei", "b站": "bilibili",
              "baba": "alibaba", "9988.hk": "alibaba", "0700.hk": "tencent", "pdd": "pinduoduo", "3690.hk": "meituan",
              "騰訊": "tencent", "京東方": "boe", "華為": "huawei"}
    for surface, cid in expect.items():
        assert [c for c, _ in index.get(surface, [])] == [cid], surface
    assert "阿里山" not in index


def test_traditional_forms_are_generated_not_typed(kb) -> None:
    assert "騰訊" in script_variants("腾讯")
    text = (REPO / "data" / "kb" / "companies.yaml").read_text(encoding="utf-8")
    assert "騰訊" not in text and "華為" not in text


def test_built_pipeline_stores_the_variants_opencc_gives(kb) -> None:
    # The ner stage reads this table instead of running OpenCC: it must hold every KB name, and
    # exactly what the converters give for it.
    table = json.loads((REPO / "models" / "zh_pipeline" / VARIANTS_FILE).read_text(encoding="utf-8"))
    assert set(table) == {s for company in kb.companies.values() for s in company.surfaces}
    assert table["腾讯"] == ["騰訊"]
    assert table == {text: list(kb_module._script_variants(text)) for text in table}


def test_a_name_missing_from_the_stored_table_is_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    # A KB edited after the models were built: new names still get their Traditional forms.
    monkeypatch.setattr(kb_module, "_STORED_VARIANTS", {})
    kb_module.use_stored_variants({"腾讯": ["騰訊"]})
    assert script_variants("腾讯") == ["騰訊"]
    assert "華為" in script_variants("华为")


def _entry(cid: str, **kw: object) -> dict:
    return {"id": cid, "name": kw.pop("name", cid), "kind": "company", "parent": None, **kw}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([_entry("a"), _entry("a", name="甲")], "duplicate id 'a'"),
        ([_entry("a", parent="zz")], "parent 'zz' is not an entry"),
        ([_entry("a", parent="b"), _entry("b", parent="a")], "cycle"),
        ([_entry("a", name="公司甲", aliases=["甲"]), _entry("b", name="公司乙", aliases=["甲"])],
         "on several entries (a, b) but not marked ambiguous"),
        ([_entry("A-1")], "id must match"),
        ([_entry("a", ambiguous={"乙": "context"})], "'乙' is not one of the entry's names"),
        ([_entry("a", ambiguous={"a": "guess"})], "rule 'guess'"),
    ],
)
def test_inconsistent_kb_is_refused(entries: list[dict], message: str) -> None:
    with pytest.raises(KBError) as info:
        parse_entries(entries)
    assert message in str(info.value)


def test_shared_alias_allowed_when_ambiguous_everywhere() -> None:
    kb = parse_entries([
        _entry("a", name="甲公司", aliases=["长安"], ambiguous={"长安": "context"}),
        _entry("b", name="乙公司", aliases=["长安"], ambiguous={"长安": "context"}),
    ])
    assert sorted(kb.surface_index()["长安"]) == [("a", "context"), ("b", "context")]
