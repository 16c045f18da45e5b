"""Aggregate stage: who is talked about, how favourably, where and since when.

Reads every source's sentiment rows and normalised articles, clusters syndicated copies (counted
once, under the earliest copy, with `reach` = number of copies), and writes per group and per
company/brand × source × period tables ("*" rows for all sources / the whole range), movers, the
duplicate clusters, the evidence the report quotes, DVC plot data and the run summary metrics.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from pipeline.artefacts import atomic_open, write_json
from pipeline.dedup import DocInfo, cluster
from pipeline.kb import KnowledgeBase

ALL = "*"


@dataclass(frozen=True)
class AggregateConfig:
    period: str = "week"
    dedup_threshold: float = 0.5
    shingle_size: int = 5
    movers_min_delta: float = 0.5
    movers_min_articles: int = 2
    plot_groups: int = 10
    evidence_per_side: int = 3

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> AggregateConfig:
        cfg = cls(**{k: v for k, v in params.items() if k in cls.__dataclass_fields__})
        if cfg.period not in ("day", "week", "month"):
            raise ValueError(f"aggregate.period must be day, week or month, not {cfg.period!r}")
        return cfg


def period_of(published_at: str | None, period: str) -> str:
    """The article's local date (its own UTC offset), as a day, ISO week or month label."""
    if not isinstance(published_at, str) or len(published_at) < 10:
        return "undated"
    day = dt.date.fromisoformat(published_at[:10])
    if period == "day":
        return day.isoformat()
    if period == "month":
        return day.strftime("%Y-%m")
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _docs(normalised: list[Path]) -> Iterator[DocInfo]:
    for path in normalised:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=512, columns=["doc_id", "published_at", "text"]):
            for row in batch.to_pylist():
                yield DocInfo(row["doc_id"], row["published_at"], row["text"])


def _articles_meta(normalised: list[Path]) -> pd.DataFrame:
    frames = [pd.read_parquet(p, columns=["doc_id", "source", "title", "published_at"]) for p in normalised]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["doc_id", "source", "title", "published_at"])


def _table(rows: pd.DataFrame, key: str, extra: list[str]) -> pd.DataFrame:
    """Counts per key × source × period, with "*" totals over sources and over periods."""
    out = []
    # Only the columns counted: copying the evidence sentences four times was most of the stage's memory.
    rows = rows[[key, *extra, "source", "period", "doc_id", "mentions", "label", "score", "reach"]]
    for by_source in (True, False):
        for by_period in (True, False):
            frame = rows.copy()
            if not by_source:
                frame["source"] = ALL
            if not by_period:
                frame["period"] = ALL
            g = frame.groupby([key, *extra, "source", "period"], sort=True)
            t = g.agg(
                articles=("doc_id", "size"),
                mentions=("mentions", "sum"),
                positive=("label", lambda s: int((s == "positive").sum())),
                neutral=("label", lambda s: int((s == "neutral").sum())),
                negative=("label", lambda s: int((s == "negative").sum())),
                mean_score=("score", "mean"),
                reach=("reach", "sum"),
            ).reset_index()
            out.append(t)
    table = pd.concat(out, ignore_index=True)
    table["net_sentiment"] = (table["positive"] - table["negative"]) / table["articles"]
    totals = table.groupby(["source", "period"])["mentions"].transform("sum")
    table["share_of_voice"] = table["mentions"] / totals
    for col in ("mean_score", "net_sentiment", "share_of_voice"):
        table[col] = table[col].round(4)
    cols = [key, *extra, "source", "period", "articles", "mentions", "positive", "neutral", "negative",
            "mean_score", "net_sentiment", "share_of_voice", "reach"]
    return table[cols].sort_values([key, "source", "period"]).reset_index(drop=True)


def movers(groups: pd.DataFrame, min_delta: float, min_articles: int) -> pd.DataFrame:
    """Groups whose net sentiment moved by at least `min_delta` between consecutive periods
    (all sources together), both periods with at least `min_articles` articles."""
    series = groups[(groups["source"] == ALL) & (groups["period"] != ALL) & (groups["period"] != "undated")]
    rows = []
    for gid, frame in series.groupby("group_id", sort=True):
        frame = frame.sort_values("period")
        prev = None
        for cur in frame.itertuples(index=False):
            if prev is not None and prev.articles >= min_articles and cur.articles >= min_articles:
                delta = round(cur.net_sentiment - prev.net_sentiment, 4)
                if abs(delta) >= min_delta:
                    rows.append({"group_id": gid, "group_name": cur.group_name, "period_from": prev.period,
                                 "period_to": cur.period, "net_from": prev.net_sentiment, "net_to": cur.net_sentiment,
                                 "delta": delta, "articles_from": prev.articles, "articles_to": cur.articles,
                                 "direction": "up" if delta > 0 else "down"})
            prev = cur
    cols = ["group_id", "group_name", "period_from", "period_to", "net_from", "net_to", "delta", "articles_from",
            "articles_to", "direction"]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["delta", "group_id"], key=lambda s: -s.abs() if s.name == "delta" else s).reset_index(
        drop=True) if len(out) else out


def _evidence(group_rows: pd.DataFrame, kb: KnowledgeBase, per_side: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for gid, frame in group_rows.groupby("group_id", sort=True):
        entry: dict[str, Any] = {"group_name": kb[gid].name if gid in kb else gid}
        for side, sign in (("positive", 1), ("negative", -1)):
            picked = frame[frame["label"] == side].copy()
            picked["key"] = -sign * picked["score"]
            picked = picked.sort_values(["key", "doc_id"]).head(per_side)
            entry[side] = [
                {"sentence": r.evidence_text, "score": float(r.score), "title": r.title if isinstance(r.title, str)
                 else None, "source": r.source, "published_at": r.published_at if isinstance(r.published_at, str)
                 else None, "doc_id": r.doc_id, "company_id": r.company_id}
                for r in picked.itertuples(index=False)
            ]
        out[str(gid)] = entry
    return out


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_open(path) as fh:
        frame.to_csv(fh, index=False, lineterminator="\n", float_format="%.4f")


def _rejected(metrics_dir: Path) -> int:
    total = 0
    for path in sorted(metrics_dir.glob("*/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("rejected"), int):
            total += data["rejected"]
    return total


def aggregate(
    sources: list[str],
    sentiment_paths: list[Path],
    normalised_paths: list[Path],
    kb: KnowledgeBase,
    cfg: AggregateConfig,
    out_dir: Path,
    plots_dir: Path,
    summary_path: Path,
    eval_path: Path | None = None,
    metrics_dir: Path = Path("metrics"),
) -> dict[str, Any]:
    clusters = cluster(_docs(normalised_paths), cfg.dedup_threshold, cfg.shingle_size)
    meta = _articles_meta(normalised_paths)
    meta["canonical"] = meta["doc_id"].map(lambda d: clusters[d][0])
    meta["similarity"] = meta["doc_id"].map(lambda d: clusters[d][1])
    reach = meta.groupby("canonical").size()
    dup = meta[meta["canonical"].map(reach) > 1].copy()
    dup["is_canonical"] = dup["doc_id"] == dup["canonical"]
    dup = dup.rename(columns={"canonical": "cluster_id"})[
        ["cluster_id", "doc_id", "source", "title", "published_at", "is_canonical", "similarity"]
    ].sort_values(["cluster_id", "is_canonical", "doc_id"], ascending=[True, False, True])

    cols = ["doc_id", "source", "published_at", "title", "level", "company_id", "group_id", "mentions", "score",
            "label", "evidence_text"]
    frames = [pd.read_parquet(p, columns=cols) for p in sentiment_paths]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    rows = rows[rows["doc_id"].map(lambda d: clusters.get(d, (d, 1.0))[0] == d)].copy()  # canonical copies only
    rows["reach"] = rows["doc_id"].map(lambda d: int(reach.get(d, 1)))
    rows["period"] = rows["published_at"].map(lambda p: period_of(p, cfg.period))

    def name(cid: str) -> str:
        return kb[cid].name if cid in kb else cid

    group_rows = rows[rows["level"] == "group"].copy()
    group_rows["group_name"] = group_rows["group_id"].map(name)
    company_rows = rows.loc[rows["level"] == "company", [c for c in rows.columns if c != "evidence_text"]].copy()
    company_rows["company_name"] = company_rows["company_id"].map(name)
    groups = _table(group_rows, "group_id", ["group_name"])
    companies = _table(company_rows, "company_id", ["company_name", "group_id"])
    moved = movers(groups, cfg.movers_min_delta, cfg.movers_min_articles)

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(groups, out_dir / "company_sentiment.csv")
    _write_csv(companies, out_dir / "brand_sentiment.csv")
    _write_csv(moved, out_dir / "movers.csv")
    _write_csv(dup, out_dir / "duplicates.csv")
    write_json(out_dir / "evidence.json", _evidence(group_rows, kb, cfg.evidence_per_side))

    overall = groups[(groups["source"] == ALL) & (groups["period"] == ALL)].sort_values(
        ["mentions", "group_id"], ascending=[False, True])
    top = list(overall["group_id"].head(cfg.plot_groups))
    series = groups[(groups["source"] == ALL) & (groups["period"] != ALL) & groups["group_id"].isin(top)]
    _write_csv(series[["period", "group_id", "net_sentiment", "articles"]].sort_values(["period", "group_id"]),
               plots_dir / "net_sentiment.csv")
    _write_csv(overall[["group_id", "group_name", "articles", "mentions", "net_sentiment"]],
               plots_dir / "mentions.csv")

    summary: dict[str, Any] = {
        "sources": len(sources),
        "articles": len(meta),
        "unique_articles": int(meta["canonical"].nunique()),
        "duplicates": int(len(meta) - meta["canonical"].nunique()),
        "duplicate_clusters": int((reach > 1).sum()),
        "articles_with_companies": int(group_rows["doc_id"].nunique()),
        "companies": int(company_rows["company_id"].nunique()),
        "groups": int(group_rows["group_id"].nunique()),
        "rejected": _rejected(metrics_dir),
        "movers": len(moved),
    }
    if eval_path is not None and Path(eval_path).exists():
        ev = json.loads(Path(eval_path).read_text(encoding="utf-8"))
        summary["eval"] = {k: ev[k] for k in ("accuracy", "macro_f1", "coverage", "n") if k in ev}
        summary["eval"]["f1"] = {k: v["f1"] for k, v in ev.get("per_class", {}).items()}
    write_json(summary_path, summary)
    return summary
