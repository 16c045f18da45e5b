"""The table `make run` prints: per group (articles, mentions, net sentiment, top evidence) once the
aggregation exists, else per source from the last stage that ran; and where the report is."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import paths

AGGREGATE = Path("data/aggregate")
REPORT = Path("reports/index.html")


def _metrics(stage: str, source: str) -> dict[str, Any] | None:
    path = paths.stage_metrics(stage, source)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str, width: int) -> str:
    out, used = "", 0
    for ch in text:
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width - 1:
            return out + "…"
        out, used = out + ch, used + w
    return out


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def source_table(params: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, options in (params.get("sources") or {}).items():
        ingest = _metrics("ingest", name) or {}
        row: dict[str, Any] = {"source": name, "format": options.get("format"), "records_in": ingest.get("in"),
                               "ingested": ingest.get("out"), "rejected": ingest.get("rejected")}
        norm_path = paths.normalised(name)
        if norm_path.exists():
            df = pd.read_parquet(norm_path, columns=["script", "flags", "published_at"])
            row["normalised"] = len(df)
            row["scripts"] = " ".join(f"{k}:{v}" for k, v in sorted(df["script"].value_counts().items()))
            row["flagged_spans"] = int(df["flags"].map(len).sum())
            dates = df["published_at"].dropna().str[:10]
            row["dates"] = f"{dates.min()}…{dates.max()}" if len(dates) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def group_table(limit: int = 25) -> str:
    table = pd.read_csv(AGGREGATE / "company_sentiment.csv")
    overall = table[(table["source"] == "*") & (table["period"] == "*")].sort_values(
        ["mentions", "group_id"], ascending=[False, True]).head(limit)
    evidence = json.loads((AGGREGATE / "evidence.json").read_text(encoding="utf-8"))
    header = f"{_pad('group', 26)} {'articles':>8} {'mentions':>8} {'net':>6}  top evidence"
    lines = [header, "-" * 100]
    for r in overall.itertuples(index=False):
        ev = evidence.get(r.group_id, {})
        side = "positive" if r.net_sentiment >= 0 else "negative"
        best = (ev.get(side) or ev.get("positive") or ev.get("negative") or [{}])[0].get("sentence", "")
        name = _clip(f"{r.group_name} ({r.group_id})", 26)
        lines.append(f"{_pad(name, 26)} {r.articles:>8} {r.mentions:>8} {r.net_sentiment:>+6.2f}  "
                     f"{_clip(best.replace(chr(10), ' '), 56)}")
    return "\n".join(lines)


def show(params: dict[str, Any]) -> str:
    parts = []
    table = source_table(params)
    if not table.empty:
        with pd.option_context("display.max_columns", None, "display.width", 200):
            parts.append("Per-source results\n" + table.to_string(index=False))
    if (AGGREGATE / "company_sentiment.csv").exists():
        summary = json.loads(Path("metrics/summary.json").read_text(encoding="utf-8"))
        parts.append(f"Per-group sentiment, all sources ({summary['unique_articles']} unique articles, "
                     f"{summary['duplicates']} syndicated copies counted once)\n" + group_table())
    if REPORT.exists():
        parts.append(f"Report: {REPORT.resolve()}")
    return "\n\n".join(parts) if parts else "no sources configured"
