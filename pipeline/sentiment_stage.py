"""Sentiment stage: one row per (article, company) and one per (article, group), with evidence.

Reads, in the same document order, the source's segmented documents, its entity mentions and its
normalised articles (for dates, titles and the offset map that quotes evidence in the original
script). All three are streamed batch by batch, so memory does not grow with the source. Scoring
runs where `execution` says (pipeline.execution): the documents with companies of each chunk travel
as plain words and rows, and their rows come back in document order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.accounting import Tally
from pipeline.artefacts import ParquetBatchWriter, write_json
from pipeline.docbin_tokens import count_docs, iter_token_lists
from pipeline.execution import ExecutionSettings, map_chunks
from pipeline.kb import KnowledgeBase
from pipeline.lexicons import load_lexicons
from pipeline.offsets import original_span
from pipeline.progress import progress
from pipeline.sentiment import Lexicon, SentimentConfig, evidence, evidence_json, score_document

METHODS = ("lexicon", "learned", "ensemble")
# A learned scorer: (normalised text, [(start, end)] of one target's mentions) per target -> one score
# in [-1, 1] per target.
LearnedScore = Callable[[list[tuple[str, list[tuple[int, int]]]]], list[float]]

SENTIMENT_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("published_at", pa.string()),
        ("title", pa.string()),
        ("level", pa.string()),  # company | group
        ("company_id", pa.string()),  # the group id on group rows
        ("group_id", pa.string()),
        ("mentions", pa.int32()),
        ("score", pa.float64()),
        ("label", pa.string()),
        ("positive", pa.float64()),
        ("negative", pa.float64()),
        ("terms", pa.int32()),
        ("evidence", pa.string()),  # JSON: [{sent_id, sentence, original, contribution, words}]
        ("evidence_text", pa.string()),  # the deciding sentence in the article's original script
        ("method", pa.string()),
    ]
)


def _entity_groups(path: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(doc_id, rows) for each document with mentions, in file order."""
    current: str | None = None
    rows: list[dict[str, Any]] = []
    cols = ["doc_id", "start_char", "end_char", "company_id", "group_id"]
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096, columns=cols):
        for row in batch.to_pylist():
            if row["doc_id"] != current:
                if current is not None:
                    yield current, rows
                current, rows = row["doc_id"], []
            rows.append(row)
    if current is not None:
        yield current, rows


def _articles(path: Path) -> Iterator[dict[str, Any]]:
    cols = ["doc_id", "published_at", "title", "text", "text_original", "offsets"]
    for batch in pq.ParquetFile(path).iter_batches(batch_size=128, columns=cols):
        yield from batch.to_pylist()


def score_rows(
    doc_words: tuple[list[str], list[bool], list[bool]],
    article: dict[str, Any],
    mentions: list[dict[str, Any]],
    source: str,
    lexicon: Lexicon,
    cfg: SentimentConfig,
    kb: KnowledgeBase | None = None,
    method: str = "lexicon",
    learned: LearnedScore | None = None,
    learned_weight: float = 0.5,
) -> list[dict[str, Any]]:
    """The rows of one article: per company and per group, the lexicon score, or with `method`
    learned / ensemble the learned model's score (mean over the target's mentions) or the weighted
    mean of both. The evidence is always the lexicon's deciding sentences that agree with the final
    label (else the first sentence naming the target): a model's score has no words to show."""
    if method != "lexicon" and learned is None:
        raise ValueError(f"sentiment.method={method} needs the learned model")
    words, spaces, starts = doc_words
    text = article["text"]
    anchors = article["offsets"]
    original = article["text_original"]

    def quote(s: int, e: int) -> str:
        a, b = original_span(anchors, s, e)
        return original[a:b]

    rows = []
    for level, key in (("company", "company_id"), ("group", "group_id")):
        targets = [(m["start_char"], m["end_char"], m[key]) for m in mentions if m.get(key)]
        if not targets:
            continue
        scores, sentences = score_document(words, spaces, starts, targets, lexicon, cfg)
        ordered = sorted(scores.items())
        model_scores: list[float] = []
        if method != "lexicon":
            assert learned is not None
            model_scores = learned([(text, [(s, e) for s, e, t in targets if t == target]) for target, _ in ordered])
        for i, (target, ts) in enumerate(ordered):
            score = ts.score(cfg.smoothing)
            if method == "learned":
                score = model_scores[i]
            elif method == "ensemble":
                score = (1 - learned_weight) * score + learned_weight * model_scores[i]
            label = cfg.label(score)
            ev = evidence(ts, label, sentences, text, cfg.max_evidence, quote)
            group = target if level == "group" else next(m["group_id"] for m in mentions if m[key] == target)
            rows.append({
                "doc_id": article["doc_id"],
                "source": source,
                "published_at": article["published_at"],
                "title": article["title"],
                "level": level,
                "company_id": target,
                "group_id": group,
                "mentions": ts.mentions,
                "score": round(score, 4),
                "label": label,
                "positive": round(ts.positive, 4),
                "negative": round(ts.negative, 4),
                "terms": len(ts.hits),
                "evidence": evidence_json(ev),
                "evidence_text": ev[0]["original"] if ev else "",
                "method": method,
            })
    return rows


def check_learned_model(path: Path) -> None:
    if not (path / "meta.json").exists():
        raise FileNotFoundError(
            f"sentiment.method needs the learned model at {path}, which is not built: set "
            "sentiment_learned.enabled: true (with the training corpus in ../shared) and run "
            "`dvc repro train_sentiment`, or use sentiment.method: lexicon")


def learned_scorer(model_dir: str | os.PathLike[str] | None) -> LearnedScore:
    """The trained target classifier (pipeline/sentiment_learned.py) as a per-target scorer; a target
    named several times gets the mean of its mentions' scores."""
    from pipeline.evaluation.sentiment import TargetExample
    from pipeline.sentiment_learned import DEFAULT_MODEL, LearnedScorer

    path = Path(model_dir or DEFAULT_MODEL)
    check_learned_model(path)
    scorer = LearnedScorer(path)

    def score(targets: list[tuple[str, list[tuple[int, int]]]]) -> list[float]:
        examples = [TargetExample(text, s, e, text[s:e]) for text, spans in targets for s, e in spans]
        values = [v for _, v in scorer.predict(examples)]
        out, i = [], 0
        for _, spans in targets:
            out.append(sum(values[i : i + len(spans)]) / len(spans))
            i += len(spans)
        return out

    return score


DocWords = tuple[list[str], list[bool], list[bool]]
ToScore = tuple[DocWords, dict[str, Any], list[dict[str, Any]]]  # words, article, company mentions


@dataclass(frozen=True)
class SentimentSpec:
    """What a worker needs to score: the lexicons (loaded once per process) and the configuration."""

    lexicon_dir: str
    cfg: SentimentConfig
    source: str
    method: str = "lexicon"
    learned_model: str | None = None
    learned_weight: float = 0.5

    def build(self) -> tuple[Lexicon, SentimentSpec, LearnedScore | None]:
        learned = learned_scorer(self.learned_model) if self.method != "lexicon" else None
        return Lexicon(load_lexicons(Path(self.lexicon_dir))), self, learned


def _score_chunk(state: tuple[Lexicon, SentimentSpec, LearnedScore | None],
                 chunk: tuple[int, list[ToScore]]) -> tuple[int, list[list[dict[str, Any]]]]:
    """(documents in the chunk, the rows of each of its documents with companies, in order)."""
    lexicon, spec, learned = state
    n_docs, docs = chunk
    return n_docs, [score_rows(words, article, mentions, spec.source, lexicon, spec.cfg, method=spec.method,
                               learned=learned, learned_weight=spec.learned_weight)
                    for words, article, mentions in docs]


def _chunks(segmented_dir: Path, entities_path: Path, normalised_path: Path, tally: Tally,
            size: int) -> Iterator[tuple[int, list[ToScore]]]:
    """The three inputs joined by document, `size` documents at a time; only documents with company
    mentions carry their words."""
    entity_iter = _entity_groups(entities_path)
    pending = next(entity_iter, None)
    n_docs = 0
    docs: list[ToScore] = []
    for (doc_id, words, spaces, starts), article in zip(iter_token_lists(segmented_dir), _articles(normalised_path),
                                                        strict=True):
        tally.records_in += 1
        if doc_id != article["doc_id"]:
            raise RuntimeError(f"segmented and normalised files disagree at {doc_id} / {article['doc_id']}")
        mentions: list[dict[str, Any]] = []
        if pending is not None and pending[0] == doc_id:
            mentions = [m for m in pending[1] if m["company_id"]]
            pending = next(entity_iter, None)
        if mentions:
            docs.append(((words, spaces, starts), article, mentions))
        tally.records_out += 1
        n_docs += 1
        if n_docs >= size:
            yield n_docs, docs
            n_docs, docs = 0, []
    if n_docs:
        yield n_docs, docs
    if pending is not None:
        raise RuntimeError(f"entity rows for {pending[0]} do not match any segmented document")


def sentiment_source(
    name: str,
    segmented_dir: str | os.PathLike[str],
    entities_path: str | os.PathLike[str],
    normalised_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    metrics_path: str | os.PathLike[str],
    lexicon_dir: str | os.PathLike[str],
    cfg: SentimentConfig,
    method: str = "lexicon",
    learned_model: str | os.PathLike[str] | None = None,
    learned_weight: float = 0.5,
    execution: ExecutionSettings | None = None,
    chunk_size: int = 64,
    n_process: int = 1,
) -> Tally:
    """Score every (article, company) and (article, group) of one source; rows are written in document
    order whatever `execution` runs the scoring on (`n_process` forked scorers on the local backend:
    this process still reads and joins the three inputs, the scorers get plain words and rows)."""
    if method not in METHODS:
        raise ValueError(f"sentiment.method must be one of {', '.join(METHODS)}, not {method!r}")
    learned_path = str(Path(learned_model or "models/sentiment_textcat").resolve())
    if method != "lexicon":
        check_learned_model(Path(learned_path))  # fail here, with the message, before any worker starts
    spec = SentimentSpec(str(Path(lexicon_dir).resolve()), cfg, name, method, learned_path, learned_weight)
    tally = Tally(name, "sentiment")
    docs_with_companies = 0
    rows_written = 0
    total = count_docs(segmented_dir)
    chunks = _chunks(Path(segmented_dir), Path(entities_path), Path(normalised_path), tally, chunk_size)
    results = map_chunks(_score_chunk, spec, chunks, execution or ExecutionSettings(), n_process,
                         chunk_len=lambda c: c[0])
    with ParquetBatchWriter(out_path, SENTIMENT_SCHEMA) as writer, progress(total, f"sentiment@{name}") as bar:
        batch: list[dict[str, Any]] = []
        for n_docs, doc_rows in results:
            for rows in doc_rows:
                batch.extend(rows)
                docs_with_companies += 1
                rows_written += len(rows)
                if len(batch) >= 1024:
                    writer.write_rows(batch)
                    batch = []
            bar.update(n_docs)
        writer.write_rows(batch)
    metrics = tally.as_metrics()
    metrics.update({"articles_with_companies": docs_with_companies, "rows": rows_written})
    write_json(metrics_path, metrics)
    tally.check()
    return tally
