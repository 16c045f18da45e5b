"""Sentiment towards one given target span in a text: the lexicon scorer outside the DVC stages.

Used by `python -m pipeline evaluate sentiment` (gold sets give the target's span) and by anyone who
wants a score for an entity the knowledge base does not know. The text goes through the same
normalisation, tokenizer and company recognition as the stages; the target competes with every
other company and model ORG in the text for clause attribution, exactly as KB companies do in the
sentiment stage, so "A涨，B跌" scores A and B apart.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.company_names import looks_like_company
from pipeline.lexicons import load_lexicons
from pipeline.ner import ner_pipeline
from pipeline.normalise import NormaliseConfig, Normaliser
from pipeline.offsets import to_original
from pipeline.sentiment import Lexicon, SentimentConfig, score_document

TARGET = "__target__"


class TargetLike(Protocol):
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TargetResult:
    label: str
    score: float
    terms: tuple[str, ...]


def normalised_span(anchors: Sequence[int], length: int, start: int, end: int) -> tuple[int, int] | None:
    """The normalised [s, e) whose characters come from original [start, end)."""
    positions = [i for i in range(length) if start <= to_original(anchors, i) < end]
    return (positions[0], positions[-1] + 1) if positions else None


class TargetScorer:
    def __init__(self, model_path: str | os.PathLike[str], kb_path: str | os.PathLike[str],
                 lexicon_dir: str | os.PathLike[str], cfg: SentimentConfig,
                 normalise: NormaliseConfig | None = None, **ner_args: Any) -> None:
        self.nlp = ner_pipeline(model_path, kb_path, **ner_args)
        self.lexicon = Lexicon(load_lexicons(Path(lexicon_dir)))
        self.cfg = cfg
        self.normaliser = Normaliser(normalise or NormaliseConfig(boilerplate=()))

    def score(self, examples: Sequence[TargetLike]) -> list[TargetResult]:
        norms = [self.normaliser.normalise(ex.text) for ex in examples]
        out = []
        for ex, norm, doc in zip(examples, norms, self.nlp.pipe([n.text for n in norms]), strict=True):
            span = normalised_span(norm.anchors, len(norm.text), ex.start, ex.end)
            if span is None:
                out.append(TargetResult("neutral", 0.0, ()))
                continue
            s, e = span
            mentions = [(s, e, TARGET)]
            for i, m in enumerate(doc._.mentions):
                if m.label != "ORG" or (m.start < e and s < m.end):
                    continue
                if m.company_id is None and not looks_like_company(m.text):
                    continue  # the model's bare ORG words (公司, 中心) would steal clauses from the target
                mentions.append((m.start, m.end, m.company_id or f"other:{i}"))
            words = [t.text for t in doc]
            spaces = [bool(t.whitespace_) for t in doc]
            starts = [bool(t.is_sent_start) for t in doc]
            scores, _ = score_document(words, spaces, starts, mentions, self.lexicon, self.cfg)
            ts = scores[TARGET]
            value = ts.score(self.cfg.smoothing)
            out.append(TargetResult(self.cfg.label(value), round(value, 4), tuple(h.term for h in ts.hits)))
        return out


def lexicon_predictor(scorer: TargetScorer):
    def predict(examples: Sequence[TargetLike]) -> list[tuple[str, float]]:
        return [(r.label, r.score) for r in scorer.score(examples)]

    return predict
