"""Target (company-level) sentiment scores against public gold sets (CFSC-ABSA, FinNSP), read by path.

As with the NER evaluation, the gold sets' terms do not allow copying them into the repository, so
every reader takes a path and nothing here embeds their content. Both sets are read into one shape:
a `TargetExample(text, start, end, target)` (character offsets of one target mention, end
exclusive, into the text verbatim) paired with its gold label in a `Labelled`. The predictor only
ever sees the `TargetExample`, never the gold, so a scorer cannot peek by accident.

- CFSC-ABSA (`cfsc-absa`, test split only): one item per (sentence, target) with a 3-class polarity.
  Only `Corporate` targets are read by default (companies are what the pipeline scores; `Stock`,
  `Market` and `Economy` are indices, markets and macro figures). Scored as 3-class accuracy and
  macro-F1, per-class P/R/F1, a confusion matrix and the majority-class accuracy as the floor.
- FinNSP (`finnsp`, CCF BDCI 2019, eval split by default): per text a list of candidate entities and
  the subset the text is negative about. Every candidate is a target whose gold is a boolean
  "negative"; the data has no positive/neutral distinction, so it is scored as precision / recall /
  F1 of the negative class (a prediction counts as negative when its label is "negative").

FinNSP quirks (see its README; all handled here and counted in the result):

- `train_list.json` holds a stray CSV header row; any row whose `negative` is not "0"/"1" is dropped.
- Gold entities come as names, not spans. The target span is the FIRST occurrence of the name in the
  `text` column (332 of the eval set's entities occur more than once: `multiple_occurrences`). A
  predictor that wants every mention has the whole text; the evaluation simply has to pick one.
- An entity that does not occur in `text` at all (74 in eval, 9 of those only in the title; the
  texts are noisy web snippets) is skipped and counted as `not_found` rather than guessed.
- A candidate that is a substring of another candidate of the same row (众车 vs 众车在线) is dropped
  (`nested_dropped`): the README's rule is to score against the longest matching entity, and the
  shorter name's first occurrence is usually inside the longer one, i.e. the same mention. The rule is
  applied without looking at the gold, so it cannot favour any predictor.

CFSC-ABSA quirks: the file is one JSON array despite its `.txt` name; every sentence ends with "\\n"
(kept, so offsets stay the file's); `sentence[from:to] == term` is checked for every item.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pipeline.evaluation.datasets import locate_split, resolve
from pipeline.evaluation.scoring import prf

LABELS = ("positive", "neutral", "negative")
NEGATIVE = "negative"
BATCH_SIZE = 256


class TargetExample(NamedTuple):
    """One target mention: `text[start:end] == target`, offsets into `text` exactly as given."""

    text: str
    start: int
    end: int
    target: str


class Labelled(NamedTuple):
    """A target and its gold: one of LABELS (CFSC-ABSA) or a bool "is negative" (FinNSP)."""

    example: TargetExample
    gold: str | bool


Predictor = Callable[[list[TargetExample]], list[tuple[str, float]]]


@dataclass
class ReadStats:
    """What a reader skipped or had to choose, so the counts can be checked against the README."""

    rows: int = 0
    dropped_rows: int = 0
    candidates: int = 0
    nested_dropped: int = 0
    not_found: int = 0
    not_found_in_title: int = 0
    multiple_occurrences: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


# -- readers ---------------------------------------------------------------------------------------


def _read_json(path: str | Path) -> Any:
    """JSON with any UTF-8 BOM dropped (`json` rejects a BOM)."""
    return json.loads(Path(path).read_bytes().decode("utf-8-sig"))


def _target(text: str, start: int, end: int, target: str, where: str) -> TargetExample:
    """Refuse spans that do not fit the text: a silently misaligned gold set would score as noise."""
    if not (0 <= start < end <= len(text)) or text[start:end] != target:
        raise ValueError(f"{where}: text[{start}:{end}] is {text[start:end]!r}, annotated as {target!r}")
    return TargetExample(text, start, end, target)


def read_cfsc_absa(path: str | Path, aspects: Sequence[str] = ("Corporate",)) -> list[Labelled]:
    """CFSC-ABSA JSON array of `{"sentence", "Level 1 aspect", "term", "polarity", "from", "to"}` (`to` exclusive).

    Only items whose aspect is in `aspects` are kept (default: companies only).
    """
    records = _read_json(path)
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a JSON array")
    out = []
    for i, rec in enumerate(records):
        if rec["Level 1 aspect"] not in aspects:
            continue
        polarity = rec["polarity"]
        if polarity not in LABELS:
            raise ValueError(f"{path}[{i}]: polarity {polarity!r} is not one of {LABELS}")
        example = _target(rec["sentence"], int(rec["from"]), int(rec["to"]), rec["term"], f"{path}[{i}]")
        out.append(Labelled(example, polarity))
    return out


def _split_names(field: str) -> list[str]:
    """Semicolon-separated names, stripped, empty ones and repeats dropped, order kept."""
    return list(dict.fromkeys(name.strip() for name in field.split(";") if name.strip()))


def read_finnsp(path: str | Path, stats: ReadStats | None = None) -> list[Labelled]:
    """FinNSP rows `[id, title, text, entity, negative, key_entity]` → one target per locatable entity.

    Gold is True when the entity is a key (negative) entity of its row. See the module docstring for
    the rules (first occurrence, nested candidates dropped, entities absent from the text skipped);
    pass a `ReadStats` to get the counts.
    """
    stats = stats if stats is not None else ReadStats()
    rows = _read_json(path)
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected a JSON array")
    out = []
    for row in rows:
        if len(row) != 6 or row[4] not in ("0", "1"):
            stats.dropped_rows += 1  # the stray header row of train_list.json
            continue
        _, title, text, entity, _, key_entity = row
        stats.rows += 1
        candidates = _split_names(entity)
        keys = set(_split_names(key_entity))
        stats.candidates += len(candidates)
        for name in candidates:
            if any(name != other and name in other for other in candidates):
                stats.nested_dropped += 1
                continue
            start = text.find(name)
            if start < 0:
                stats.not_found += 1
                stats.not_found_in_title += name in (title or "")
                continue
            stats.multiple_occurrences += text.count(name) > 1
            out.append(Labelled(TargetExample(text, start, start + len(name), name), name in keys))
    return out


# -- data sets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """Where a data set's splits live and what kind of gold it has."""

    folder: str  # its folder name under ../shared/data, used when data_dir is the parent
    splits: dict[str, str]
    default_split: str
    kind: str  # "polarity" (3-class gold) or "negative" (boolean gold)


DATASETS: dict[str, Dataset] = {
    "cfsc-absa": Dataset("cfsc-absa", {"test": "test.txt"}, "test", "polarity"),
    "finnsp": Dataset("bbt-fincuge-finnsp", {"eval": "eval_list.json", "train": "train_list.json"}, "eval",
                      "negative"),
}
ALIASES = {"cfsc": "cfsc-absa", "bbt-fincuge-finnsp": "finnsp"}


def dataset_spec(name: str) -> tuple[str, Dataset]:
    """Canonical name and description of a data set (folder names are accepted as aliases)."""
    return resolve(name, DATASETS, ALIASES)


def split_path(dataset: str, data_dir: str | Path, split: str | None = None) -> Path:
    """The split's file in `data_dir`, which may be the data set's folder or the folder holding it."""
    _, spec = dataset_spec(dataset)
    return locate_split(dataset, spec.folder, spec.splits, spec.default_split, data_dir, split)


def read_dataset(dataset: str, data_dir: str | Path, split: str | None = None,
                 stats: ReadStats | None = None) -> list[Labelled]:
    """All targets of one split, in file order."""
    name, _ = dataset_spec(dataset)
    path = split_path(name, data_dir, split)
    return read_cfsc_absa(path) if name == "cfsc-absa" else read_finnsp(path, stats)


# -- scoring -----------------------------------------------------------------------------------------


def predict_batched(predict: Predictor, examples: Sequence[TargetExample],
                    batch_size: int = BATCH_SIZE) -> list[tuple[str, float]]:
    """Call `predict` on `batch_size` targets at a time and check each answer, so a predictor bug
    (wrong count, unknown label, score outside [-1, 1] or NaN) fails loudly instead of scoring as errors."""
    out: list[tuple[str, float]] = []
    for b in range(0, len(examples), batch_size):
        batch = list(examples[b : b + batch_size])
        preds = predict(batch)
        if len(preds) != len(batch):
            raise ValueError(f"predict returned {len(preds)} results for {len(batch)} targets")
        for label, score in preds:
            if label not in LABELS:
                raise ValueError(f"prediction label {label!r} is not one of {LABELS}")
            if not (isinstance(score, int | float) and math.isfinite(score) and -1.0 <= score <= 1.0):
                raise ValueError(f"prediction score {score!r} is not a number in [-1, 1]")
            out.append((label, float(score)))
    return out


def score_polarity(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """3-class scores: accuracy, macro-F1 (unweighted mean of the three F1s, so the small negative
    class counts as much as the others), per-class P/R/F1, confusion[gold][predicted], and the
    accuracy of always answering the most frequent gold class (the floor any scorer must beat)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predictions differ in length")
    n = len(gold)
    pairs = Counter(zip(gold, predicted, strict=True))
    gold_n, pred_n = Counter(gold), Counter(predicted)
    per_class = {}
    for cls in LABELS:
        correct = pairs[(cls, cls)]
        per_class[cls] = {**prf(correct, pred_n[cls], gold_n[cls]), "gold": gold_n[cls], "predicted": pred_n[cls],
                          "correct": correct}
    correct = sum(pairs[(c, c)] for c in LABELS)
    majority_label, majority_n = max(((c, gold_n[c]) for c in LABELS), key=lambda x: x[1]) if n else ("", 0)
    return {
        "accuracy": round(correct / n, 4) if n else 0.0,
        "macro_f1": round(sum(per_class[c]["f1"] for c in LABELS) / len(LABELS), 4),
        "per_class": per_class,
        "confusion": {g: {p: pairs[(g, p)] for p in LABELS} for g in LABELS},
        "majority_baseline": {"label": majority_label, "accuracy": round(majority_n / n, 4) if n else 0.0},
    }


def score_negative(gold: Sequence[bool], predicted: Sequence[str]) -> dict[str, Any]:
    """Negative-class precision / recall / F1 (plus accuracy and the all-negative F1 floor)."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predictions differ in length")
    pred_neg = [p == NEGATIVE for p in predicted]
    tp = sum(g and p for g, p in zip(gold, pred_neg, strict=True))
    n_gold, n_pred, n = sum(gold), sum(pred_neg), len(gold)
    agree = sum(g == p for g, p in zip(gold, pred_neg, strict=True))
    return {
        "negative": {**prf(tp, n_pred, n_gold), "gold": n_gold, "predicted": n_pred, "correct": tp},
        "accuracy": round(agree / n, 4) if n else 0.0,
        "all_negative_baseline_f1": prf(n_gold, n, n_gold)["f1"],
    }


def evaluate_sentiment(
    dataset: str,
    data_dir: str | Path,
    predict: Predictor,
    split: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Score `predict` on one split (default: cfsc-absa test, Corporate targets; finnsp eval), first `limit` targets.

    Returns a JSON-able dict: task, dataset, split, targets, `gold_labels` (counts, to check against
    the README) and, for CFSC-ABSA, `score_polarity`'s figures; for FinNSP, `score_negative`'s plus
    the reader's counts under `read` (rows, candidates, nested_dropped, not_found, ...).
    """
    name, spec = dataset_spec(dataset)
    split = split or spec.default_split
    stats = ReadStats()
    labelled = read_dataset(name, data_dir, split, stats)
    if limit is not None:
        labelled = labelled[:limit]
    predictions = predict_batched(predict, [x.example for x in labelled])
    predicted = [label for label, _ in predictions]
    gold = [x.gold for x in labelled]
    result: dict[str, Any] = {"task": "target_sentiment", "dataset": name, "split": split, "targets": len(labelled)}
    if spec.kind == "polarity":
        result["gold_labels"] = {c: sum(g == c for g in gold) for c in LABELS}
        result.update(score_polarity([str(g) for g in gold], predicted))
    else:
        result["gold_labels"] = {"negative": sum(bool(g) for g in gold), "not_negative": sum(not g for g in gold)}
        result["read"] = stats.as_dict()
        result.update(score_negative([bool(g) for g in gold], predicted))
    return result


# -- baseline ----------------------------------------------------------------------------------------


def constant_predictor(label: str = "positive") -> Predictor:
    """Always `label` (score ±1 or 0): the majority-class floor as a predictor, for wiring checks."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}")
    value = {"positive": 1.0, "neutral": 0.0, "negative": -1.0}[label]

    def predict(examples: list[TargetExample]) -> list[tuple[str, float]]:
        return [(label, value) for _ in examples]

    return predict


def split_normalise(example: TargetExample, normalise: Callable[[str], str]) -> tuple[str, int, int]:
    """Normalise the text around a target in three pieces: (normalised text, target start, target end).

    Normalising left / target / right separately keeps the target's span exact without an offset map
    (width folding and OpenCC never need context across the boundary of a name).
    """
    left = normalise(example.text[: example.start]) if example.text[: example.start].strip() else ""
    target = normalise(example.target) or example.target
    right = normalise(example.text[example.end :]) if example.text[example.end :].strip() else ""
    return left + target + right, len(left), len(left) + len(target)


def lexicon_predictor(model_path: str | Path = "models/zh_pipeline", lexicon_dir: str | Path = "models/lexicons",
                      params: dict[str, Any] | None = None) -> Predictor:
    """The pipeline's lexicon scorer (pipeline/sentiment.py) as a predictor, for comparison and ensembles.

    Each target is scored in its own text: normalised like the normalise stage, segmented and split
    into sentences by the built zh_pipeline, the target as the only mention (the gold sets name one
    target per item; other companies in the text are not marked, which is what a single-target item
    gives the scorer). `params` is the `sentiment` block of params.yaml (defaults otherwise).
    """
    from pipeline.lexicons import load_lexicons
    from pipeline.nlp import load_nlp
    from pipeline.normalise import NormaliseConfig, Normaliser
    from pipeline.sentiment import Lexicon, SentimentConfig, score_document

    nlp = load_nlp(model_path)
    lexicon = Lexicon(load_lexicons(Path(lexicon_dir)))
    cfg = SentimentConfig.from_params(params or {})
    normaliser = Normaliser(NormaliseConfig(boilerplate=()))

    def predict(examples: list[TargetExample]) -> list[tuple[str, float]]:
        pieces = [split_normalise(ex, lambda t: normaliser.normalise(t).text) for ex in examples]
        out = []
        for (_text, start, end), doc in zip(pieces, nlp.pipe([p[0] for p in pieces]), strict=True):
            words = [t.text for t in doc]
            spaces = [bool(t.whitespace_) for t in doc]
            starts = [bool(t.is_sent_start) for t in doc]
            scores, _ = score_document(words, spaces, starts, [(start, end, "T")], lexicon, cfg)
            value = scores["T"].score(cfg.smoothing) if "T" in scores else 0.0
            value = max(-1.0, min(1.0, value))
            out.append((cfg.label(value), value))
        return out

    return predict


def ensemble_predictor(predictors: Sequence[Predictor], weights: Sequence[float],
                       positive_threshold: float = 0.15, negative_threshold: float = -0.15) -> Predictor:
    """Weighted mean of the members' scores, labelled by thresholds (the lexicon scorer's convention).

    Scores are comparable across members because each is "how positive minus how negative" in [-1, 1]
    (the learned model's is P(pos) − P(neg)); the thresholds decide how much agreement neutral needs.
    """
    if len(predictors) != len(weights) or not predictors or sum(weights) <= 0:
        raise ValueError("one positive weight per predictor is needed")
    total = float(sum(weights))

    def predict(examples: list[TargetExample]) -> list[tuple[str, float]]:
        runs = [p(examples) for p in predictors]
        out = []
        for preds in zip(*runs, strict=True):
            value = sum(w * s for w, (_, s) in zip(weights, preds, strict=True)) / total
            value = max(-1.0, min(1.0, value))
            label = "positive" if value >= positive_threshold else "negative" if value <= negative_threshold else \
                "neutral"
            out.append((label, value))
        return out

    return predict
