"""The table `make run` prints: what the pipeline produced, per source, from the last stage that ran."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from pipeline import paths


def _metrics(stage: str, source: str) -> dict[str, Any] | None:
    path = paths.stage_metrics(stage, source)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def source_table(params: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for name, options in (params.get("sources") or {}).items():
        ingest = _metrics("ingest", name) or {}
        row: dict[str, Any] = {
            "source": name,
            "format": options.get("format"),
            "records_in": ingest.get("in"),
            "ingested": ingest.get("out"),
            "rejected": ingest.get("rejected"),
        }
        norm_path = paths.normalised(name)
        if norm_path.exists():
            df = pd.read_parquet(norm_path, columns=["script", "flags", "published_at"])
            row["normalised"] = len(df)
            scripts = df["script"].value_counts()
            row["scripts"] = " ".join(f"{k}:{v}" for k, v in sorted(scripts.items()))
            row["flagged_spans"] = int(df["flags"].map(len).sum())
            dates = df["published_at"].dropna().str[:10]
            row["dates"] = f"{dates.min()}…{dates.max()}" if len(dates) else ""
        rows.append(row)
    return pd.DataFrame(rows)


def show(params: dict[str, Any]) -> str:
    table = source_table(params)
    if table.empty:
        return "no sources configured"
    with pd.option_context("display.max_columns", None, "display.width", 200):
        return "Per-source results\n" + table.to_string(index=False)

