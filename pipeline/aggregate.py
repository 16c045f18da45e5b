"""Aggregate stage: who is talked about, how favourably, where and since when.

Reads every source's article fingerprints (the `fingerprint` stage) and sentiment rows, clusters
syndicated copies (counted once, under the earliest copy, with `reach` = number of copies), and writes per group and per
company/brand × source × period tables ("*" rows for all sources / the whole range), movers, the
duplicate clusters, the evidence the report quotes, DVC plot data and the run summary metrics.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipeline.artefacts import atomic_open, iter_parquet_rows, write_json
from pipeline.dedup import NUM_PERM, SHINGLE_SIZE, cluster_signatures, from_bytes
from pipeline.kb import KnowledgeBase

ALL = "*"


@dataclass(frozen=True)
class AggregateConfig:
    period: str = "week"
    dedup_threshold: float = 0.5
    shingle_size: int = SHINGLE_SIZE
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


def _load_fingerprints(paths: list[Path]) -> tuple[list[str], list[str | None], np.ndarray]:
    """Every article's doc_id, date and signature, in source order: the one thing kept per article."""
    ids: list[str] = []
    dates: list[str | None] = []
    total = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    sigs = np.empty((total, NUM_PERM), dtype=np.uint32)  # filled in place: no second copy at the end
    for path in paths:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096, columns=["doc_id", "published_at", "minhash"]):
            start = len(ids)
            ids.extend(batch.column("doc_id").to_pylist())
            dates.extend(batch.column("published_at").to_pylist())
            sigs[start:len(ids)] = from_bytes(batch.column("minhash").to_pylist())
    return ids, dates, sigs


def _duplicates(paths: list[Path], clusters: dict[str, tuple[str, float]], reach: Counter[str]) -> pd.DataFrame:
    """The members of clusters with more than one copy (a second, narrow read of the fingerprints)."""
    rows = []
    for path in paths:
        for batch in iter_parquet_rows(path, 4096, ["doc_id", "source", "title", "published_at"]):
            for row in batch:
                canon, sim = clusters[row["doc_id"]]
                if reach[canon] > 1:
                    rows.append({"cluster_id": canon, "doc_id": row["doc_id"], "source": row["source"],
                                 "title": row["title"], "published_at": row["published_at"],
                                 "is_canonical": row["doc_id"] == canon, "similarity": sim})
    cols = ["cluster_id", "doc_id", "source", "title", "published_at", "is_canonical", "similarity"]
    frame = pd.DataFrame(rows, columns=cols)
    return frame.sort_values(["cluster_id", "is_canonical", "doc_id"], ascending=[True, False, True])


class _Tally:
    """Running counts per key × source × period, with "*" totals over sources and over periods.

    One pass over the sentiment rows, a few numbers per table row: memory grows with the number of
    (company, source, period) combinations, not with the number of articles. The mean score keeps
    pandas' compensated (Kahan) summation in row order, so the figures match a group-by's."""

    def __init__(self) -> None:
        # [articles, mentions, positive, neutral, negative, score_n, score_sum, score_comp, reach]
        self.cells: dict[tuple[Any, ...], list[Any]] = {}

    def add(self, key: tuple[Any, ...], source: str, period: str, mentions: int, label: str, score: float,
            reach: int) -> None:
        for src in (source, ALL):
            for per in (period, ALL):
                cell = self.cells.get((*key, src, per))
                if cell is None:
                    cell = self.cells[(*key, src, per)] = [0, 0, 0, 0, 0, 0, 0.0, 0.0, 0]
                cell[0] += 1
                cell[1] += mentions
                if label == "positive":
                    cell[2] += 1
                elif label == "neutral":
                    cell[3] += 1
                elif label == "negative":
                    cell[4] += 1
                if score == score:  # NaN scores are skipped, as pandas' mean does
                    cell[5] += 1
                    y = score - cell[7]
                    t = cell[6] + y
                    cell[7] = t - cell[6] - y
                    cell[6] = t
                cell[8] += reach

    def table(self, columns: list[str]) -> pd.DataFrame:
        """columns: the key's column names; the table is sorted and rounded as the reports expect."""
        key = columns[0]
        rows = [(*k, c[0], c[1], c[2], c[3], c[4], c[6] / c[5] if c[5] else float("nan"), c[8])
                for k, c in self.cells.items()]
        counts = ["articles", "mentions", "positive", "neutral", "negative", "mean_score", "reach"]
        table = pd.DataFrame(rows, columns=[*columns, "source", "period", *counts])
        for col in ("articles", "mentions", "positive", "neutral", "negative", "reach"):
            table[col] = table[col].astype("int64")
        table["mean_score"] = table["mean_score"].astype("float64")
        table["net_sentiment"] = (table["positive"] - table["negative"]) / table["articles"]
        totals = table.groupby(["source", "period"])["mentions"].transform("sum")
        table["share_of_voice"] = table["mentions"] / totals
        for col in ("mean_score", "net_sentiment", "share_of_voice"):
            table[col] = table[col].round(4)
        cols = [*columns, "source", "period", "articles", "mentions", "positive", "neutral", "negative",
                "mean_score", "net_sentiment", "share_of_voice", "reach"]
        return table[cols].sort_values([key, "source", "period"]).reset_index(drop=True)


class _Evidence:
    """The `per_side` most positive and most negative rows of each group, kept as the rows stream by."""

    def __init__(self, per_side: int) -> None:
        self.per_side = per_side
        self.picked: dict[str, dict[str, list[tuple[float, str, dict[str, Any]]]]] = {}

    def add(self, row: dict[str, Any]) -> None:
        sides = self.picked.setdefault(row["group_id"], {"positive": [], "negative": []})
        label = row["label"]
        if label not in sides:
            return
        key = -row["score"] if label == "positive" else row["score"]
        kept = sides[label]
        kept.append((key, row["doc_id"], {
            "sentence": row["evidence_text"], "score": float(row["score"]), "title": _str_or_none(row["title"]),
            "source": row["source"], "published_at": _str_or_none(row["published_at"]), "doc_id": row["doc_id"],
            "company_id": row["company_id"]}))
        if len(kept) > 4 * self.per_side + 16:
            kept.sort(key=_rank)
            del kept[self.per_side:]

    def result(self, name: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for gid in sorted(self.picked):
            entry: dict[str, Any] = {"group_name": name(gid)}
            for side in ("positive", "negative"):
                kept = sorted(self.picked[gid][side], key=_rank)[: self.per_side]
                entry[side] = [payload for _, _, payload in kept]
            out[str(gid)] = entry
        return out


def _rank(item: tuple[float, str, dict[str, Any]]) -> tuple[float, str]:
    """Evidence order: strongest score for the side first, then doc_id (the payload never compares)."""
    return item[0], item[1]


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_SENTIMENT_COLUMNS = ["doc_id", "source", "published_at", "title", "level", "company_id", "group_id", "mentions",
                      "score", "label", "evidence_text"]


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
    fingerprint_paths: list[Path],
    kb: KnowledgeBase,
    cfg: AggregateConfig,
    out_dir: Path,
    plots_dir: Path,
    summary_path: Path,
    eval_path: Path | None = None,
    metrics_dir: Path = Path("metrics"),
) -> dict[str, Any]:
    """Read the fingerprints, cluster, then stream the sentiment rows once into running tallies.

    What stays in memory per article is its signature (512 bytes) and its cluster; everything else is per
    table row (company × source × period) or bounded (the evidence kept per group)."""
    ids, dates, sigs = _load_fingerprints(fingerprint_paths)
    clusters = cluster_signatures(ids, dates, sigs, cfg.dedup_threshold)
    reach = Counter(clusters[d][0] for d in ids)
    n_articles = len(ids)
    del ids, dates, sigs
    dup = _duplicates(fingerprint_paths, clusters, reach)

    def name(cid: str) -> str:
        return kb[cid].name if cid in kb else cid

    group_tally, company_tally = _Tally(), _Tally()
    evidence = _Evidence(cfg.evidence_per_side)
    doc_with_groups: set[str] = set()
    group_ids: set[str] = set()
    company_ids: set[str] = set()
    periods: dict[Any, str] = {}
    for path in sentiment_paths:
        for batch in iter_parquet_rows(path, 4096, _SENTIMENT_COLUMNS):
            for row in batch:
                doc_id = row["doc_id"]
                if clusters.get(doc_id, (doc_id, 1.0))[0] != doc_id:
                    continue  # canonical copies only
                published = row["published_at"]
                period = periods.get(published)
                if period is None:
                    period = periods[published] = period_of(published, cfg.period)
                n = int(reach.get(doc_id, 1))
                if row["level"] == "group":
                    gid = row["group_id"]
                    group_tally.add((gid, name(gid)), row["source"], period, row["mentions"], row["label"],
                                    row["score"], n)
                    evidence.add(row)
                    doc_with_groups.add(doc_id)
                    group_ids.add(gid)
                elif row["level"] == "company":
                    cid = row["company_id"]
                    company_tally.add((cid, name(cid), row["group_id"]), row["source"], period, row["mentions"],
                                      row["label"], row["score"], n)
                    company_ids.add(cid)
    groups = group_tally.table(["group_id", "group_name"])
    companies = company_tally.table(["company_id", "company_name", "group_id"])
    moved = movers(groups, cfg.movers_min_delta, cfg.movers_min_articles)

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(groups, out_dir / "company_sentiment.csv")
    _write_csv(companies, out_dir / "brand_sentiment.csv")
    _write_csv(moved, out_dir / "movers.csv")
    _write_csv(dup, out_dir / "duplicates.csv")
    write_json(out_dir / "evidence.json", evidence.result(name))

    overall = groups[(groups["source"] == ALL) & (groups["period"] == ALL)].sort_values(
        ["mentions", "group_id"], ascending=[False, True])
    top = list(overall["group_id"].head(cfg.plot_groups))
    series = groups[(groups["source"] == ALL) & (groups["period"] != ALL) & groups["group_id"].isin(top)]
    _write_csv(series[["period", "group_id", "net_sentiment", "articles"]].sort_values(["period", "group_id"]),
               plots_dir / "net_sentiment.csv")
    _write_csv(overall[["group_id", "group_name", "articles", "mentions", "net_sentiment"]],
               plots_dir / "mentions.csv")

    unique = len(reach)
    summary: dict[str, Any] = {
        "sources": len(sources),
        "articles": n_articles,
        "unique_articles": unique,
        "duplicates": n_articles - unique,
        "duplicate_clusters": sum(1 for v in reach.values() if v > 1),
        "articles_with_companies": len(doc_with_groups),
        "companies": len(company_ids),
        "groups": len(group_ids),
        "rejected": _rejected(metrics_dir),
        "movers": len(moved),
    }
    if eval_path is not None and Path(eval_path).exists():
        ev = json.loads(Path(eval_path).read_text(encoding="utf-8"))
        summary["eval"] = {k: ev[k] for k in ("accuracy", "macro_f1", "coverage", "n") if k in ev}
        summary["eval"]["f1"] = {k: v["f1"] for k, v in ev.get("per_class", {}).items()}
    write_json(summary_path, summary)
    return summary
