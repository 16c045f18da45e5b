"""SIGHAN 2005 (icwb2) word segmentation scores for the pipeline's segmenter.

Each gold line's words are joined to make the input, which sidesteps the few lines where the raw test
file and the gold disagree (the character streams are identical; see the data set's README). Input
goes through the pipeline's own `normalise` first (Traditional corpora with the OpenCC configuration
chosen for them), is segmented, and the words are mapped back through the offset map so scoring is on
the original characters. OOV recall counts gold words absent from the corpus's training word list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.evaluation.scoring import prf, spans_of
from pipeline.normalise import NormaliseConfig, Normaliser
from pipeline.offsets import original_span

CORPORA = {
    "pku": ("pku_test_gold.utf8", "pku_training_words.utf8", "t2s"),
    "msr": ("msr_test_gold.utf8", "msr_training_words.utf8", "t2s"),
    "cityu": ("cityu_test_gold.utf8", "cityu_training_words.utf8", "hk2s"),
    "as": ("as_testing_gold.utf8", "as_training_words.utf8", "tw2s"),
}


def read_lines(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8-sig")
    return [line.split() for line in text.splitlines()]


def segment_original(cut: Any, normaliser: Normaliser, raw: str, opencc: str) -> list[tuple[int, int]]:
    """Word spans over `raw` from normalise → segment → offset map."""
    norm = normaliser.normalise(raw, opencc)
    spans = []
    pos = 0
    for word in cut(norm.text):
        start = norm.text.index(word, pos)
        end = start + len(word)
        pos = end
        spans.append(original_span(norm.anchors, start, end))
    # Characters normalisation dropped (none in these corpora, but be safe) join the previous word.
    return spans


def evaluate_segmentation(corpus: str, data_dir: str | Path, cut: Any, opencc: str | None = None,
                          limit: int | None = None) -> dict[str, Any]:
    if corpus not in CORPORA:
        raise ValueError(f"corpus must be one of {', '.join(CORPORA)}")
    gold_name, train_name, default_cc = CORPORA[corpus]
    data = Path(data_dir)
    gold_lines = read_lines(data / "gold" / gold_name)
    if limit:
        gold_lines = gold_lines[:limit]
    train_words = set((data / "gold" / train_name).read_text(encoding="utf-8-sig").split())
    config = opencc or default_cc
    normaliser = Normaliser(NormaliseConfig(opencc=config, boilerplate=(), variants={}))
    correct = predicted = gold_total = 0
    oov_total = oov_found = 0
    for words in gold_lines:
        if not words:
            continue
        raw = "".join(words)
        gold_spans = spans_of(words)
        pred_spans = set(segment_original(cut, normaliser, raw, config))
        gold_total += len(gold_spans)
        predicted += len(pred_spans)
        for span, word in zip(gold_spans, words, strict=True):
            hit = span in pred_spans
            correct += hit
            if word not in train_words:
                oov_total += 1
                oov_found += hit
    scores = prf(correct, predicted, gold_total)
    return {
        "task": "segmentation",
        "corpus": corpus,
        "opencc": config,
        "lines": len(gold_lines),
        "gold_words": gold_total,
        **scores,
        "oov_rate": round(oov_total / gold_total, 4) if gold_total else 0.0,
        "oov_recall": round(oov_found / oov_total, 4) if oov_total else 0.0,
    }
