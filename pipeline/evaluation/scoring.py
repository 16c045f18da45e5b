"""Span-level precision / recall / F1, shared by the segmentation and NER evaluations."""

from __future__ import annotations

from collections.abc import Iterable


def prf(correct: int, predicted: int, gold: int) -> dict[str, float]:
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def spans_of(words: Iterable[str]) -> list[tuple[int, int]]:
    out = []
    pos = 0
    for w in words:
        out.append((pos, pos + len(w)))
        pos += len(w)
    return out
