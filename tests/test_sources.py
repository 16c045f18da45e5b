"""Each source adapter on real files written the way such sources look."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.records import Article, Reject
from pipeline.sources import get_adapter
from tests.conftest import SIMPLIFIED, TRADITIONAL


def run(fmt: str, path: Path, **options: object) -> tuple[list[Article], list[Reject]]:
    out = list(get_adapter(fmt)("src", path, dict(options)))
    return [r for r in out if isinstance(r, Article)], [r for r in out if isinstance(r, Reject)]


def test_text_folder_stem_is_id_and_encoding_recorded(tmp_path: Path) -> None:
    (tmp_path / "a1.txt").write_bytes(("腾讯发布财报\n\n" + SIMPLIFIED).encode("gb18030"))
    (tmp_path / "b2.txt").write_bytes(TRADITIONAL.encode("big5"))
    arts, rejects = run("text", tmp_path)
    assert not rejects
    by_id = {a.native_id: a for a in arts}
    assert by_id["a1"].title == "腾讯发布财报"
    assert by_id["a1"].text.strip() == SIMPLIFIED
    assert by_id["a1"].encoding == "gb18030"
    assert by_id["b2"].title is None  # a sentence, not a headline
    assert by_id["b2"].text == TRADITIONAL
    assert by_id["b2"].encoding == "big5hkscs"
    assert by_id["a1"].doc_id == "src:a1"


def test_text_folder_rejects_png_empty_and_blank(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (tmp_path / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text(" \n\u3000\n\t", encoding="utf-8")
    arts, rejects = run("text", tmp_path)
    assert [a.native_id for a in arts] == ["good"]
    reasons = {Path(r.origin).name: r.reason for r in rejects}
    assert reasons == {"chart.png": "binary_content", "empty.txt": "empty_file", "blank.txt": "empty_text"}


def test_jsonl_field_mapping_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"guid": "x1", "headline": "标题", "body": SIMPLIFIED, "link": "https://a.example/1",
                    "pubdate": "2026-10-05T09:30:00+08:00"}, ensure_ascii=False),
        '{"guid": "x2", "headline": "坏行", "body": "未结束',
        json.dumps({"guid": "x3", "headline": "无正文"}, ensure_ascii=False),
        json.dumps({"guid": "x4", "body": None}),
        json.dumps({"guid": "x5", "body": "   "}),
        json.dumps({"guid": "x6", "body": TRADITIONAL, "pubdate": "2026年10月6日 14:05"}, ensure_ascii=False),
    ]
    data = "\n".join(lines).encode("utf-8") + b"\n" + b'{"guid": "x7", "body": "\xff\xfe\xfa"}\n'
    path = tmp_path / "feed.jsonl"
    path.write_bytes(data)
    fields = {"id": "guid", "title": "headline", "text": "body", "url": "link", "published_at": "pubdate"}
    arts, rejects = run("jsonl", path, fields=fields)
    assert [a.native_id for a in arts] == ["x1", "x6"]
    assert arts[0].title == "标题"
    assert arts[0].url == "https://a.example/1"
    assert arts[0].published_at == "2026-10-05T09:30:00+08:00"
    assert arts[1].published_at == "2026-10-06T14:05:00+08:00"  # naive dates get UTC+8
    reasons = [(r.origin.rsplit(":", 1)[1], r.reason) for r in rejects]
    assert reasons == [("2", "invalid_json"), ("3", "missing_text"), ("4", "missing_text"),
                       ("5", "empty_text"), ("7", "undecodable")]


def test_csv_gb18030_with_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "briefs.csv"
    content = (
        "编号,标题,正文,日期\n"
        f'mb-1,"快讯，一","{SIMPLIFIED}",2026/10/14\n'
        "mb-2,只有三列,\n"
        'mb-3,空正文,"",2026/10/15\n'
    )
    path.write_bytes(content.encode("gb18030"))
    fields = {"id": "编号", "title": "标题", "text": "正文", "published_at": "日期"}
    arts, rejects = run("csv", path, fields=fields)
    assert [a.native_id for a in arts] == ["mb-1"]
    assert arts[0].title == "快讯，一"
    assert arts[0].encoding == "gb18030"
    assert arts[0].published_at == "2026-10-14T00:00:00+08:00"
    assert [r.reason for r in rejects] == ["malformed_row", "empty_text"]


HTML_PAGE = """<!DOCTYPE html>
<html lang="zh-Hant-TW"><head><meta charset="{charset}">
<title>{title} - 科技評論</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2026-10-20T10:00:00+08:00">
<script>document.write('不應執行');</script>
</head><body>
<nav><a href="/">首頁</a> &gt; <a href="/tech">科技</a></nav>
<article><h1>{title}</h1><p class="byline">記者 王小明 / 2026-10-20</p>
<p>{p1}</p><p>{p2}</p><p>{p3}</p></article>
<footer>版權所有 2026 科技評論</footer>
</body></html>"""


def _page(charset: str) -> str:
    return HTML_PAGE.format(
        charset=charset,
        title="華為發表新款晶片",
        p1="華為今日在深圳發表新一代行動處理器，效能較前代提升三成，業界普遍看好其市場表現。",
        p2="分析師指出，這款晶片採用自研架構，功耗控制明顯改善，有望帶動手機出貨量回升。",
        p3="不過，也有供應鏈人士提醒，先進製程產能仍然吃緊，量產進度可能受到影響。",
    )


def test_html_main_text_title_date_in_utf8_and_big5(tmp_path: Path) -> None:
    (tmp_path / "p1.html").write_text(_page("utf-8"), encoding="utf-8")
    (tmp_path / "p2.html").write_bytes(_page("big5").encode("cp950"))
    (tmp_path / "empty.html").write_text("<html><head><title>空</title></head></html>", encoding="utf-8")
    arts, rejects = run("html", tmp_path)
    assert [a.native_id for a in arts] == ["p1", "p2"]
    for art in arts:
        assert art.title == "華為發表新款晶片"
        assert "效能較前代提升三成" in art.text
        assert "量產進度可能受到影響" in art.text
        assert "版權所有" not in art.text and "不應執行" not in art.text
        assert art.published_at and art.published_at.startswith("2026-10-20")
    assert arts[1].encoding == "big5hkscs"
    assert [(r.doc_id, r.reason) for r in rejects] == [("empty", "no_main_text")]


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>港經日報</title><link>https://gj.example/</link><description>財經</description>
<item><title>騰訊業績勝預期</title><link>https://gj.example/a1</link><guid isPermaLink="false">gj-1</guid>
<pubDate>Mon, 12 Oct 2026 08:15:00 +0800</pubDate><description>摘要</description>
<content:encoded><![CDATA[<p>{p1}</p><p>{p2}</p>]]></content:encoded></item>
<item><title>只有摘要</title><link>https://gj.example/a2</link><guid>gj-2</guid>
<description>美團股價今日下跌，市場憂慮外賣業務競爭加劇。</description></item>
<item><title>空白</title><guid>gj-3</guid><description></description></item>
</channel></rss>"""


def test_rss_items_with_full_content(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(RSS.format(p1="騰訊第三季度收入按年增長百分之十五。", p2="遊戲業務表現強勁。"), encoding="utf-8")
    arts, rejects = run("feed", path)
    assert [a.native_id for a in arts] == ["gj-1", "gj-2"]
    assert arts[0].text == "騰訊第三季度收入按年增長百分之十五。\n遊戲業務表現強勁。"
    assert arts[0].published_at == "2026-10-12T08:15:00+08:00"
    assert arts[1].text.startswith("美團股價今日下跌")
    assert [(r.doc_id, r.reason) for r in rejects] == [("gj-3", "empty_text")]


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>科技快訊</title><id>urn:x</id>
<updated>2026-10-21T09:00:00Z</updated>
<entry><title>比亞迪銷量創新高</title><id>urn:a1</id><link href="https://t.example/a1"/>
<updated>2026-10-21T09:00:00Z</updated>
<content type="html">&lt;p&gt;比亞迪十月銷量創新高，海外市場增長強勁。&lt;/p&gt;</content></entry>
</feed>"""


def test_atom_entry(tmp_path: Path) -> None:
    path = tmp_path / "atom.xml"
    path.write_text(ATOM, encoding="utf-8")
    arts, rejects = run("feed", path)
    assert not rejects
    assert arts[0].native_id == "urn:a1"
    assert arts[0].text == "比亞迪銷量創新高，海外市場增長強勁。".replace("銷量創新高，", "十月銷量創新高，")
    assert arts[0].published_at == "2026-10-21T09:00:00+00:00"


BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY a "哈哈哈哈哈哈哈哈哈哈">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
]>
<rss version="2.0"><channel><title>t</title>
<item><title>炸彈</title><guid>b1</guid><description>&h;</description></item>
</channel></rss>"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file://{path}">]>
<rss version="2.0"><channel><title>t</title>
<item><title>外部</title><guid>x1</guid><description>&secret;</description></item>
</channel></rss>"""


def test_entity_bomb_is_rejected_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(BOMB, encoding="utf-8")
    arts, rejects = run("feed", path)
    assert arts == []
    assert [r.reason for r in rejects] == ["unsafe_xml"]


def test_external_entity_is_rejected_not_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    path = tmp_path / "ext.xml"
    path.write_text(EXTERNAL.format(path=secret), encoding="utf-8")
    arts, rejects = run("feed", path)
    assert arts == []
    assert [r.reason for r in rejects] == ["unsafe_xml"]
    assert "TOP-SECRET-VALUE" not in json.dumps([r.to_row() for r in rejects], ensure_ascii=False)


def test_truncated_feed_keeps_whole_items(tmp_path: Path) -> None:
    full = RSS.format(p1="騰訊第三季度收入按年增長百分之十五。", p2="遊戲業務表現強勁。")
    path = tmp_path / "cut.xml"
    path.write_text(full[: full.index("<item><title>空白")] + "<item><title>半", encoding="utf-8")
    arts, _ = run("feed", path)
    assert [a.native_id for a in arts][:2] == ["gj-1", "gj-2"]


def test_large_gb18030_csv_streams_and_keeps_long_articles(tmp_path: Path) -> None:
    """A multi-megabyte export decodes the same when read as a stream, and an article longer than the
    csv module's default 128 KiB field limit (but within ingest.max_chars) is ingested, not rejected."""
    long_text = SIMPLIFIED * (140_000 // len(SIMPLIFIED) + 1)
    rows = ["编号,正文"] + [f"{i},{SIMPLIFIED}第{i}篇" for i in range(60_000)] + [f"long,{long_text}"]
    path = tmp_path / "big.csv"
    path.write_bytes("\n".join(rows).encode("gb18030"))
    assert path.stat().st_size > 4 * 2**20  # past the sample: the streaming path is taken
    arts, rejects = run("csv", path, fields={"id": "编号", "text": "正文"}, max_chars=200_000)
    assert not rejects
    assert len(arts) == 60_001
    assert arts[59_999].text == f"{SIMPLIFIED}第59999篇"
    assert arts[-1].native_id == "long" and len(arts[-1].text) == len(long_text)
    assert {a.encoding for a in arts} == {"gb18030"}


def test_large_jsonl_streams_with_one_corrupt_line(tmp_path: Path) -> None:
    good = [json.dumps({"id": str(i), "text": f"{SIMPLIFIED}{i}"}, ensure_ascii=False).encode() for i in range(30_000)]
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\r\n".join([*good[:100], b'{"id": "x", "text": "\xff\xfe"}', *good[100:]]))
    arts, rejects = run("jsonl", path)
    assert len(arts) == 30_000 and arts[-1].text == f"{SIMPLIFIED}29999"
    assert [(r.reason, Path(r.origin).name) for r in rejects] == [("undecodable", "big.jsonl:101")]
