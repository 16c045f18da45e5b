"""Target-aware sentiment per company: lexicon scoring over clauses, with evidence.

Why clauses: a sentence often judges two companies at once (京东物流亏损扩大，而拼多多营收大增), so a
sentiment word counts for the companies named in its own clause. Clauses are cut at ，；： and
before contrast words (而 但 却 然而 不过 …). A clause that names no company inherits the company of
the previous clause of its sentence (但其到店业务表现强劲: 其 is still 美团), else of the next one;
a sentence that names none lends its words to the companies of sentences up to `window` away, at
`neighbour_weight`.

Composition: negators within `negation_window` tokens before a word flip it (an even number
cancels: 并非没有隐忧 stays negative) and damp it (`negation_factor`); degree adverbs multiply it;
in a sentence with a contrast word the clauses before it weigh `concession_weight` and those after
`contrast_weight`; questions weigh `question_weight`. Idioms and phrases are lexicon entries matched
longest-first on token boundaries. Words inside a company name never count (理想汽车, 蔚来).

score = (pos − neg) / (pos + neg + smoothing), in (−1, 1); the label comes from the thresholds.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.lexicons import Lexicons

CLAUSE_PUNCT = frozenset("，,；;：:")  # not 、: in "A、B、C涨超5%" the words are about every list member
SENTENCE_QUESTION = frozenset("？?")


@dataclass(frozen=True)
class SentimentConfig:
    window: int = 0
    neighbour_weight: float = 0.5
    negation_window: int = 3
    negation_factor: float = -0.5
    concession_weight: float = 0.5
    contrast_weight: float = 1.5
    question_weight: float = 0.5
    smoothing: float = 1.0
    positive_threshold: float = 0.15
    negative_threshold: float = -0.15
    max_evidence: int = 2
    contrast_words: tuple[str, ...] = ("但", "但是", "却", "然而", "不过", "可是", "只是")
    split_words: tuple[str, ...] = ("而",)  # clause boundaries that do not weigh clauses

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SentimentConfig:
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        for key in ("contrast_words", "split_words"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)

    def label(self, score: float) -> str:
        if score >= self.positive_threshold:
            return "positive"
        if score <= self.negative_threshold:
            return "negative"
        return "neutral"


@dataclass(slots=True)
class Hit:
    """One sentiment word as counted: where, what, and the value after composition."""

    token: int
    sent: int
    term: str
    base: float
    value: float
    negated: bool
    degree: float
    targets: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"term": self.term, "base": self.base, "value": round(self.value, 4), "negated": self.negated,
                "degree": self.degree}


@dataclass
class TargetScore:
    target: str
    mentions: int = 0
    positive: float = 0.0
    negative: float = 0.0
    hits: list[Hit] = field(default_factory=list)
    mention_sents: list[int] = field(default_factory=list)

    def add(self, hit: Hit) -> None:
        self.hits.append(hit)
        if hit.value > 0:
            self.positive += hit.value
        else:
            self.negative -= hit.value

    def score(self, smoothing: float) -> float:
        return (self.positive - self.negative) / (self.positive + self.negative + smoothing)


class Lexicon:
    """Lexicon terms matched longest-first at token boundaries."""

    def __init__(self, lex: Lexicons) -> None:
        self.kind: dict[str, tuple[str, float]] = {}
        for term, w in lex.positive.items():
            self.kind[term] = ("sent", w)
        for term, w in lex.negative.items():
            self.kind[term] = ("sent", -w)
        for term, w in lex.degree.items():
            self.kind[term] = ("degree", w)
        for term in lex.negation:
            self.kind[term] = ("neg", 0.0)
        self.max_len = max((len(t) for t in self.kind), default=1)

    def match(self, words: Sequence[str], start: int, limit: int) -> tuple[int, str, str, float] | None:
        """Longest term made of whole tokens words[start:end] (end ≤ limit): (end, term, kind, value)."""
        text = ""
        best = None
        for end in range(start + 1, limit + 1):
            text += words[end - 1]
            if len(text) > self.max_len:
                break
            entry = self.kind.get(text)
            if entry:
                best = (end, text, entry[0], entry[1])
        return best


def token_offsets(words: Sequence[str], spaces: Sequence[bool]) -> list[int]:
    offsets = []
    pos = 0
    for w, sp in zip(words, spaces, strict=True):
        offsets.append(pos)
        pos += len(w) + (1 if sp else 0)
    offsets.append(pos)
    return offsets


def score_document(
    words: Sequence[str],
    spaces: Sequence[bool],
    sent_starts: Sequence[bool],
    mentions: Iterable[tuple[int, int, str]],
    lexicon: Lexicon,
    cfg: SentimentConfig,
) -> tuple[dict[str, TargetScore], list[tuple[int, int]]]:
    """Score every target of one document.

    `mentions` are (start_char, end_char, target) over the text the words spell. Returns the scores
    per target and the sentences as (start_char, end_char).
    """
    n = len(words)
    offsets = token_offsets(words, spaces)
    # sentences and clauses
    sent_of = [0] * n
    sent_bounds: list[int] = []
    s = -1
    for i in range(n):
        if sent_starts[i] or i == 0:
            s += 1
            sent_bounds.append(i)
        sent_of[i] = s
    sent_bounds.append(n)
    n_sents = s + 1
    clause_of = [0] * n
    c = 0
    contrast = set(cfg.contrast_words)
    splitters = contrast | set(cfg.split_words)
    for i in range(n):
        if i and (sent_starts[i] or words[i - 1] in CLAUSE_PUNCT or words[i] in splitters):
            c += 1
        clause_of[i] = c
    # tokens covered by mentions, and the targets per clause
    mention_list = sorted(mentions)
    token_targets: dict[int, set[str]] = defaultdict(set)
    covered = [False] * n
    scores: dict[str, TargetScore] = {}
    for ms, me, target in mention_list:
        ts = scores.setdefault(target, TargetScore(target))
        ts.mentions += 1
        first = max(bisect.bisect_right(offsets, ms) - 1, 0)
        last = max(bisect.bisect_left(offsets, me) - 1, first)
        for t in range(first, min(last + 1, n)):
            covered[t] = True
        ts.mention_sents.append(sent_of[min(first, n - 1)] if n else 0)
        token_targets[clause_of[min(first, n - 1)] if n else 0].add(target)
    clause_targets = {cl: tuple(sorted(ts)) for cl, ts in token_targets.items()}
    # sentence-level weights
    sent_weight = [1.0] * n_sents
    contrast_at = [None] * n_sents  # first contrast token index per sentence
    for si in range(n_sents):
        a, b = sent_bounds[si], sent_bounds[si + 1]
        toks = [words[i] for i in range(a, b) if not words[i].isspace()]
        if toks and toks[-1][-1] in SENTENCE_QUESTION:
            sent_weight[si] = cfg.question_weight
        for i in range(a, b):
            if words[i] in contrast and i > a:
                contrast_at[si] = i
                break
    # which targets a clause's words go to
    clauses_by_sent: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        if not clauses_by_sent[sent_of[i]] or clauses_by_sent[sent_of[i]][-1] != clause_of[i]:
            clauses_by_sent[sent_of[i]].append(clause_of[i])
    sent_targets = {si: tuple(sorted({t for cl in cls for t in clause_targets.get(cl, ())}))
                    for si, cls in clauses_by_sent.items()}

    def targets_for(clause: int, sent: int) -> tuple[tuple[str, ...], float]:
        if clause in clause_targets:
            return clause_targets[clause], 1.0
        cls = clauses_by_sent[sent]
        k = cls.index(clause)
        for prev in reversed(cls[:k]):
            if prev in clause_targets:
                return clause_targets[prev], 1.0
        for nxt in cls[k + 1 :]:
            if nxt in clause_targets:
                return clause_targets[nxt], 1.0
        for d in range(1, cfg.window + 1):
            for other in (sent - d, sent + d):
                if 0 <= other < n_sents and sent_targets.get(other):
                    return sent_targets[other], cfg.neighbour_weight
        return (), 0.0

    # match lexicon terms
    i = 0
    recent: list[tuple[int, str, float]] = []  # (token index, kind, value) of modifiers in the clause
    last_clause = -1
    while i < n:
        if clause_of[i] != last_clause:
            recent = []
            last_clause = clause_of[i]
        if covered[i] or words[i].isspace():
            i += 1
            continue
        limit = i + 1
        while limit < n and clause_of[limit] == clause_of[i] and not covered[limit] and limit - i < 8:
            limit += 1
        m = lexicon.match(words, i, limit)
        if m is None:
            i += 1
            continue
        end, term, kind, value = m
        if kind in ("neg", "degree"):
            recent.append((i, kind, value))
            i = end
            continue
        window = [(j, k, v) for j, k, v in recent if i - j <= cfg.negation_window]
        negations = sum(1 for _, k, _ in window if k == "neg")
        degree = 1.0
        for _, k, v in window:
            if k == "degree":
                degree *= v
        si = sent_of[i]
        weight = sent_weight[si]
        if contrast_at[si] is not None:
            weight *= cfg.contrast_weight if i >= contrast_at[si] else cfg.concession_weight
        targets, attribution = targets_for(clause_of[i], si)
        negated = negations % 2 == 1
        val = value * degree * weight * attribution * (cfg.negation_factor if negated else 1.0)
        hit = Hit(i, si, term, value, val, negated, degree, targets)
        for t in targets:
            scores[t].add(hit)
        i = end
    sentences = [(offsets[sent_bounds[k]], offsets[sent_bounds[k + 1]]) for k in range(n_sents)]
    return scores, sentences


def evidence(ts: TargetScore, label: str, sentences: list[tuple[int, int]], text: str, max_items: int,
             original: Any = None) -> list[dict[str, Any]]:
    """The sentences that decided the label, strongest first, with the words that counted.

    `original(start, end)` returns the same span in the article's original script.
    """
    by_sent: dict[int, list[Hit]] = defaultdict(list)
    for h in ts.hits:
        by_sent[h.sent].append(h)
    sign = {"positive": 1, "negative": -1}.get(label, 0)
    ranked = sorted(by_sent.items(), key=lambda kv: (-(sign * sum(h.value for h in kv[1]) if sign else
                                                       abs(sum(h.value for h in kv[1]))), kv[0]))
    chosen = [(si, hits) for si, hits in ranked if not sign or sign * sum(h.value for h in hits) > 0][:max_items]
    if not chosen and ts.mention_sents:
        chosen = [(ts.mention_sents[0], [])]
    out = []
    for si, hits in chosen:
        s, e = sentences[si]
        sentence = text[s:e].strip()
        out.append({
            "sent_id": si,
            "sentence": sentence,
            "original": original(s, e).strip() if original else sentence,
            "contribution": round(sum(h.value for h in hits), 4),
            "words": [h.as_dict() for h in hits],
        })
    return out


def evidence_json(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False, sort_keys=True)
