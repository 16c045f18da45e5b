"""reports/index.html: deterministic, escaped, self-contained, and actually drawn by a browser.

The fixture is written here in the aggregate stage's formats (small, hand-made numbers) so these tests
do not depend on a pipeline run. The browser tests use Debian's headless Chromium; the page is opened
from disk with network features off, and its CSP forbids any load anyway.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pipeline.report import SCRIPT, build_report, script_hash

HOSTILE_TITLE = "<script>alert(1)</script>腾讯音乐承压"
HOSTILE_SENTENCE = '阿里巴巴被指<img src=x onerror="alert(2)">虚报\x00数据\ud800。'
TRADITIONAL_SENTENCE = "騰訊第三季營收按年增長百分之十五，遊戲業務表現強勁。"

GROUPS = {"tencent": "腾讯", "alibaba": "阿里巴巴", "tsmc": "台積電", "meituan": "美团"}
MENTIONS_PER_ARTICLE = {"tencent": 3, "alibaba": 4, "tsmc": 2, "meituan": 5}
WEEKS = ("2026-W40", "2026-W41", "2026-W42")
# (group, source, week) -> (positive, neutral, negative) articles. meituan has no articles in W41, so
# its line breaks there: it is drawn as two separate points and no line.
COUNTS = {
    ("tencent", "huaxia_wire", "2026-W40"): (3, 1, 0),
    ("tencent", "huaxia_wire", "2026-W41"): (2, 2, 1),
    ("tencent", "huaxia_wire", "2026-W42"): (4, 0, 1),
    ("tencent", "tw_tech_review", "2026-W40"): (1, 0, 1),
    ("tencent", "tw_tech_review", "2026-W41"): (0, 1, 2),
    ("tencent", "tw_tech_review", "2026-W42"): (2, 0, 0),
    ("alibaba", "huaxia_wire", "2026-W40"): (1, 1, 1),
    ("alibaba", "huaxia_wire", "2026-W41"): (2, 0, 0),
    ("alibaba", "huaxia_wire", "2026-W42"): (0, 1, 3),
    ("alibaba", "tw_tech_review", "2026-W41"): (1, 1, 0),
    ("tsmc", "tw_tech_review", "2026-W40"): (2, 0, 0),
    ("tsmc", "tw_tech_review", "2026-W41"): (1, 1, 0),
    ("tsmc", "tw_tech_review", "2026-W42"): (3, 0, 0),
    ("tsmc", "huaxia_wire", "2026-W42"): (0, 0, 1),
    ("meituan", "huaxia_wire", "2026-W40"): (0, 1, 2),
    ("meituan", "huaxia_wire", "2026-W42"): (1, 0, 0),
}
# By mentions: tencent 63, alibaba 44, meituan 20, tsmc 16. By articles: tencent 21, alibaba 11, tsmc 8,
# meituan 4 — a different order, so sorting by the articles column is observable.
ORDER_BY_MENTIONS = ["tencent", "alibaba", "meituan", "tsmc"]
ORDER_BY_ARTICLES = ["tencent", "alibaba", "tsmc", "meituan"]
SERIES_POINTS = 3 + 3 + 3 + 2  # dated points per group, all sources together


def _ev(sentence: str, score: float, title: str | None, source: str, published_at: str | None, doc_id: str,
        company_id: str) -> dict[str, Any]:
    return {"sentence": sentence, "score": score, "title": title, "source": source, "published_at": published_at,
            "doc_id": doc_id, "company_id": company_id}


EVIDENCE = {
    "alibaba": {
        "group_name": "阿里巴巴",
        "positive": [_ev("阿里云收入大增，人工智能需求旺盛。", 0.8, "阿里云季度收入创新高", "huaxia_wire",
                         "2026-10-08T09:30:00+08:00", "huaxia_wire:hx-1", "aliyun")],
        "negative": [_ev(HOSTILE_SENTENCE, -0.7, "阿里巴巴回应质疑", "huaxia_wire", "2026-10-13T10:00:00+08:00",
                         "huaxia_wire:hx-2", "alibaba")],
    },
    "meituan": {
        "group_name": "美团",
        "positive": [],
        "negative": [_ev("美团外卖佣金遭商户投诉，监管部门约谈。", -0.6, "监管约谈美团", "huaxia_wire",
                         "2026-09-29T08:00:00+08:00", "huaxia_wire:hx-3", "meituan")],
    },
    "tencent": {
        "group_name": "腾讯",
        "positive": [
            _ev(TRADITIONAL_SENTENCE, 0.9, "騰訊季績勝預期", "tw_tech_review", "2026-10-15T18:00:00+08:00",
                "tw_tech_review:tw-1", "tencent"),
            _ev("腾讯云签约多家银行客户。", 0.5, "腾讯云拓展金融业务", "huaxia_wire", "2026-10-06T12:00:00+08:00",
                "huaxia_wire:hx-4", "tencent_cloud"),
        ],
        "negative": [_ev("腾讯音乐付费用户增长放缓，股价下跌。", -0.8, HOSTILE_TITLE, "huaxia_wire",
                         "2026-10-07T16:00:00+08:00", "huaxia_wire:hx-5", "tencent_music")],
    },
    "tsmc": {
        "group_name": "台積電",
        "positive": [_ev("台積電先進製程訂單滿載，毛利率創新高。", 0.85, None, "tw_tech_review", None,
                         "tw_tech_review:tw-2", "tsmc")],
        "negative": [],
    },
}

SUMMARY = {
    "articles": 56, "unique_articles": 52, "duplicates": 4, "companies": 9, "groups": 4, "rejected": 1,
    "eval": {"accuracy": 0.6891, "macro_f1": 0.6824, "f1": {"negative": 0.74, "positive": 0.76}},
}


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_fixture(root: Path, *, empty: bool = False) -> tuple[Path, Path, Path]:
    """The aggregate stage's five outputs under `root`, from COUNTS (or with no companies at all)."""
    agg_dir, plots_dir, summary_path = root / "data" / "aggregate", root / "plots", root / "metrics" / "summary.json"
    counts = {} if empty else COUNTS
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for (gid, source, week), pnn in counts.items():
        for key in ((gid, source, week), (gid, "*", week), (gid, source, "*"), (gid, "*", "*")):
            totals[key] = [a + b for a, b in zip(totals[key], pnn, strict=True)]
    voice: dict[tuple[str, str], int] = defaultdict(int)
    for (gid, source, period), (pos, neu, neg) in totals.items():
        voice[(source, period)] += (pos + neu + neg) * MENTIONS_PER_ARTICLE[gid]
    rows, stats = [], {}
    for (gid, source, period), (pos, neu, neg) in sorted(totals.items()):
        articles = pos + neu + neg
        mentions = articles * MENTIONS_PER_ARTICLE[gid]
        net = (pos - neg) / articles
        stats[(gid, source, period)] = (articles, mentions, net)
        rows.append([gid, GROUPS[gid], source, period, articles, mentions, pos, neu, neg, f"{net * 0.6:.4f}",
                     f"{net:.4f}", f"{mentions / voice[(source, period)]:.4f}", articles + 1])
    _write_csv(agg_dir / "company_sentiment.csv",
               ["group_id", "group_name", "source", "period", "articles", "mentions", "positive", "neutral",
                "negative", "mean_score", "net_sentiment", "share_of_voice", "reach"], rows)
    series = sorted((period, gid) for gid, source, period in stats if source == "*" and period != "*")
    _write_csv(plots_dir / "net_sentiment.csv", ["period", "group_id", "net_sentiment", "articles"],
               [[p, g, f"{stats[(g, '*', p)][2]:.4f}", stats[(g, "*", p)][0]] for p, g in series])
    overall = sorted((g for g, s, p in stats if s == "*" and p == "*"), key=lambda g: (-stats[(g, "*", "*")][1], g))
    _write_csv(plots_dir / "mentions.csv", ["group_id", "group_name", "articles", "mentions", "net_sentiment"],
               [[g, GROUPS[g], *stats[(g, "*", "*")][:2], f"{stats[(g, '*', '*')][2]:.4f}"] for g in overall])
    # ensure_ascii keeps the lone surrogate writable; json.loads gives it back as it would arrive.
    (agg_dir / "evidence.json").write_text(json.dumps({} if empty else EVIDENCE, ensure_ascii=True, indent=2),
                                           encoding="utf-8")
    summary_path.parent.mkdir(parents=True, exist_ok=True)
    summary_path.write_text(json.dumps({**SUMMARY, "groups": 0} if empty else SUMMARY), encoding="utf-8")
    return agg_dir, plots_dir, summary_path


def build(root: Path, *, empty: bool = False, top_n: int = 20, name: str = "index.html") -> str:
    agg_dir, plots_dir, summary_path = write_fixture(root, empty=empty)
    out = root / "reports" / name
    build_report(agg_dir, plots_dir, summary_path, out, top_n=top_n)
    return out.read_text(encoding="utf-8")


class Structure(HTMLParser):
    """Checks that tags nest and close, and collects what the tests look at."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                      "wbr"})

    def __init__(self) -> None:
        self._id_stack: list[str] = []
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.elements: list[tuple[str, dict[str, str], tuple[str, ...]]] = []  # tag, attrs, ancestor ids
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        amap = {k: v or "" for k, v in attrs}
        self.elements.append((tag, amap, tuple(self._id_stack)))
        if tag in self.VOID:
            return
        self.stack.append(tag)
        self._id_stack.append(amap.get("id", ""))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, tuple(self._id_stack)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        self._id_stack.pop()
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data

    def inside(self, element_id: str, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [a for t, a, ids in self.elements
                if t == tag and element_id in ids and (cls is None or cls in a.get("class", "").split())]

    def by_id(self, element_id: str) -> tuple[str, dict[str, str]] | None:
        return next(((t, a) for t, a, _ in self.elements if a.get("id") == element_id), None)


def parse(page: str) -> Structure:
    doc = Structure()
    doc.feed(page)
    doc.close()
    assert not doc.errors, doc.errors[:5]
    assert not doc.stack, f"unclosed: {doc.stack}"
    return doc


def company_rows(doc: Structure) -> list[str]:
    return [a["data-group"] for a in doc.inside("company-table", "tr") if "data-group" in a]


# ------------------------------------------------------------------------------------------- static


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    first = build(tmp_path / "a")
    second = build(tmp_path / "b")
    again = build(tmp_path / "a")  # rebuilding over an existing page
    assert first == second == again
    assert (tmp_path / "a" / "reports" / "index.html").read_bytes() == (tmp_path / "b" / "reports" /
                                                                         "index.html").read_bytes()
    assert not list((tmp_path / "a" / "reports").glob(".*tmp")), "atomic write left its temporary file"


def test_hostile_strings_are_escaped(tmp_path: Path) -> None:
    page = build(tmp_path)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;腾讯音乐承压" in page
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "\x00" not in page
    assert page.count("<script") == 1, "only the page's own script may be a script element"


def test_page_is_self_contained_and_locked_down(tmp_path: Path) -> None:
    page = build(tmp_path)
    doc = parse(page)
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"zh\">")
    metas = [a for t, a, _ in doc.elements if t == "meta"]
    assert {"charset": "utf-8"} in metas
    csp = next(a["content"] for a in metas if a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "img-src data:" in csp and "unsafe-inline" not in csp.split("script-src")[1]
    # the only script runs because the policy names its exact hash
    assert doc.scripts == [SCRIPT]
    digest = base64.b64encode(hashlib.sha256(doc.scripts[0].encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and script_hash() == f"'sha256-{digest}'"
    # nothing that could load: no URLs, no src/href outside the page's own anchors
    assert "http:" not in page and "https:" not in page and "//" not in re.sub(r"<script>.*?</script>", "", page,
                                                                                flags=re.S)
    assert not [a for t, a, _ in doc.elements if "src" in a or t in ("link", "iframe", "object", "embed", "img")]
    assert all(a["href"].startswith("#") for t, a, _ in doc.elements if "href" in a)


def test_tables_charts_and_evidence(tmp_path: Path) -> None:
    page = build(tmp_path)
    doc = parse(page)
    assert company_rows(doc) == ORDER_BY_MENTIONS
    # per-source table: one row per group, one column per source plus "all"
    source_rows = [a for a in doc.inside("source-table", "tr") if "data-group" in a]
    assert [a["data-group"] for a in source_rows] == ORDER_BY_MENTIONS
    assert len(doc.inside("source-table", "th")) == 1 + 2 + 1
    # meituan has no tw_tech_review articles: an empty cell, not a zero
    assert len(doc.inside("source-table", "td", "empty")) == 1
    assert doc.by_id("chart-net-sentiment")[0] == "svg" and doc.by_id("chart-mentions")[0] == "svg"
    assert doc.by_id("company-table")[0] == "table"
    lines = doc.inside("chart-net-sentiment", "path", "line")
    assert len(lines) == len(GROUPS) - 1, "meituan's weeks are not consecutive: two points, no line"
    assert len(doc.inside("chart-net-sentiment", "circle", "pt")) == SERIES_POINTS
    assert len(doc.inside("chart-mentions", "rect", "bar")) == len(GROUPS)
    for period in WEEKS:
        assert f">{period}</text>" in page
    assert "净情感 Net sentiment" in page and "期间 Period" in page  # axis labels
    # evidence: original script kept and marked; missing title/date shown as such
    assert f'<blockquote lang="zh-Hant">{TRADITIONAL_SENTENCE}</blockquote>' in page
    assert '<blockquote lang="zh-Hans">阿里云收入大增，人工智能需求旺盛。</blockquote>' in page
    assert "《騰訊季績勝預期》" in page and "tw_tech_review" in page and "2026-10-15" in page
    assert "无标题 untitled" in page and "无日期 undated" in page
    assert len(doc.inside("evidence", "details")) == len(GROUPS)
    # summary block shows whatever keys exist, nested ones flattened
    assert "文章 Articles" in page and ">56<" in page and "0.689" in page and "评估 Evaluation · f1 · negative" in page


def test_top_n_limits_the_charts_not_the_table(tmp_path: Path) -> None:
    doc = parse(build(tmp_path, top_n=2))
    assert len(doc.inside("chart-net-sentiment", "path", "line")) == 2
    assert [a["y"] for a in doc.inside("chart-mentions", "rect", "bar")] == ["12.0", "38.0"]
    assert company_rows(doc) == ORDER_BY_MENTIONS


def test_no_companies_gives_a_valid_page_saying_so(tmp_path: Path) -> None:
    page = build(tmp_path, empty=True)
    doc = parse(page)
    assert doc.by_id("no-companies") is not None and "No companies" in page
    assert doc.by_id("company-table") is None and doc.by_id("chart-net-sentiment") is None
    assert "No evidence sentences" in page
    assert page == build(tmp_path, empty=True)


def test_a_missing_column_names_the_file(tmp_path: Path) -> None:
    agg_dir, plots_dir, summary_path = write_fixture(tmp_path)
    (plots_dir / "mentions.csv").write_text("group_id,articles\nx,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"mentions\.csv: missing column\(s\) group_name, mentions"):
        build_report(agg_dir, plots_dir, summary_path, tmp_path / "out.html")
    assert not (tmp_path / "out.html").exists()


# ------------------------------------------------------------------------------------------ browser

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Injected into a copy of the page (allowed by adding its hash to the CSP): measures what the browser
# actually laid out, exercises the sort script, and leaves the results in the DOM for --dump-dom.
PROBE = """
(function () {
  function size(el) { var r = el.getBoundingClientRect(); return [r.width, r.height]; }
  function order(table) {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.getAttribute("data-group"); });
  }
  var out = {charts: {}};
  ["chart-net-sentiment", "chart-mentions"].forEach(function (id) {
    var svg = document.getElementById(id);
    if (!svg) { out.charts[id] = null; return; }
    var marks = Array.prototype.map.call(svg.querySelectorAll("path, polyline, rect, circle"), function (el) {
      var b = el.getBBox();
      return {tag: el.tagName.toLowerCase(), cls: el.getAttribute("class") || "", bbox: [b.width, b.height]};
    });
    out.charts[id] = {size: size(svg), marks: marks, texts: svg.querySelectorAll("text").length};
  });
  var table = document.getElementById("company-table");
  if (table) {
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    out.table = {size: size(table), sortable: table.getAttribute("data-sortable"), order: order(table),
                 visible_rows: rows.filter(function (r) { return size(r)[1] > 0; }).length};
    var th = table.tHead.rows[0].cells[1];
    th.click();
    out.table.articles_first_click = order(table);
    th.click();
    out.table.articles_second_click = order(table);
  }
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"""
# Not in the CSP: must not run. Proves the policy is in force, so an escaping bug could not execute.
INTRUDER = "document.documentElement.setAttribute('data-intruder', '1');"


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    found = find_chromium()
    if not found:
        pytest.skip("headless Chromium not found (install Debian's `chromium` package; .ci/run does this)")
    return found


def run_chromium(binary: str, tmp: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """One headless run, isolated in `tmp` (profile, HOME), unable to reach the network.

    The page's CSP stops the page from loading anything, but the browser itself still calls home
    (component updater, time and account checks) despite the --disable-* flags, as a net log shows.
    --host-resolver-rules makes every host name unresolvable, and --no-proxy-server stops a proxy
    from the environment routing around that.
    """
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    args = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-extensions", "--no-default-browser-check", "--mute-audio",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--no-proxy-server", f"--user-data-dir={profile}",
        "--window-size=1280,2400", "--hide-scrollbars", *extra, url,
    ]
    env = {**os.environ, "HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp / "config"), "XDG_CACHE_HOME": str(tmp / "cache")}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env, check=False)
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def rendered(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build the fixture page once; dump the DOM of a probed copy and screenshot the page itself."""
    tmp = tmp_path_factory.mktemp("chromium")
    page = build(tmp / "site")
    head, sep, tail = page.rpartition("</body>")
    probed = (head + f"<script>{PROBE}</script>\n<script>{INTRUDER}</script>\n" + sep + tail).replace(
        "script-src ", f"script-src {script_hash(PROBE)} ", 1)
    probed_path = tmp / "site" / "reports" / "probed.html"
    probed_path.write_text(probed, encoding="utf-8")
    dom = run_chromium(chromium, tmp, probed_path.as_uri(), "--dump-dom").stdout
    screenshot = tmp / "index.png"
    run_chromium(chromium, tmp, (tmp / "site" / "reports" / "index.html").as_uri(), f"--screenshot={screenshot}")
    return {"dom": dom, "screenshot": screenshot}


def test_chromium_draws_table_and_charts(rendered: dict[str, Any]) -> None:
    dom = rendered["dom"]
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, f"probe did not run (CSP or script error?): {dom[:500]}"
    probe = json.loads(html.unescape(match.group(1)))
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag and "data-intruder" not in html_tag.group(0), "a script outside the CSP ran"

    # the table, as the browser has it after the scripts ran
    doc = Structure()
    doc.feed(dom)
    assert sorted(company_rows(doc)) == sorted(GROUPS)
    table = probe["table"]
    assert table["visible_rows"] == len(GROUPS) and min(table["size"]) > 0
    assert table["sortable"] == "ready", "the page's own script did not run"
    assert table["order"] == ORDER_BY_MENTIONS
    assert table["articles_first_click"] == ORDER_BY_ARTICLES
    assert table["articles_second_click"] == ORDER_BY_ARTICLES[::-1]

    lines_chart = probe["charts"]["chart-net-sentiment"]
    assert min(lines_chart["size"]) > 100 and lines_chart["texts"] > 10
    lines = [m for m in lines_chart["marks"] if m["cls"] == "line"]
    points = [m for m in lines_chart["marks"] if m["cls"] == "pt"]
    assert len(lines) == len(GROUPS) - 1 and all(m["bbox"][0] > 0 for m in lines)
    assert len(points) == SERIES_POINTS and all(min(m["bbox"]) > 0 for m in points)

    bars_chart = probe["charts"]["chart-mentions"]
    assert min(bars_chart["size"]) > 100
    bars = [m for m in bars_chart["marks"] if m["cls"] == "bar"]
    assert len(bars) == len(GROUPS) and all(min(m["bbox"]) > 0 for m in bars)
    widths = [m["bbox"][0] for m in bars]
    assert widths == sorted(widths, reverse=True), "bars are longest first"


def png_rows(data: bytes, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first `max_rows` unfiltered pixel rows of an 8-bit RGB/RGBA PNG (no Pillow)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(min(height, max_rows)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = prev[i], (prev[i - bpp] if i >= bpp else 0)
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r) for r in rows]


def test_chromium_screenshot_is_not_blank(rendered: dict[str, Any]) -> None:
    data = rendered["screenshot"].read_bytes()
    assert len(data) > 30_000, f"screenshot suspiciously small ({len(data)} bytes): blank page?"
    width, height, rows = png_rows(data, max_rows=160)
    assert (width, height) == (1280, 2400)
    bpp = len(rows[0]) // width
    colours = {row[i:i + 3] for row in rows for i in range(0, len(row), bpp)}
    assert len(colours) > 20, f"only {len(colours)} colours in the header area: nothing drawn"
