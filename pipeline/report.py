"""`reports/index.html`: one self-contained page an analyst opens from disk.

Everything is inline (CSS, a few lines of JS for sortable tables, charts as SVG drawn here in Python)
because the page must work without a server or network, and because a file that loads nothing cannot
leak what the analyst is reading. A Content-Security-Policy meta tag enforces that: no network loads at
all, and only our own script (allowed by its SHA-256, not by 'unsafe-inline') may run, so even a
string that slipped past escaping could not execute.

Titles and sentences are scraped news text and are treated as hostile: every string from the data goes
through `_esc`, in text and in attributes alike, and no data is ever placed inside the script.

The output is deterministic (same inputs, same bytes): no timestamps, every iteration sorted, numbers
formatted with fixed precision, so DVC sees a changed report only when its inputs changed.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.artefacts import atomic_open

ALL = "*"  # the aggregate tables' "all sources" / "whole range" marker
UNDATED = "undated"  # the aggregate stage's period for articles without a date

GROUP_COLUMNS = (
    "group_id", "group_name", "source", "period", "articles", "mentions", "positive", "neutral", "negative",
    "mean_score", "net_sentiment", "share_of_voice", "reach",
)
SERIES_COLUMNS = ("period", "group_id", "net_sentiment", "articles")
MENTIONS_COLUMNS = ("group_id", "group_name", "articles", "mentions", "net_sentiment")

# Line colours (Tableau 10: distinguishable, colour-blind tolerable); series beyond ten reuse them dashed.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
DASHES = ("", "6 3", "2 3")
# Net sentiment colours. Blue/orange rather than green/red: in Chinese markets red means "up", so a
# red/green scale reads backwards to part of the audience; blue/orange has no such convention.
POSITIVE_RGB = (33, 102, 172)
NEGATIVE_RGB = (214, 96, 20)
NEUTRAL_RGB = (200, 200, 200)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

SUMMARY_LABELS = {
    "sources": "来源 Sources",
    "articles": "文章 Articles",
    "unique_articles": "去重后 Unique articles",
    "duplicates": "重复 Duplicates",
    "duplicate_clusters": "重复簇 Duplicate clusters",
    "articles_with_companies": "含公司文章 Articles with companies",
    "companies": "公司 Companies",
    "groups": "集团 Groups",
    "rejected": "拒收 Rejected records",
    "movers": "显著变化 Movers",
    "eval": "评估 Evaluation",
    "accuracy": "准确率 accuracy",
    "macro_f1": "宏平均 F1 macro F1",
    "coverage": "覆盖率 coverage",
    "n": "样本 n",
}
SUMMARY_ORDER = tuple(SUMMARY_LABELS)


# --------------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class GroupStats:
    """One row of company_sentiment.csv, numbers parsed (None where the CSV cell is empty/NaN)."""

    group_id: str
    group_name: str
    source: str
    period: str
    articles: int
    mentions: int
    positive: int
    neutral: int
    negative: int
    mean_score: float | None
    net_sentiment: float | None
    share_of_voice: float | None
    reach: int


@dataclass(frozen=True)
class SeriesPoint:
    period: str
    group_id: str
    net_sentiment: float | None
    articles: int


@dataclass(frozen=True)
class MentionsRow:
    group_id: str
    group_name: str
    articles: int
    mentions: int
    net_sentiment: float | None


@dataclass
class ReportData:
    """Everything the page shows, parsed; `render_report` turns it into HTML without touching disk."""

    stats: list[GroupStats] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    series: list[SeriesPoint] = field(default_factory=list)
    mentions: list[MentionsRow] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def _clean(value: Any) -> str:
    """Text safe to encode: lone surrogates (valid in JSON, not in UTF-8) and control characters from
    scraped pages would otherwise crash the write or upset the HTML parser."""
    text = "" if value is None else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("\ufffd", text)


def _esc(value: Any) -> str:
    """HTML-escape for text and double- or single-quoted attributes alike."""
    return html.escape(_clean(value), quote=True)


def _float(cell: str | None) -> float | None:
    if cell is None or cell.strip() == "":
        return None
    value = float(cell)
    return value if math.isfinite(value) else None


def _int(cell: str | None) -> int:
    """Integers, tolerating "3.0" (pandas writes ints as floats when a column had a NaN)."""
    value = _float(cell)
    return 0 if value is None else round(value)


def _read_csv(path: Path, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows as dicts; a missing column is a contract break with the aggregate stage, so say which."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:  # empty file: no rows at all
            return []
        missing = [c for c in required if c not in reader.fieldnames]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def load_report_data(aggregate_dir: Path, plots_dir: Path, summary_path: Path) -> ReportData:
    """Read the aggregate stage's outputs. Missing files raise: a silent empty report would hide a
    wiring mistake in dvc.yaml."""
    stats = [
        GroupStats(
            group_id=r["group_id"], group_name=r["group_name"] or r["group_id"], source=r["source"],
            period=r["period"], articles=_int(r["articles"]), mentions=_int(r["mentions"]),
            positive=_int(r["positive"]), neutral=_int(r["neutral"]), negative=_int(r["negative"]),
            mean_score=_float(r["mean_score"]), net_sentiment=_float(r["net_sentiment"]),
            share_of_voice=_float(r["share_of_voice"]), reach=_int(r["reach"]),
        )
        for r in _read_csv(Path(aggregate_dir) / "company_sentiment.csv", GROUP_COLUMNS)
    ]
    evidence_text = (Path(aggregate_dir) / "evidence.json").read_text(encoding="utf-8")
    evidence = json.loads(evidence_text) if evidence_text.strip() else {}
    if not isinstance(evidence, dict):
        raise ValueError(f"{aggregate_dir}/evidence.json: expected an object keyed by group id")
    series = [
        SeriesPoint(period=r["period"], group_id=r["group_id"], net_sentiment=_float(r["net_sentiment"]),
                    articles=_int(r["articles"]))
        for r in _read_csv(Path(plots_dir) / "net_sentiment.csv", SERIES_COLUMNS)
    ]
    mentions = [
        MentionsRow(group_id=r["group_id"], group_name=r["group_name"] or r["group_id"],
                    articles=_int(r["articles"]), mentions=_int(r["mentions"]),
                    net_sentiment=_float(r["net_sentiment"]))
        for r in _read_csv(Path(plots_dir) / "mentions.csv", MENTIONS_COLUMNS)
    ]
    summary_text = Path(summary_path).read_text(encoding="utf-8")
    summary = json.loads(summary_text) if summary_text.strip() else {}
    if not isinstance(summary, dict):
        summary = {"summary": summary}
    return ReportData(stats=stats, evidence=evidence, series=series, mentions=mentions, summary=summary)


# ----------------------------------------------------------------------------------------- formatting


def _num(value: float | None, digits: int = 3) -> str:
    """Fixed precision, and never "-0.000" (which would make identical data print differently)."""
    if value is None:
        return ""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _signed(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    text = _num(value, digits)
    return text if text.startswith("-") or float(text) == 0 else "+" + text


def _intfmt(value: int) -> str:
    return f"{value:,}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> str:
    t = min(max(t, 0.0), 1.0)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def net_colour(value: float | None, *, strong: bool = False) -> str:
    """Diverging colour for a net sentiment in −1…1: a light tint for table cells, a strong one for
    chart marks. Grey for no value."""
    white = (255, 255, 255)
    if value is None or not math.isfinite(value):
        return "#e6e6e6" if not strong else "#999999"
    v = min(max(value, -1.0), 1.0)
    base = POSITIVE_RGB if v > 0 else NEGATIVE_RGB
    if v == 0:
        return "#c8c8c8" if strong else "#f2f2f2"
    if strong:
        return _mix(NEUTRAL_RGB, base, 0.25 + 0.75 * abs(v))
    return _mix(white, base, 0.08 + 0.42 * abs(v))


def _clip(text: str, limit: int) -> str:
    text = _clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lang(text: str) -> str:
    """zh-Hant / zh-Hans for a sentence, so the browser picks Traditional or Simplified glyph shapes
    (evidence is kept in the article's original script)."""
    try:
        from pipeline.script import detect_script

        script = detect_script(text)
    except Exception:  # script tables unavailable: plain "zh" is still correct, only less precise
        return "zh"
    return {"traditional": "zh-Hant", "simplified": "zh-Hans"}.get(script, "zh")


def _date(published_at: Any) -> str:
    text = _clean(published_at)
    return text[:10] if re.match(r"\d{4}-\d{2}-\d{2}", text) else text


def _nice_step(span: float, target: int = 5) -> float:
    """A 1/2/5 × 10^k tick step giving about `target` ticks over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def _c(value: float) -> str:
    """SVG coordinate, one decimal."""
    return _num(value, 1)


# --------------------------------------------------------------------------------------------- charts

CHART_WIDTH = 960


def svg_net_sentiment(series: Sequence[SeriesPoint], order: Sequence[str], names: dict[str, str]) -> str:
    """Net sentiment per period, one line per group in `order` (already the top N by mentions).

    Periods are evenly spaced categories (they are ISO weeks, months or days, already sorted as strings);
    a period a group has no articles in breaks its line rather than interpolating over the gap.
    """
    periods = sorted({p.period for p in series if p.period not in (ALL, UNDATED)})
    points: dict[str, dict[str, SeriesPoint]] = {gid: {} for gid in order}
    for p in series:
        if p.group_id in points and p.period in periods and p.net_sentiment is not None:
            points[p.group_id][p.period] = p

    left, right_legend, top, bottom = 64, 230, 24, 64
    plot_w = CHART_WIDTH - left - right_legend - 16
    plot_h = 320
    legend_h = 22 * len(order) + top
    height = max(top + plot_h + bottom, legend_h + 8)
    x0, y0, pad = left, top, 14

    def x(i: int) -> float:
        inner = plot_w - 2 * pad  # keep the first and last points off the axis lines
        return x0 + pad + (inner / 2 if len(periods) == 1 else inner * i / (len(periods) - 1))

    def y(v: float) -> float:
        return y0 + plot_h * (1 - (min(max(v, -1.0), 1.0) + 1) / 2)

    out = [
        f'<svg id="chart-net-sentiment" class="chart" role="img" aria-labelledby="chart-net-sentiment-title" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        '<title id="chart-net-sentiment-title">净情感走势 Net sentiment over time, top groups by mentions</title>',
    ]
    # grid and y axis
    for v in (-1.0, -0.5, 0.0, 0.5, 1.0):
        cls = "zero" if v == 0 else "grid"
        out.append(f'<line class="{cls}" x1="{_c(x0)}" y1="{_c(y(v))}" x2="{_c(x0 + plot_w)}" y2="{_c(y(v))}"/>')
        out.append(f'<text class="tick" x="{_c(x0 - 6)}" y="{_c(y(v) + 4)}" text-anchor="end">{_signed(v, 1)}</text>')
    out.append(f'<line class="axis" x1="{_c(x0)}" y1="{_c(y0)}" x2="{_c(x0)}" y2="{_c(y0 + plot_h)}"/>')
    out.append(f'<text class="axis-title" transform="translate(16 {_c(y0 + plot_h / 2)}) rotate(-90)" '
               f'text-anchor="middle">净情感 Net sentiment</text>')
    # x axis: thin the labels so they never overlap (about 70 px each)
    step = max(1, math.ceil(len(periods) / max(1, int(plot_w // 70))))
    for i, period in enumerate(periods):
        xi = x(i)
        out.append(f'<line class="tickmark" x1="{_c(xi)}" y1="{_c(y0 + plot_h)}" x2="{_c(xi)}" '
                   f'y2="{_c(y0 + plot_h + 4)}"/>')
        if i % step == 0:
            out.append(f'<text class="tick" x="{_c(xi)}" y="{_c(y0 + plot_h + 18)}" '
                       f'text-anchor="middle">{_esc(period)}</text>')
    out.append(f'<text class="axis-title" x="{_c(x0 + plot_w / 2)}" y="{_c(y0 + plot_h + 44)}" '
               f'text-anchor="middle">期间 Period</text>')

    for rank, gid in enumerate(order):
        colour = PALETTE[rank % len(PALETTE)]
        dash = DASHES[(rank // len(PALETTE)) % len(DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        name = names.get(gid, gid)
        segs: list[str] = []
        prev = False
        for i, period in enumerate(periods):
            p = points[gid].get(period)
            if p is None or p.net_sentiment is None:
                prev = False
                continue
            segs.append(f"{'L' if prev else 'M'}{_c(x(i))} {_c(y(p.net_sentiment))}")
            prev = True
        out.append(f'<g class="series" data-rank="{rank + 1}">')
        out.append(f"<title>{_esc(name)} ({_esc(gid)})</title>")
        if any(seg.startswith("L") for seg in segs):  # isolated points are drawn by their circles alone
            out.append(f'<path class="line" d="{" ".join(segs)}" stroke="{colour}"{dash_attr}/>')
        for i, period in enumerate(periods):
            p = points[gid].get(period)
            if p is None or p.net_sentiment is None:
                continue
            out.append(
                f'<circle class="pt" cx="{_c(x(i))}" cy="{_c(y(p.net_sentiment))}" r="3.5" fill="{colour}">'
                f"<title>{_esc(name)} · {_esc(period)}: {_signed(p.net_sentiment)} "
                f"({_intfmt(p.articles)} 篇 articles)</title></circle>"
            )
        out.append("</g>")
        # legend entry
        lx, ly = x0 + plot_w + 24, top + 22 * rank + 6
        out.append(f'<g class="legend-item"><title>{_esc(name)} ({_esc(gid)})</title>'
                   f'<line x1="{_c(lx)}" y1="{_c(ly)}" x2="{_c(lx + 26)}" y2="{_c(ly)}" stroke="{colour}" '
                   f'stroke-width="2.5"{dash_attr}/>'
                   f'<text x="{_c(lx + 32)}" y="{_c(ly + 4)}">{_esc(_clip(name, 14))}</text></g>')
    out.append("</svg>")
    return "\n".join(out)


def svg_mentions(rows: Sequence[MentionsRow]) -> str:
    """Horizontal bars: mentions per group (longest first), coloured by net sentiment."""
    label_w, value_w, top, bar_h, gap, bottom = 180, 70, 12, 20, 6, 52
    plot_w = CHART_WIDTH - label_w - value_w
    peak = max((r.mentions for r in rows), default=0)
    tick = max(1, round(_nice_step(peak)))  # mentions are counts: whole-number ticks
    n_ticks = max(1, math.ceil(peak / tick))
    axis_max = float(tick * n_ticks)
    height = top + len(rows) * (bar_h + gap) + bottom
    axis_y = top + len(rows) * (bar_h + gap)

    def w(v: float) -> float:
        return plot_w * v / axis_max

    out = [
        f'<svg id="chart-mentions" class="chart" role="img" aria-labelledby="chart-mentions-title" '
        f'width="{CHART_WIDTH}" height="{height}" viewBox="0 0 {CHART_WIDTH} {height}">',
        '<title id="chart-mentions-title">提及次数 Mentions per group; bar colour is net sentiment</title>',
    ]
    for k in range(n_ticks + 1):
        xt = label_w + w(k * tick)
        out.append(f'<line class="grid" x1="{_c(xt)}" y1="{_c(top - 4)}" x2="{_c(xt)}" y2="{_c(axis_y)}"/>')
        out.append(f'<text class="tick" x="{_c(xt)}" y="{_c(axis_y + 16)}" text-anchor="middle">'
                   f"{_intfmt(k * tick)}</text>")
    out.append(f'<line class="axis" x1="{_c(label_w)}" y1="{_c(top - 4)}" x2="{_c(label_w)}" y2="{_c(axis_y)}"/>')
    out.append(f'<text class="axis-title" x="{_c(label_w + plot_w / 2)}" y="{_c(axis_y + 40)}" '
               f'text-anchor="middle">提及次数 Mentions (all sources, whole range)</text>')
    for i, r in enumerate(rows):
        yb = top + i * (bar_h + gap)
        bw = w(r.mentions)
        out.append(
            f'<g class="bar-row"><title>{_esc(r.group_name)} ({_esc(r.group_id)}): {_intfmt(r.mentions)} 次提及 '
            f"mentions, {_intfmt(r.articles)} 篇 articles, net {_signed(r.net_sentiment)}</title>"
            f'<text class="label" x="{_c(label_w - 8)}" y="{_c(yb + bar_h / 2 + 4)}" text-anchor="end">'
            f"{_esc(_clip(r.group_name, 14))}</text>"
            f'<rect class="bar" x="{_c(label_w)}" y="{_c(yb)}" width="{_c(bw)}" height="{bar_h}" '
            f'fill="{net_colour(r.net_sentiment, strong=True)}"/>'
            f'<text class="value" x="{_c(label_w + bw + 6)}" y="{_c(yb + bar_h / 2 + 4)}">'
            f"{_intfmt(r.mentions)}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- page

STYLE = """
:root { --fg:#1b1f24; --muted:#5b6470; --line:#d8dde3; --bg:#ffffff; --pos:#2166ac; --neg:#d66014; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.5;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
    "Noto Sans", "Helvetica Neue", Arial, sans-serif; font-size: 14px; }
:lang(zh-Hant) { font-family: "Noto Sans CJK TC", "Source Han Sans TC", "PingFang TC", "Microsoft JhengHei",
    "Noto Sans CJK SC", sans-serif; }
header { padding: 20px 32px 12px; border-bottom: 1px solid var(--line); background: #f7f9fb; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
main { padding: 0 32px 48px; max-width: 1400px; }
nav a { margin-right: 14px; }
a { color: #1d5fa8; }
.muted, .note { color: var(--muted); }
.note { font-size: 12.5px; margin: 4px 0 10px; }
dl.summary { display: flex; flex-wrap: wrap; gap: 8px 12px; margin: 12px 0 4px; }
dl.summary div { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px;
  min-width: 120px; }
dl.summary dt { font-size: 12px; color: var(--muted); }
dl.summary dd { margin: 0; font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #f0f3f6; font-weight: 600; position: sticky; top: 0; vertical-align: bottom; line-height: 1.25; }
th .en { font-weight: normal; font-size: 11.5px; color: var(--muted); }
th.text, td.text { text-align: left; }
th[data-type] { cursor: pointer; user-select: none; }
th[data-type]::after { content: " \\2195"; color: #9aa3ad; font-size: 11px; }
th[aria-sort="ascending"]::after { content: " \\25B2"; color: var(--fg); }
th[aria-sort="descending"]::after { content: " \\25BC"; color: var(--fg); }
tbody tr:hover td { background-image: linear-gradient(rgba(0,0,0,.04), rgba(0,0,0,.04)); }
td.net { font-weight: 600; }
td .n { color: var(--muted); font-weight: normal; font-size: 12px; }
td.empty { color: #aab; }
.id { color: var(--muted); font-size: 12px; margin-left: 6px; }
.key { display: inline-block; width: 12px; height: 12px; vertical-align: -1px; border-radius: 2px; }
.chart { max-width: 100%; height: auto; display: block; margin: 8px 0; }
.chart text { font-size: 12px; fill: var(--fg); }
.chart .tick { fill: var(--muted); font-size: 11px; }
.chart .axis-title { font-size: 12px; fill: var(--muted); }
.chart .grid { stroke: #eceff2; stroke-width: 1; }
.chart .zero { stroke: #9aa3ad; stroke-width: 1.2; }
.chart .axis, .chart .tickmark { stroke: #9aa3ad; stroke-width: 1; }
.chart .line { fill: none; stroke-width: 2.2; stroke-linejoin: round; stroke-linecap: round; }
.chart .series { transition: opacity .15s; }
#chart-net-sentiment:hover .series { opacity: .25; }
#chart-net-sentiment .series:hover { opacity: 1; }
#chart-net-sentiment .series:hover .line { stroke-width: 3.5; }
.chart .bar-row:hover .bar { stroke: #333; stroke-width: 1; }
.evidence details { border: 1px solid var(--line); border-radius: 6px; margin: 10px 0; padding: 6px 14px; }
.evidence summary { cursor: pointer; font-weight: 600; font-size: 15px; }
.ev-cols { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.ev-cols h4 { margin: 8px 0 4px; font-size: 13px; }
.ev-cols .pos h4 { color: var(--pos); }
.ev-cols .neg h4 { color: var(--neg); }
.ev-cols ol { margin: 0; padding-left: 20px; }
.ev-cols li { margin: 0 0 10px; }
blockquote { margin: 0; font-size: 14.5px; }
.ev-meta { font-size: 12px; color: var(--muted); }
.empty-state { padding: 24px; border: 1px dashed var(--line); border-radius: 6px; color: var(--muted); }
@media (max-width: 900px) { .ev-cols { grid-template-columns: 1fr; }
  main, header { padding-left: 12px; padding-right: 12px; } }
@media print { th { position: static; } .evidence details { break-inside: avoid; } }
"""

# Sortable tables. Reads only the DOM (data-v attributes and text); no data is embedded in the script.
SCRIPT = """
(function () {
  "use strict";
  function value(cell, type) {
    var raw = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent.trim();
    if (type !== "num") { return raw; }
    return raw === "" ? NaN : parseFloat(raw);
  }
  function sortBy(table, th, index) {
    var type = th.getAttribute("data-type");
    var current = th.getAttribute("aria-sort");
    var descending = current ? current === "ascending" : type === "num";
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[index], type), y = value(b.cells[index], type), r;
      if (type === "num") {
        if (isNaN(x) || isNaN(y)) { r = isNaN(x) ? (isNaN(y) ? 0 : 1) : -1; return r || a.dataset.i - b.dataset.i; }
        r = descending ? y - x : x - y;
      } else {
        r = descending ? String(y).localeCompare(x, "zh") : String(x).localeCompare(y, "zh");
      }
      return r || a.dataset.i - b.dataset.i;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row, i) { row.dataset.i = i; });
    Array.prototype.forEach.call(head.cells, function (th, index) {
      if (!th.hasAttribute("data-type")) { return; }
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th, index); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th, index); }
      });
    });
    table.setAttribute("data-sortable", "ready");
  });
})();
"""


def script_hash(script: str = SCRIPT) -> str:
    """The CSP source expression that allows exactly this inline script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str = SCRIPT) -> str:
    """No network loads of any kind; inline styles; only our own script, by hash."""
    return (f"default-src 'none'; style-src 'unsafe-inline'; script-src {script_hash(script)}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _summary_items(summary: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Flatten summary.json into (label, value) pairs: known keys first in a fixed order, the rest
    sorted, nested objects as "parent · child"."""
    known = [k for k in SUMMARY_ORDER if k in summary]
    rest = sorted(k for k in summary if k not in SUMMARY_LABELS)
    items: list[tuple[str, str]] = []
    for key in [*known, *rest]:
        value = summary[key]
        label_parts = (*prefix, SUMMARY_LABELS.get(key, str(key)))
        if isinstance(value, dict):
            items.extend(_summary_items(value, label_parts))
            continue
        if isinstance(value, bool):
            shown = "是 yes" if value else "否 no"
        elif isinstance(value, int):
            shown = _intfmt(value)
        elif isinstance(value, float):
            shown = _num(value, 3) if math.isfinite(value) else "—"
        elif value is None:
            shown = "—"
        elif isinstance(value, list):
            shown = ", ".join(_clean(v) for v in value)
        else:
            shown = _clean(value)
        items.append((" · ".join(label_parts), shown))
    return items


def _summary_html(summary: dict[str, Any]) -> str:
    items = _summary_items(summary)
    if not items:
        return '<p class="note">没有汇总数据 No summary figures (metrics/summary.json is empty).</p>'
    cells = "".join(f"<div><dt>{_esc(k)}</dt><dd>{_esc(v)}</dd></div>" for k, v in items)
    return f'<dl class="summary">{cells}</dl>'


def _net_cell(value: float | None, extra: str = "") -> str:
    return (f'<td class="net" data-v="{_num(value, 4)}" style="background:{net_colour(value)}">'
            f"{_signed(value)}{extra}</td>")


def _company_table(rows: Sequence[GroupStats], anchors: dict[str, str]) -> str:
    head = "".join(
        f'<th{cls} data-type="{kind}">{zh}<br><span class="en">{en}</span></th>'
        for cls, kind, zh, en in (
            (' class="text"', "text", "集团", "Group"), ("", "num", "文章", "Articles"),
            ("", "num", "提及", "Mentions"), ("", "num", "正面", "Positive"), ("", "num", "中性", "Neutral"),
            ("", "num", "负面", "Negative"), ("", "num", "净情感", "Net"), ("", "num", "平均分", "Mean score"),
            ("", "num", "声量占比", "Share of voice"), ("", "num", "覆盖", "Reach"),
        )
    )
    body = []
    for r in rows:
        anchor = anchors.get(r.group_id)
        name = f'<a href="#{anchor}">{_esc(r.group_name)}</a>' if anchor else _esc(r.group_name)
        body.append(
            f'<tr data-group="{_esc(r.group_id)}"><td class="text" data-v="{_esc(r.group_name)}">{name}'
            f'<span class="id">{_esc(r.group_id)}</span></td>'
            f'<td data-v="{r.articles}">{_intfmt(r.articles)}</td><td data-v="{r.mentions}">{_intfmt(r.mentions)}</td>'
            f'<td data-v="{r.positive}">{_intfmt(r.positive)}</td><td data-v="{r.neutral}">{_intfmt(r.neutral)}</td>'
            f'<td data-v="{r.negative}">{_intfmt(r.negative)}</td>{_net_cell(r.net_sentiment)}'
            f'<td data-v="{_num(r.mean_score, 4)}">{_num(r.mean_score, 3) or "—"}</td>'
            f'<td data-v="{_num(r.share_of_voice, 4)}">{_pct(r.share_of_voice)}</td>'
            f'<td data-v="{r.reach}">{_intfmt(r.reach)}</td></tr>'
        )
    return (f'<div class="table-wrap"><table id="company-table" class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>\n{chr(10).join(body)}\n</tbody></table></div>')


def _source_table(groups: Sequence[GroupStats], by_source: dict[tuple[str, str], GroupStats],
                  sources: Sequence[str]) -> str:
    head = ('<th class="text" data-type="text">集团<br><span class="en">Group</span></th>'
            + "".join(f'<th data-type="num">{_esc(s)}</th>' for s in sources)
            + '<th data-type="num">全部<br><span class="en">All sources</span></th>')
    body = []
    for g in groups:
        cells = []
        for s in sources:
            r = by_source.get((g.group_id, s))
            if r is None or r.articles == 0:
                cells.append('<td class="empty" data-v="">—</td>')
            else:
                cells.append(_net_cell(r.net_sentiment, f' <span class="n">({_intfmt(r.articles)})</span>'))
        cells.append(_net_cell(g.net_sentiment, f' <span class="n">({_intfmt(g.articles)})</span>'))
        body.append(f'<tr data-group="{_esc(g.group_id)}"><td class="text" data-v="{_esc(g.group_name)}">'
                    f'{_esc(g.group_name)}<span class="id">{_esc(g.group_id)}</span></td>{"".join(cells)}</tr>')
    return (f'<div class="table-wrap"><table id="source-table" class="sortable"><thead><tr>{head}</tr></thead>'
            f'<tbody>\n{chr(10).join(body)}\n</tbody></table></div>')


def _evidence_items(items: Any) -> str:
    if not isinstance(items, list) or not items:
        return '<p class="muted">—</p>'
    out = []
    for ev in items:
        if not isinstance(ev, dict):
            continue
        sentence = _clean(ev.get("sentence"))
        title = ev.get("title")
        title_html = (f'<span lang="{_lang(_clean(title))}">《{_esc(title)}》</span>' if title
                      else "（无标题 untitled）")
        date = _date(ev.get("published_at")) if ev.get("published_at") else "无日期 undated"
        score = ev.get("score")
        score_txt = _signed(float(score)) if isinstance(score, int | float) and math.isfinite(score) else "—"
        out.append(
            f'<li><blockquote lang="{_lang(sentence)}">{_esc(sentence)}</blockquote>'
            f'<div class="ev-meta">{title_html} · {_esc(ev.get("source"))} · '
            f'<time title="{_esc(ev.get("published_at"))}">{_esc(date)}</time> · 得分 score {score_txt}'
            f' · <span class="id">{_esc(ev.get("doc_id"))}</span></div></li>'
        )
    return "<ol>" + "".join(out) + "</ol>" if out else '<p class="muted">—</p>'


def _evidence_html(order: Sequence[str], evidence: dict[str, Any], names: dict[str, str],
                   anchors: dict[str, str], open_ids: set[str]) -> str:
    if not order:
        return '<p class="empty-state">没有例句 No evidence sentences.</p>'
    out = []
    for gid in order:
        entry = evidence.get(gid) if isinstance(evidence.get(gid), dict) else {}
        name = names.get(gid) or _clean(entry.get("group_name")) or gid
        is_open = " open" if gid in open_ids else ""
        out.append(
            f'<details id="{anchors[gid]}"{is_open}><summary>{_esc(name)}<span class="id">{_esc(gid)}</span></summary>'
            f'<div class="ev-cols"><div class="pos"><h4>最正面 Most positive</h4>'
            f'{_evidence_items(entry.get("positive"))}</div>'
            f'<div class="neg"><h4>最负面 Most negative</h4>{_evidence_items(entry.get("negative"))}</div></div>'
            "</details>"
        )
    return "\n".join(out)


def _legend_key() -> str:
    return (f'<span class="key" style="background:{net_colour(1.0, strong=True)}"></span> 正面 positive &nbsp; '
            f'<span class="key" style="background:{net_colour(0.0, strong=True)}"></span> 中性 neutral &nbsp; '
            f'<span class="key" style="background:{net_colour(-1.0, strong=True)}"></span> 负面 negative')


def render_report(data: ReportData, top_n: int = 20) -> str:
    """The whole page as a string. Pure: the same `data` always gives the same text."""
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, not {top_n}")
    overall = [r for r in data.stats if r.source == ALL and r.period == ALL]
    seen: set[str] = set()
    for r in overall:
        if r.group_id in seen:
            raise ValueError(f"company_sentiment.csv: more than one all-sources/whole-range row for {r.group_id!r}")
        seen.add(r.group_id)
    overall.sort(key=lambda r: (-r.mentions, -r.articles, r.group_id))
    by_source = {(r.group_id, r.source): r for r in data.stats if r.source != ALL and r.period == ALL}
    sources = sorted({r.source for r in data.stats if r.source != ALL})
    periods = sorted({r.period for r in data.stats if r.period not in (ALL, UNDATED)})

    names: dict[str, str] = {}
    for gid, entry in sorted(data.evidence.items()):
        if isinstance(entry, dict) and entry.get("group_name"):
            names[gid] = _clean(entry["group_name"])
    for r in sorted(data.mentions, key=lambda r: r.group_id):
        names[r.group_id] = r.group_name
    for r in overall:
        names[r.group_id] = r.group_name

    mentions = sorted(data.mentions, key=lambda r: (-r.mentions, r.group_id))
    rank = {r.group_id: i for i, r in enumerate(mentions)}
    series_groups = sorted({p.group_id for p in data.series}, key=lambda g: (rank.get(g, len(rank)), g))
    line_order = series_groups[:top_n]

    ev_order = [r.group_id for r in overall] + sorted(g for g in data.evidence if g not in seen)
    anchors = {gid: f"ev-{i + 1}" for i, gid in enumerate(ev_order)}
    open_ids = {r.group_id for r in overall[:top_n]} if overall else set(ev_order[:top_n])

    subtitle = []
    if sources:
        subtitle.append(f"来源 Sources: {_esc(', '.join(sources))}")
    if periods:
        span = periods[0] if len(periods) == 1 else f"{periods[0]} – {periods[-1]}"
        subtitle.append(f"期间 Periods: {_esc(span)}")

    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_esc(content_security_policy())}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>新闻企业情感报告 · Company sentiment report</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        "<h1>新闻企业情感报告 <span class=\"muted\">Company sentiment in the news</span></h1>",
        f'<p class="note">{" · ".join(subtitle)}</p>' if subtitle else "",
        _summary_html(data.summary),
        '<nav><a href="#companies">公司 Companies</a><a href="#sources">来源 Sources</a>'
        '<a href="#trend">走势 Trend</a><a href="#mentions">提及 Mentions</a>'
        '<a href="#evidence">例句 Evidence</a></nav>',
        "</header>",
        "<main>",
    ]
    if not overall:
        parts.append('<section id="companies"><h2>公司 Companies</h2><p class="empty-state" id="no-companies">'
                     "没有公司数据：汇总结果中没有提及任何公司。 No companies: the aggregate outputs mention no "
                     "company, so there is nothing to tabulate or chart.</p></section>")
    else:
        parts += [
            '<section id="companies"><h2>公司 Companies <span class="muted">(全部来源、全部期间 all sources, '
            "whole range)</span></h2>",
            f'<p class="note">点击表头排序 Click a column header to sort. 净情感 Net sentiment = (正面 − 负面) / 文章 '
            f"(positive − negative) / articles. {_legend_key()}</p>",
            _company_table(overall, anchors),
            "</section>",
            '<section id="sources"><h2>按来源 By source <span class="muted">(净情感 net sentiment, 全部期间 whole '
            "range; (n) = 文章 articles)</span></h2>",
            _source_table(overall, by_source, sources) if sources else '<p class="empty-state">没有来源数据 '
            "No per-source rows.</p>",
            "</section>",
            f'<section id="trend"><h2>净情感走势 Net sentiment over time <span class="muted">(提及最多的前 '
            f"{len(line_order)} 个集团 top {len(line_order)} groups by mentions)</span></h2>",
        ]
        undated = sum(p.articles for p in data.series if p.period == UNDATED and p.group_id in line_order)
        if line_order and any(p.period not in (ALL, UNDATED) for p in data.series):
            parts.append(svg_net_sentiment(data.series, line_order, names))
            if undated:
                parts.append(f'<p class="note">{_intfmt(undated)} 篇无日期文章未显示 undated articles not shown.</p>')
        else:
            parts.append('<p class="empty-state">没有按期间的数据 No dated per-period rows to plot.</p>')
        parts.append("</section>")
        bars = mentions[:top_n]
        parts.append(f'<section id="mentions"><h2>提及次数 Mentions <span class="muted">(前 {len(bars)} 个集团 '
                     f"top {len(bars)})</span></h2>")
        if bars:
            parts.append(f'<p class="note">条形颜色 = 净情感 Bar colour = net sentiment: {_legend_key()}</p>')
            parts.append(svg_mentions(bars))
        else:
            parts.append('<p class="empty-state">没有提及数据 No mentions rows.</p>')
        parts.append("</section>")
    parts += [
        '<section id="evidence" class="evidence"><h2>例句 Evidence <span class="muted">(每个集团最正面与最负面的句子，'
        "原文字体 strongest positive and negative sentences per group, in the article's original script)"
        "</span></h2>",
        _evidence_html(ev_order, data.evidence, names, anchors, open_ids),
        "</section>",
        "</main>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def build_report(aggregate_dir: Path, plots_dir: Path, summary_path: Path, out_path: Path, top_n: int = 20) -> None:
    """Read the aggregate outputs and write the page atomically (a killed run leaves the old page)."""
    page = render_report(load_report_data(Path(aggregate_dir), Path(plots_dir), Path(summary_path)), top_n)
    with atomic_open(out_path) as fh:
        fh.write(page)

