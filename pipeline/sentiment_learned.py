"""A learned, target-aware company sentiment classifier: a spaCy `textcat` over the marked target's context.

The lexicon scorer (pipeline/sentiment.py) counts sentiment words near a company. This is the learned
alternative: a spaCy text classifier with exclusive classes positive / neutral / negative whose input
is the normalised text around ONE target mention, with the mention marked. `score = P(pos) − P(neg)`.

Input rendering (the `[input]` section of configs/sentiment_textcat.cfg, saved in the model's
meta.json so prediction renders exactly as training did):

- The text is split at the target into left / target / right and each piece is normalised like the
  pipeline's normalise stage (width, punctuation, Traditional → Simplified, spaces); the pieces are
  normalised separately so the target's span needs no offset mapping.
- crop: the target's sentence plus `sentences` neighbours on each side, capped at `window`
  characters each side ("sentence"), or just `window` characters each side ("window"). Cropping is
  what makes a bag-of-n-grams model target-aware: a company's sentiment is usually stated in its own
  sentence, and another company's good news three sentences later should not leak in.
- marker: "mark" wraps the target in ⦃ ⦄ (characters that do not occur in news), "placeholder"
  replaces it with ⦃⦄ so the model cannot learn company names, "none" leaves it unmarked.
- A training example without a target (sentence-level data) is cropped to nothing and not marked.

Training data (`build_corpus`, all read by path, never copied; see `DEFAULT_CORPUS`):

- FinNSP train (CCF BDCI 2019): every candidate entity is a target; key entities are `negative`.
  The others are only "not negative"; they are mapped to `neutral` (`non_negative: neutral`), which
  is mostly right for these snippets (P2P-platform reports, announcements) and the only choice a
  spaCy exclusive textcat allows: it treats a missing label as 0, not as unknown, so a partial
  "anything but negative" label cannot be expressed. `non_negative: drop` keeps only the negatives.
- FinNE train: business-news sentences labelled 0 / 0.5 / 1 (negative / neutral / positive, the
  README's reading). With `target: lac`, the first organisation LAC finds in the sentence is marked
  as the target (the sentence's label is taken for it); sentences without one are kept untargeted.
- FinFE train: stock-forum posts, 0 / 1 / 2 = negative / neutral / positive; untargeted.
- `distil`: in-domain financial news without sentiment labels (FinNL news flashes, FinNA news
  bodies), every LAC organisation (up to `max_targets` per text) a target, labelled by the
  pipeline's lexicon scorer (the teacher) where it is confident: score ≥ `positive_at` positive,
  ≤ `negative_at` negative, exactly 0 (no sentiment word for the target) neutral, the rest dropped.
  This is what moved the needle: the labelled public sets are out of domain (P2P/Weibo snippets,
  36Kr tech news, stock-forum slang) and a model trained on them alone scores 0.45-0.49 macro-F1 on
  CFSC-ABSA Corporate, while distillation on news flashes gives the n-gram model the register of
  financial news (涨超, 封板, 同比下降 …) and lets it generalise past the lexicon's words.
- CFSC-ABSA is the TEST set and is never trained on. Its sentences are read only to drop any
  training text that is literally one of them (`exclude`; one FinNL/FinNA text is).

A dev split (`dev_fraction`, chosen by a hash of the text so that all targets of one text fall on the
same side, and the split is the same for every seed) selects the epoch; the selection score is the
mean over sources of each source's main figure (3-class macro-F1, or negative-class F1 for FinNSP).

What was measured (CFSC-ABSA Corporate test, 1,730 targets, macro-F1 / FinNSP eval negative-class F1;
majority class 0.411 accuracy; the lexicon scorer of pipeline/sentiment.py 0.614 / 0.752):

| training data (char n-gram BOW unless noted)               | CFSC F1 | FinNSP F1 |
|-------------------------------------------------------------|---------|-----------|
| FinNE only / FinFE only                                     | 0.37 / 0.34 | 0.21 / 0.14 |
| FinNSP + FinNE (+ FinFE: 0.45)                              | 0.48    | 0.88      |
| distil only (lexicon-labelled FinNL + FinNA targets)        | 0.59    | 0.44      |
| distil + FinNSP + FinNE, trigrams                           | 0.61    | 0.88      |
| same, bigrams (the default)                                 | 0.61-0.62 | 0.86-0.89 |
| same, pkuseg words (uni+bigrams) instead of characters      | 0.59    | 0.88      |
| same, TextCatEnsemble (BOW + 64-wide char CNN), 9 min       | 0.62    | 0.85      |

Representation (on FinNSP + FinNE): marker "mark" 0.48, "placeholder" 0.47, "none" 0.49; with
distil, "mark" 0.61, "none" 0.61, "placeholder" 0.59 (company names carry signal). Cropping to the
target's sentence ± 1 beats ± 0 (0.42) and a 60-character window (0.45). FinFE (stock-forum slang)
hurts; FinNSP's non-negatives as `neutral` beat dropping them (0.48 vs 0.39: without them nothing
teaches neutral on targets). Averaging the learned and the lexicon scores did not beat the learned
model alone (0.60-0.62). Differences under ~0.01 are noise.
The limit is the training data: no public in-domain target-level training set is available here
(CFSC-ABSA's train split is not in the snapshot; CFSC-NER shares ~37 % of its sentences with the
CFSC-ABSA test set, so it is not used even unlabelled).

The model directory is a plain spaCy pipeline (config.cfg, meta.json, msgpack weights): no pickle is
loaded at run time, and `spacy.load` needs no project code. Training is deterministic for a seed on
a given machine (fixed seeds, one seeded shuffle, hashed features; two full runs gave byte-identical
weights).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import spacy
from spacy.language import Language
from spacy.training import Example
from spacy.util import fix_random_seed, load_config, load_model_from_config, minibatch, registry

from pipeline.artefacts import write_json
from pipeline.evaluation.sentiment import (
    LABELS,
    NEGATIVE,
    TargetExample,
    read_finnsp,
    score_negative,
    score_polarity,
)
from pipeline.normalise import NormaliseConfig, Normaliser

MARK_OPEN, MARK_CLOSE = "⦃", "⦄"
META_KEY = "newslens_sentiment"
DEFAULT_CONFIG = Path("configs/sentiment_textcat.cfg")
DEFAULT_MODEL = Path("models/sentiment_textcat")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
NO_TARGET = ("", 0, 0)


class TrainExample(NamedTuple):
    """One training target: the target mention (start == end == 0 and target "" for a sentence-level
    label), its one-hot class, and the data set it came from (for per-source dev figures)."""

    example: TargetExample
    label: str
    source: str


@dataclass(frozen=True)
class InputConfig:
    """How a target mention is turned into the classifier's text (see the module docstring)."""

    marker: str = "mark"  # mark | placeholder | none
    crop: str = "sentence"  # sentence | window
    sentences: int = 1
    window: int = 150

    def __post_init__(self) -> None:
        if self.marker not in ("mark", "placeholder", "none"):
            raise ValueError(f"input.marker must be mark, placeholder or none, not {self.marker!r}")
        if self.crop not in ("sentence", "window"):
            raise ValueError(f"input.crop must be sentence or window, not {self.crop!r}")
        if self.window < 1 or self.sentences < 0:
            raise ValueError("input.window must be >= 1 and input.sentences >= 0")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> InputConfig:
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


# -- input rendering ---------------------------------------------------------------------------------


def _left_context(text: str, sentences: int) -> str:
    """The end of `text` from the start of the sentence holding its end, plus `sentences` more before."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text.rstrip("。！？!?；;\n"))]
    return text[ends[-1 - sentences] :] if len(ends) > sentences else text


def _right_context(text: str, sentences: int) -> str:
    """The start of `text` up to the end of the sentence holding its start, plus `sentences` more after."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[sentences]] if len(ends) > sentences else text


class Renderer:
    """Turns `TargetExample`s into classifier input text; one instance holds the compiled normaliser."""

    def __init__(self, config: InputConfig) -> None:
        self.config = config
        self.normaliser = Normaliser(NormaliseConfig(boilerplate=()))

    def _norm(self, text: str) -> str:
        return self.normaliser.normalise(text).text if text.strip() else ""

    def render(self, ex: TargetExample) -> str:
        cfg = self.config
        if ex.end <= ex.start:  # sentence-level example: the whole (normalised) text, unmarked
            return self._norm(ex.text)
        margin = 4 * cfg.window  # crop the raw text first: FinNSP texts run to 7,000 characters
        left = self._norm(ex.text[max(0, ex.start - margin) : ex.start])
        target = self._norm(ex.text[ex.start : ex.end]) or ex.target
        right = self._norm(ex.text[ex.end : ex.end + margin])
        if cfg.crop == "sentence":
            left, right = _left_context(left, cfg.sentences), _right_context(right, cfg.sentences)
        left, right = left[-cfg.window :], right[: cfg.window]
        if cfg.marker == "mark":
            return f"{left}{MARK_OPEN}{target}{MARK_CLOSE}{right}"
        if cfg.marker == "placeholder":
            return f"{left}{MARK_OPEN}{MARK_CLOSE}{right}"
        return f"{left}{target}{right}"

    def render_all(self, examples: Iterable[TargetExample]) -> list[str]:
        return [self.render(ex) for ex in examples]


# -- corpus ------------------------------------------------------------------------------------------

DEFAULT_CORPUS: dict[str, dict[str, Any]] = {
    "finnsp": {"path": "../shared/data/bbt-fincuge-finnsp/train_list.json", "non_negative": "neutral"},
    "finne": {"path": "../shared/data/bbt-fincuge-finne/train_list.json", "target": "lac"},
    "distil": {
        "texts": {"finnl": "../shared/data/bbt-fincuge-finnl/train_list.json",
                  "finna": "../shared/data/bbt-fincuge-finna/eval_list.json"},
        "model": "models/zh_pipeline",
        "lexicons": "models/lexicons",
        "max_targets": 3,
        "positive_at": 0.3,
        "negative_at": -0.3,
        "exclude": ["../shared/data/cfsc-absa/test.txt"],
    },
}
# Which field of a raw-news JSON row is the news text (FinNA rows are [summary, text]).
NEWS_TEXT_FIELD = {"finnl": 0, "finna": 1}
SENTENCE_LABELS = {
    "finne": {"0.0": "negative", "0.5": "neutral", "1.0": "positive"},
    "finfe": {"0": "negative", "1": "neutral", "2": "positive"},
}


def _read_json_array(path: str | Path) -> list[Any]:
    data = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON array")
    return data


def read_finnsp_train(path: str | Path, non_negative: str = "neutral") -> list[TrainExample]:
    """FinNSP rows as targets: key entities `negative`; the rest `neutral`, or dropped (`non_negative: drop`)."""
    if non_negative not in ("neutral", "drop"):
        raise ValueError("finnsp.non_negative must be neutral or drop")
    out = []
    for item in read_finnsp(path):
        if item.gold:
            out.append(TrainExample(item.example, NEGATIVE, "finnsp"))
        elif non_negative == "neutral":
            out.append(TrainExample(item.example, "neutral", "finnsp"))
    return out


def read_sentence_set(name: str, path: str | Path, target: str = "none") -> list[TrainExample]:
    """FinNE / FinFE `[text, label]` rows (stray header rows dropped) as sentence-level examples.

    With `target: lac` the first LAC organisation in each text becomes the marked target, so that the
    model also sees marked targets in positive and neutral contexts (FinNSP alone has almost only
    negative and neutral ones). LAC is imported lazily: it is needed only for training.
    """
    mapping = SENTENCE_LABELS[name]
    rows = [(str(r[0]), mapping[str(r[1])]) for r in _read_json_array(path)
            if len(r) == 2 and str(r[1]) in mapping and str(r[0]).strip()]
    spans: list[tuple[int, int] | None] = [None] * len(rows)
    if target == "lac":
        from pipeline.lac_ner import LacTagger

        tagged = LacTagger(labels=("ORG",)).tag([text for text, _ in rows])
        spans = [(found[0][0], found[0][1]) if found else None for found in tagged]
    elif target != "none":
        raise ValueError(f"{name}.target must be lac or none")
    out = []
    for (text, label), span in zip(rows, spans, strict=True):
        ex = TargetExample(text, span[0], span[1], text[span[0] : span[1]]) if span else TargetExample(text, 0, 0, "")
        out.append(TrainExample(ex, label, name))
    return out


def _excluded_texts(paths: Iterable[str | Path]) -> set[str]:
    """Sentences of CFSC-ABSA-format files (the test set), stripped: training texts to leave out."""
    out: set[str] = set()
    for path in paths:
        if Path(path).is_file():
            out.update(str(r["sentence"]).strip() for r in _read_json_array(path))
    return out


def read_distilled(spec: dict[str, Any], root: str | Path = ".",
                   teacher_params: dict[str, Any] | None = None) -> list[TrainExample]:
    """In-domain news targets labelled by the lexicon scorer where it is confident (see module doc).

    `spec`: texts (name → path, name in NEWS_TEXT_FIELD), model and lexicons (the built zh_pipeline
    and lexicon dirs the teacher needs), max_targets, positive_at, negative_at, exclude (paths).
    `teacher_params` is the `sentiment` block of params.yaml, so the teacher is the scorer the
    pipeline runs. Targets are LAC organisations of two or more characters, first mention each.
    """
    from pipeline.evaluation.sentiment import lexicon_predictor, predict_batched
    from pipeline.lac_ner import LacTagger

    root = Path(root)
    excluded = _excluded_texts(root / p for p in spec.get("exclude", ()))
    texts: list[str] = []
    for name, path in spec["texts"].items():
        if name not in NEWS_TEXT_FIELD:
            raise ValueError(f"distil.texts: unknown news set {name!r} (known: {', '.join(NEWS_TEXT_FIELD)})")
        field = NEWS_TEXT_FIELD[name]
        for row in _read_json_array(root / path):
            text = str(row[field]) if isinstance(row, list) and len(row) > field else ""
            if text.strip() and text.strip() not in excluded:
                texts.append(text)
    max_targets = int(spec.get("max_targets", 3))
    targets: list[TargetExample] = []
    for text, spans in zip(texts, LacTagger(labels=("ORG",)).tag(texts), strict=True):
        seen: set[str] = set()
        for s, e, _ in spans:
            name = text[s:e]
            if len(name) >= 2 and name not in seen and len(seen) < max_targets:
                seen.add(name)
                targets.append(TargetExample(text, s, e, name))
    teacher = lexicon_predictor(root / spec.get("model", "models/zh_pipeline"),
                                root / spec.get("lexicons", "models/lexicons"), teacher_params)
    positive_at, negative_at = float(spec.get("positive_at", 0.3)), float(spec.get("negative_at", -0.3))
    out = []
    for ex, (_, value) in zip(targets, predict_batched(teacher, targets), strict=True):
        if value >= positive_at:
            out.append(TrainExample(ex, "positive", "distil"))
        elif value <= negative_at:
            out.append(TrainExample(ex, NEGATIVE, "distil"))
        elif value == 0.0:
            out.append(TrainExample(ex, "neutral", "distil"))
    return out


def build_corpus(sources: dict[str, dict[str, Any]] | None = None, root: str | Path = ".",
                 teacher_params: dict[str, Any] | None = None) -> list[TrainExample]:
    """All training targets of the configured sources (relative paths are taken from `root`).

    Each source may set `limit` (first N examples, for quick runs) and `enabled: false`. Unknown
    source names fail, and so does `cfsc-absa`: it is the test set. `teacher_params` go to `distil`.
    """
    sources = DEFAULT_CORPUS if sources is None else sources
    out: list[TrainExample] = []
    for name, spec in sources.items():
        if spec is None or spec.get("enabled", True) is False:
            continue
        if name == "distil":
            part = read_distilled(spec, root, teacher_params)
        elif name == "finnsp":
            part = read_finnsp_train(Path(root) / spec["path"], spec.get("non_negative", "neutral"))
        elif name in SENTENCE_LABELS:
            part = read_sentence_set(name, Path(root) / spec["path"], spec.get("target", "none"))
        else:
            raise ValueError(f"unknown training source {name!r} (known: distil, finnsp, {', '.join(SENTENCE_LABELS)})")
        if spec.get("limit") is not None:
            part = part[: int(spec["limit"])]
        out.extend(part)
    return out


def split_dev(corpus: Sequence[TrainExample], dev_fraction: float) -> tuple[list[TrainExample], list[TrainExample]]:
    """Hash-based split: the same text always lands on the same side, whatever the seed or order."""
    train, dev = [], []
    for item in corpus:
        h = int.from_bytes(hashlib.sha256(item.example.text.encode("utf-8")).digest()[:8], "big") / 2**64
        (dev if h < dev_fraction else train).append(item)
    return train, dev


# -- training ----------------------------------------------------------------------------------------


def _cats(label: str) -> dict[str, float]:
    return {c: float(c == label) for c in LABELS}


def _predict_texts(nlp: Language, texts: Sequence[str], batch_size: int = 256) -> list[tuple[str, float]]:
    out = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        cats = doc.cats
        label = max(LABELS, key=lambda c: cats.get(c, 0.0))
        score = max(-1.0, min(1.0, cats.get("positive", 0.0) - cats.get("negative", 0.0)))
        out.append((label, round(float(score), 6)))
    return out


def dev_metrics(gold: Sequence[TrainExample], predicted: Sequence[str]) -> dict[str, Any]:
    """Per-source figures on the dev split and the selection score (mean of each source's main figure:
    negative-class F1 for FinNSP, whose "neutral" is only "not negative"; 3-class macro-F1 otherwise)."""
    by_source: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for item, pred in zip(gold, predicted, strict=True):
        by_source[item.source].append((item.label, pred))
    result: dict[str, Any] = {}
    mains = []
    for source, pairs in sorted(by_source.items()):
        g, p = [a for a, _ in pairs], [b for _, b in pairs]
        if source == "finnsp":
            figures = score_negative([x == NEGATIVE for x in g], p)
            main = figures["negative"]["f1"]
        else:
            figures = score_polarity(g, p)
            main = figures["macro_f1"]
        result[source] = {"examples": len(pairs), "main": main, **figures}
        mains.append(main)
    result["score"] = round(sum(mains) / len(mains), 4) if mains else 0.0
    return result


def _load_training_config(config_path: str | Path, overrides: dict[str, Any] | None) -> Any:
    return load_config(Path(config_path), overrides=dict(overrides or {}), interpolate=False)


def train(
    corpus: Sequence[TrainExample],
    out_dir: str | Path,
    config_path: str | Path = DEFAULT_CONFIG,
    seed: int = 0,
    max_epochs: int | None = None,
    dev_fraction: float = 0.1,
    overrides: dict[str, Any] | None = None,
    log: bool = False,
) -> dict[str, Any]:
    """Train the classifier on `corpus`, keep the epoch with the best dev score, write a spaCy model dir.

    `overrides` are spaCy config overrides ("input.marker": "placeholder", "training.dropout": 0.2,
    "components.textcat.model.ngram_size": 2 ...). With a corpus too small for a dev split (or
    `dev_fraction=0`), the last epoch is kept. Returns (and stores in meta.json) the metrics.
    """
    started = time.perf_counter()
    config = _load_training_config(config_path, overrides)
    config["system"]["seed"] = seed
    config["training"]["seed"] = seed
    if max_epochs is not None:
        config["training"]["max_epochs"] = max_epochs
    input_config = InputConfig.from_dict(dict(config.get("input", {})))
    fix_random_seed(seed)
    nlp = load_model_from_config(config.interpolate(), auto_fill=True, validate=True)
    t_cfg = config.interpolate()["training"]
    optimizer = registry.resolve({"optimizer": t_cfg["optimizer"]})["optimizer"]

    train_items, dev_items = split_dev(corpus, dev_fraction) if dev_fraction > 0 else (list(corpus), [])
    if not train_items:
        raise ValueError("no training examples")
    renderer = Renderer(input_config)
    train_examples = [
        Example.from_dict(nlp.make_doc(text), {"cats": _cats(item.label)})
        for item, text in zip(train_items, renderer.render_all(i.example for i in train_items), strict=True)
    ]
    dev_texts = renderer.render_all(i.example for i in dev_items)

    textcat = nlp.get_pipe("textcat")
    for label in LABELS:
        textcat.add_label(label)
    fix_random_seed(seed)
    nlp.initialize(lambda: train_examples[:1000], sgd=optimizer)

    rng = random.Random(seed)
    order = list(range(len(train_examples)))
    batch_size, dropout = int(t_cfg["batch_size"]), float(t_cfg["dropout"])
    patience, epochs = int(t_cfg.get("patience") or 0), int(t_cfg["max_epochs"])
    best: dict[str, Any] = {"score": -1.0}
    best_bytes: bytes | None = None
    history = []
    for epoch in range(1, epochs + 1):
        rng.shuffle(order)
        losses: dict[str, float] = {}
        for batch in minibatch([train_examples[i] for i in order], size=batch_size):
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
        with nlp.use_params(optimizer.averages):
            if dev_items:
                dev = dev_metrics(dev_items, [p for p, _ in _predict_texts(nlp, dev_texts)])
            else:
                dev = {"score": float(epoch)}  # no dev split: the last epoch wins
            if dev["score"] > best["score"]:
                best, best_bytes = {**dev, "epoch": epoch}, nlp.to_bytes()
        history.append({"epoch": epoch, "loss": round(losses.get("textcat", 0.0), 4), "dev_score": dev["score"]})
        if log:
            print(json.dumps(history[-1]), flush=True)
        if patience and epoch - best["epoch"] >= patience:
            break

    assert best_bytes is not None
    nlp.from_bytes(best_bytes)
    sources = Counter(i.source for i in train_items)
    labels = Counter(f"{i.source}:{i.label}" for i in train_items)
    metrics: dict[str, Any] = {
        "seed": seed,
        "train_examples": len(train_items),
        "dev_examples": len(dev_items),
        "train_sources": dict(sorted(sources.items())),
        "train_labels": dict(sorted(labels.items())),
        "best_epoch": best["epoch"],
        "epochs_run": len(history),
        "history": history,
        "dev": {k: v for k, v in best.items() if k != "epoch"} if dev_items else {},
        "train_seconds": round(time.perf_counter() - started, 1),
    }
    nlp.meta["name"] = "sentiment_textcat"
    nlp.meta["version"] = "0.1.0"
    nlp.meta[META_KEY] = {"input": asdict(input_config), "labels": list(LABELS), "metrics": metrics}
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)  # an earlier model or the not-trained marker: nothing of it may survive
    out.mkdir(parents=True)
    nlp.to_disk(out)
    metrics["model_bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return metrics


# -- prediction --------------------------------------------------------------------------------------


class LearnedScorer:
    """A trained model dir as a target-sentiment predictor: `predict(examples) -> [(label, score)]`.

    `score = P(positive) − P(negative)` in [-1, 1]; the label is the most probable class.
    """

    def __init__(self, model_dir: str | Path = DEFAULT_MODEL, batch_size: int = 256) -> None:
        path = Path(model_dir)
        if not (path / "meta.json").exists():
            raise FileNotFoundError(f"no sentiment model at {path}; train it with the train_sentiment stage")
        self.nlp = spacy.load(path)
        meta = self.nlp.meta.get(META_KEY)
        if not meta:
            raise ValueError(f"{path} is not a sentiment_learned model (no {META_KEY} in meta.json)")
        self.input = InputConfig.from_dict(meta["input"])
        self.renderer = Renderer(self.input)
        self.batch_size = batch_size

    def render(self, examples: Sequence[TargetExample]) -> list[str]:
        return self.renderer.render_all(examples)

    def predict(self, examples: Sequence[TargetExample]) -> list[tuple[str, float]]:
        return _predict_texts(self.nlp, self.render(examples), self.batch_size)

    __call__ = predict


# -- DVC entry ---------------------------------------------------------------------------------------


DISABLED_NOTE = """No learned sentiment model was trained here: sentiment_learned.enabled is false in params.yaml.

Its training data is read from ../shared (research-use only), so a trained model is a local build
artefact. To build it: `dvc exp run -S sentiment_learned.enabled=true` (or edit params.yaml and run
`dvc repro train_sentiment`); then `sentiment.method: learned | ensemble` uses it.
"""


def write_disabled(out_dir: str | Path, metrics_path: str | Path) -> None:
    """The stage's outputs when training is off: a directory holding only this note (no meta.json, so
    nothing mistakes it for a model) and metrics saying so, both the same bytes on every machine."""
    from pipeline.artefacts import atomic_path

    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    with atomic_path(out / "NOT_TRAINED.txt") as tmp:
        Path(tmp).write_text(DISABLED_NOTE, encoding="utf-8")
    write_json(metrics_path, {"enabled": False})


def train_sentiment(params: dict[str, Any], out_dir: str | Path = DEFAULT_MODEL, root: str | Path = ".",
                    metrics_path: str | Path | None = None,
                    teacher_params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `train_sentiment` stage: read `params` (the `sentiment.learned` block of params.yaml), build
    the corpus, train, and write the model dir plus, if asked, the metrics as JSON.

    Keys (all optional): config, seed, max_epochs, dev_fraction, overrides, corpus (source → spec,
    default `DEFAULT_CORPUS`). `teacher_params` is the `sentiment` block (the lexicon teacher's
    settings for the `distil` source).
    """
    started = time.perf_counter()
    corpus = build_corpus(params.get("corpus"), root, teacher_params)
    corpus_seconds = round(time.perf_counter() - started, 1)
    metrics = train(
        corpus,
        out_dir,
        Path(root) / params.get("config", DEFAULT_CONFIG),
        seed=int(params.get("seed", 0)),
        max_epochs=params.get("max_epochs"),
        dev_fraction=float(params.get("dev_fraction", 0.1)),
        overrides=params.get("overrides"),
    )
    metrics["corpus_seconds"] = corpus_seconds
    if metrics_path is not None:
        write_json(metrics_path, {k: v for k, v in metrics.items() if k != "history"})
    return metrics


__all__ = [
    "DEFAULT_CORPUS",
    "InputConfig",
    "LearnedScorer",
    "Renderer",
    "TrainExample",
    "build_corpus",
    "dev_metrics",
    "split_dev",
    "train",
    "train_sentiment",
]
