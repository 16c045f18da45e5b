"""Sentiment quality on the project's own gold set (data/gold/sentiment.csv), for `dvc metrics diff`.

Each gold row judges how one article treats one company. The prediction is the company row of the
sentiment stage for that article and id; when the gold names a parent (小米) and the stage found only
its brand (小米汽车 → its own id), the brand's row stands in, strongest score first. A gold company
the pipeline did not find at all counts as predicted `neutral` (no evidence either way) and lowers
`coverage`, so a recall loss shows up in the metrics rather than vanishing from them.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.kb import KnowledgeBase

LABELS = ("positive", "neutral", "negative")


def read_gold(path: str | Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ancestors(kb: KnowledgeBase, cid: str) -> list[str]:
    out = []
    node = kb.companies.get(cid)
    while node is not None and node.parent:
        out.append(node.parent)
        node = kb.companies.get(node.parent)
    return out


def classification_metrics(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    total = len(pairs)
    correct = sum(g == p for g, p in pairs)
    per_class = {}
    for label in LABELS:
        tp = sum(g == label and p == label for g, p in pairs)
        pred = sum(p == label for _, p in pairs)
        gold = sum(g == label for g, _ in pairs)
        prec = tp / pred if pred else 0.0
        rec = tp / gold if gold else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[label] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
                            "gold": gold, "predicted": pred}
    return {
        "n": total,
        "accuracy": round(correct / total, 4) if total else 0.0,
        "macro_f1": round(sum(c["f1"] for c in per_class.values()) / len(LABELS), 4),
        "per_class": per_class,
        "confusion": {g: dict(Counter(p for gg, p in pairs if gg == g)) for g in LABELS},
    }


def _company_rows(sentiment_paths: list[Path], doc_ids: set[str]) -> dict[str, list[tuple[str, float, str]]]:
    """The company rows of the judged articles only, read batch by batch: the gold set names a few
    hundred articles, and the sources may hold millions of rows."""
    by_doc: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    wanted = pa.array(sorted(doc_ids), type=pa.string())
    company = pa.scalar("company", type=pa.string())  # typed: inferring a type would import pandas
    for path in sentiment_paths:
        if not Path(path).exists():
            continue
        for batch in pq.ParquetFile(path).iter_batches(batch_size=8192,
                                                       columns=["doc_id", "level", "company_id", "score", "label"]):
            keep = pc.and_(pc.is_in(batch.column("doc_id"), value_set=wanted),
                           pc.equal(batch.column("level"), company))
            for r in batch.filter(keep).to_pylist():
                by_doc[r["doc_id"]].append((r["company_id"], r["score"], r["label"]))
    return by_doc


def evaluate_gold(gold_path: str | Path, sentiment_paths: list[Path], kb: KnowledgeBase) -> dict[str, Any]:
    gold = read_gold(gold_path)
    by_doc = _company_rows(sentiment_paths, {f"{g['source']}:{g['article_id']}" for g in gold})
    pairs = []
    found = 0
    sources: Counter[str] = Counter()
    for g in gold:
        doc_id = f"{g['source']}:{g['article_id']}"
        cands = [(cid, s, lbl) for cid, s, lbl in by_doc.get(doc_id, [])
                 if cid == g["company_id"] or g["company_id"] in _ancestors(kb, cid)]
        cands.sort(key=lambda c: (c[0] != g["company_id"], -abs(c[1])))
        pred = cands[0][2] if cands else "neutral"
        found += bool(cands)
        sources[g["source"]] += 1
        pairs.append((g["label"], pred))
    metrics = classification_metrics(pairs)
    metrics["coverage"] = round(found / len(pairs), 4) if pairs else 0.0
    metrics["gold_by_source"] = dict(sorted(sources.items()))
    return metrics
