"""Training the pipeline's own spaCy `ner` (the `train_ner` stage): corpus → DocBin → model + metrics.

Why a hand-written loop rather than `spacy train`: the model reads feature docs (characters carrying
their pkuseg word, pipeline.ner_features) that spaCy's corpus reader cannot build, since it makes
the predicted doc with the model's own tokenizer. Here the feature docs are built once, stored as
DocBin files (data/ner_corpus/), and the loop is spaCy's usual update / evaluate / keep-best with
`max_steps` and `patience`, reading its settings from the config's [training] block.

Model selection uses a held-out slice of the TRAINING corpus (chosen by a hash of the text, so the
same for every seed), never the evaluation set: the evaluation figures (e.g. CLUENER dev, which
is the only labelled CLUENER split) are computed once, on the kept model.

A model trained on a research-only corpus (CLUENER, CFSC-NER, MSRA …) inherits its terms: it is a
local build artefact under models/ (git-ignored), never committed.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example as SpacyExample
from spacy.training.batchers import minibatch_by_words
from spacy.util import filter_spans, fix_random_seed, load_config, load_model_from_config, registry

from pipeline.artefacts import write_json
from pipeline.evaluation.ner import Example
from pipeline.evaluation.scoring import prf
from pipeline.ner_corpus import CorpusSpec, corpus_specs, corpus_stats, read_corpus, relabel, without_texts
from pipeline.ner_features import EMBED_ATTRS, TOKEN_MODES, feature_doc, word_offsets
from pipeline.ner_trained import COMPANY, DEFAULT_LABEL_MAP, DISABLED_MARKER

DEFAULT_CONFIG = Path("configs/ner_trained.cfg")
CORPUS_FILES = ("train.spacy", "heldout.spacy", "eval.spacy")


@dataclass
class TrainSettings:
    """What `train_ner` needs; built from params.yaml `ner.train` by the CLI (settings_from_params)."""

    corpora: list[CorpusSpec]
    eval_path: str | None = None
    eval_format: str | None = None
    tokens: str = "word"
    heldout_fraction: float = 0.05
    config: str = str(DEFAULT_CONFIG)
    seed: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)  # [training] values, e.g. max_steps
    label_map: dict[str, str] = field(default_factory=dict)  # added to DEFAULT_LABEL_MAP
    exclude: list[CorpusSpec] = field(default_factory=list)  # sentences never trained on

    def __post_init__(self) -> None:
        if self.tokens not in TOKEN_MODES:
            raise ValueError(f"ner.train.tokens must be one of {TOKEN_MODES}, not {self.tokens!r}")
        if not self.corpora:
            raise ValueError("ner.train.corpus names no corpus")
        for fraction in (self.heldout_fraction, *(c.heldout_fraction for c in self.corpora)):
            if fraction is not None and not 0 < fraction < 1:
                raise ValueError("ner.train heldout_fraction must be between 0 and 1")


# -- corpus → feature docs ---------------------------------------------------------------------------


def heldout_split(examples: Sequence[Example], fraction: float) -> tuple[list[Example], list[Example]]:
    """(train, held out): a text is held out when a hash of it falls below `fraction`, so duplicates
    of one sentence stay on one side and the split does not depend on the seed or on file order."""
    train, held = [], []
    for ex in examples:
        h = int.from_bytes(hashlib.sha256(ex.text.encode("utf-8")).digest()[:8], "big") / 2**64
        (held if h < fraction else train).append(ex)
    if not held and len(train) > 1:
        held.append(train.pop())
    return train, held


@dataclass
class Split:
    """The training and held-out sentences of all corpora, and what each corpus contributed."""

    train: list[Example] = field(default_factory=list)
    heldout: list[Example] = field(default_factory=list)
    heldout_parts: list[tuple[int, int]] = field(default_factory=list)  # each corpus's slice of `heldout`
    parts: list[dict[str, Any]] = field(default_factory=list)  # per corpus: path, counts, removed
    examples: list[Example] = field(default_factory=list)  # every sentence used, relabelled


def split_corpora(settings: TrainSettings) -> Split:
    """Read, relabel and split every corpus; each corpus is split on its own (its heldout_fraction),
    so a small in-domain corpus is represented in model selection however large the others are."""
    excluded = {ex.text for spec in settings.exclude for ex in read_corpus(spec.path, spec.format)}
    out = Split()
    for spec in settings.corpora:
        examples, removed = without_texts(relabel(read_corpus(spec.path, spec.format), spec.rename), excluded)
        train, held = heldout_split(examples, spec.heldout_fraction or settings.heldout_fraction)
        out.heldout_parts.append((len(out.heldout), len(out.heldout) + len(held)))
        out.train += train
        out.heldout += held
        out.examples += examples
        out.parts.append({"path": spec.path, "format": spec.format, "rename": dict(spec.rename),
                          **corpus_stats(examples), "excluded_sentences": removed,
                          "train_sentences": len(train), "heldout_sentences": len(held)})
    return out


@dataclass
class Converted:
    docs: list[Doc]
    overlapping_dropped: int = 0
    unaligned: int = 0  # gold spans that are not token spans (word mode at evaluation only)


def to_docs(examples: Sequence[Example], segment: Any, vocab: Any, mode: str, split_words: bool) -> Converted:
    """Feature docs with gold `doc.ents`.

    `segment(text) -> Doc` gives the words. Overlapping gold spans (CLUENER nests a few companies in
    book titles) cannot all be entities of one doc: the longest is kept and the others counted. In
    `word` mode with `split_words` words are cut at gold boundaries, so no span is lost; without it
    (evaluation) a span inside a word is counted as `unaligned` and stays in the gold for scoring.
    """
    out = Converted([])
    for ex in examples:
        words = word_offsets(segment(ex.text))
        cuts = [b for s, e, _ in ex.spans for b in (s, e)] if split_words else []
        doc = feature_doc(mode, vocab, ex.text, words, cuts)
        spans: list[Span] = []
        for s, e, label in ex.spans:
            span = doc.char_span(s, e, label=label)
            if span is None:
                out.unaligned += 1
            else:
                spans.append(span)
        kept = filter_spans(spans)
        out.overlapping_dropped += len(spans) - len(kept)
        doc.ents = kept
        doc.user_data["gold"] = [list(s) for s in ex.spans]
        out.docs.append(doc)
    return out


def write_docbin(path: Path, docs: Iterable[Doc]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    DocBin(store_user_data=True, docs=docs).to_disk(path)


def read_docbin(path: Path, vocab: Any) -> list[Doc]:
    return list(DocBin().from_disk(path).get_docs(vocab))


def _predicted(doc: Doc) -> Doc:
    """The doc the model is given: the same tokens and features, no entities."""
    pred = doc.copy()
    pred.set_ents([], default="missing")
    return pred


# -- scoring -----------------------------------------------------------------------------------------


def gold_spans(doc: Doc) -> set[tuple[int, int, str]]:
    return {(int(s), int(e), str(label)) for s, e, label in doc.user_data.get("gold", [])}


def span_scores(gold: Sequence[set[tuple[int, int, str]]], pred: Sequence[set[tuple[int, int, str]]],
                label_map: dict[str, str] | None = None) -> dict[str, Any]:
    """Exact-match P/R/F per label and micro over all labels; with `label_map` also `company`
    (labels mapped to company) and `ORG` (labels mapped to ORG or company), as the evaluation does."""
    def counts(select: Any) -> dict[str, Any]:
        g = {(i, s, e) for i, spans in enumerate(gold) for s, e, lab in spans if select(lab)}
        p = {(i, s, e) for i, spans in enumerate(pred) for s, e, lab in spans if select(lab)}
        c = len(g & p)
        return {**prf(c, len(p), len(g)), "gold": len(g), "predicted": len(p), "correct": c}

    labels = sorted({lab for spans in (*gold, *pred) for _, _, lab in spans})
    result: dict[str, Any] = {"per_label": {lab: counts(lambda x, lab=lab: x == lab) for lab in labels}}
    g_all = {(i, *s) for i, spans in enumerate(gold) for s in spans}
    p_all = {(i, *s) for i, spans in enumerate(pred) for s in spans}
    c = len(g_all & p_all)
    result["micro"] = {**prf(c, len(p_all), len(g_all)), "gold": len(g_all), "predicted": len(p_all), "correct": c}
    if label_map is not None:
        result[COMPANY] = counts(lambda x: label_map.get(x) == COMPANY)
        result["ORG"] = counts(lambda x: label_map.get(x) in ("ORG", COMPANY))
    return result


def predict_spans(nlp: Language, docs: Sequence[Doc], batch_size: int = 256) -> list[set[tuple[int, int, str]]]:
    preds = nlp.pipe((_predicted(d) for d in docs), batch_size=batch_size)
    return [{(e.start_char, e.end_char, e.label_) for e in d.ents} for d in preds]


# -- training ------------------------------------------------------------------------------------------


def load_training_config(path: str | Path, tokens: str, overrides: dict[str, Any]) -> Any:
    """The config with the token mode's embedding attributes and any [training] overrides applied."""
    config = load_config(Path(path))
    attrs, rows = EMBED_ATTRS[tokens]
    embed = config["components"]["tok2vec"]["model"]["embed"]
    embed["attrs"], embed["rows"] = list(attrs), list(rows)
    for key, value in overrides.items():
        if value is not None:
            config["training"][key] = value
    return config


def _into_vocab(docs: Sequence[Doc], vocab: Any) -> list[Doc]:
    """The docs rebuilt on the model's vocab: they were made on the segmenter's, and a Doc's strings
    must be in the vocab of the pipeline that reads it."""
    return [Doc(vocab).from_bytes(d.to_bytes()) for d in docs]


def train_model(config: Any, train_docs: Sequence[Doc], heldout_docs: Sequence[Doc], seed: int,
                log: Any = print) -> tuple[Language, dict[str, Any]]:
    """Train until `max_steps`, `max_epochs` or `patience` steps without a better held-out F1; the
    model returned has the best held-out parameters (averaged, as spaCy evaluates them)."""
    fix_random_seed(seed)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    t = config["training"]
    optimizer = registry.resolve({"o": t["optimizer"]})["o"]
    vocab_docs = _into_vocab(train_docs, nlp.vocab)
    examples = [SpacyExample(_predicted(d), d) for d in vocab_docs]
    held = _into_vocab(heldout_docs, nlp.vocab)
    held_gold = [{(e.start_char, e.end_char, e.label_) for e in d.ents} for d in held]
    nlp.initialize(lambda: examples, sgd=optimizer)

    rng = random.Random(seed)
    max_steps, max_epochs = int(t["max_steps"]), int(t["max_epochs"])
    patience, every = int(t["patience"]), int(t["eval_frequency"])
    best_f, best_step, best_bytes = -1.0, 0, nlp.to_bytes()
    step, epoch, losses = 0, 0, {}
    history = []
    started = time.perf_counter()
    done = False
    while not done and epoch < max_epochs:
        epoch += 1
        order = list(examples)
        rng.shuffle(order)
        for batch in minibatch_by_words(order, size=int(t["batch_words"]), tolerance=0.2, discard_oversize=False):
            nlp.update(batch, drop=float(t["dropout"]), sgd=optimizer, losses=losses)
            step += 1
            if step % every == 0 or step >= max_steps:
                with nlp.use_params(optimizer.averages):
                    f = span_scores(held_gold, predict_spans(nlp, held))["micro"]["f1"]
                    if f > best_f:
                        best_f, best_step, best_bytes = f, step, nlp.to_bytes()
                elapsed = time.perf_counter() - started
                history.append({"step": step, "epoch": epoch, "loss": round(float(losses.get("ner", 0.0)), 2),
                                "heldout_f1": round(float(f), 4), "seconds": round(elapsed, 1)})
                log(f"train_ner step {step} epoch {epoch} loss {losses.get('ner', 0.0):.1f} "
                    f"held-out F1 {f:.4f} (best {best_f:.4f} @ {best_step}) {elapsed:.0f}s")
                losses = {}
                if step >= max_steps or step - best_step >= patience:
                    done = True
                    break
    nlp.from_bytes(best_bytes)
    return nlp, {"steps": step, "epochs": epoch, "best_step": best_step, "heldout_f1": round(float(best_f), 4),
                 "train_seconds": round(time.perf_counter() - started, 1), "history": history}


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _replace_dir(tmp: Path, dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)


def train_ner(settings: TrainSettings, segmenter: Language, out_dir: str | Path, corpus_dir: str | Path,
              metrics_path: str | Path, log: Any = print) -> dict[str, Any]:
    """Read the corpus, write its DocBins to `corpus_dir`, train, save the model to `out_dir` and
    its figures (held-out and, when `eval_path` is set, evaluation-set scores) to `metrics_path`."""
    out_dir, corpus_dir = Path(out_dir), Path(corpus_dir)
    label_map = {**DEFAULT_LABEL_MAP, **settings.label_map}
    config = load_training_config(settings.config, settings.tokens, settings.overrides)
    vocab = segmenter.vocab
    segment = segmenter.make_doc
    t0 = time.perf_counter()
    split = split_corpora(settings)
    if not split.examples:
        raise ValueError(f"NER corpus {', '.join(c.path for c in settings.corpora)} holds no sentences")
    train_c = to_docs(split.train, segment, vocab, settings.tokens, split_words=True)
    held_c = to_docs(split.heldout, segment, vocab, settings.tokens, split_words=False)
    eval_ex: list[Example] = []
    eval_c = Converted([])
    if settings.eval_path:
        eval_ex = read_corpus(settings.eval_path, settings.eval_format or settings.corpora[0].format)
        eval_c = to_docs(eval_ex, segment, vocab, settings.tokens, split_words=False)
    tmp_corpus = corpus_dir.with_name(corpus_dir.name + ".tmp")
    shutil.rmtree(tmp_corpus, ignore_errors=True)
    for name, conv in zip(CORPUS_FILES, (train_c, held_c, eval_c), strict=True):
        write_docbin(tmp_corpus / name, conv.docs)
    _replace_dir(tmp_corpus, corpus_dir)
    convert_seconds = time.perf_counter() - t0
    log(f"train_ner: {len(train_c.docs)} training / {len(held_c.docs)} held-out / {len(eval_c.docs)} evaluation "
        f"sentences ({settings.tokens} tokens) in {convert_seconds:.0f}s")

    nlp, run = train_model(config, train_c.docs, held_c.docs, settings.seed, log)

    metrics: dict[str, Any] = {
        "enabled": True,
        "tokens": settings.tokens,
        "corpus": {**corpus_stats(split.examples), "train_sentences": len(train_c.docs),
                   "heldout_sentences": len(held_c.docs), "overlapping_spans_dropped": train_c.overlapping_dropped,
                   "parts": split.parts},
        "convert_seconds": round(convert_seconds, 1),
        **{k: v for k, v in run.items() if k != "history"},
    }
    held_docs = _into_vocab(held_c.docs, nlp.vocab)
    held_gold, held_pred = [gold_spans(d) for d in held_docs], predict_spans(nlp, held_docs)
    metrics["heldout"] = [
        {"path": part["path"], **span_scores(held_gold[a:b], held_pred[a:b], label_map)}
        for part, (a, b) in zip(split.parts, split.heldout_parts, strict=True)
    ]
    if eval_c.docs:
        t1 = time.perf_counter()
        docs = _into_vocab(eval_c.docs, nlp.vocab)
        pred = predict_spans(nlp, docs)
        seconds = time.perf_counter() - t1
        metrics["eval"] = {
            "path": settings.eval_path, "sentences": len(docs), "unaligned_gold_spans": eval_c.unaligned,
            "predict_seconds": round(seconds, 1),
            "chars_per_second": round(sum(len(d.text) for d in docs) / max(seconds, 1e-9)),
            **span_scores([gold_spans(d) for d in docs], pred, label_map),
        }
    nlp.meta["name"] = "ner_trained"
    nlp.meta["version"] = "0.0.0"
    nlp.meta["description"] = ("newslens trained NER; reads feature docs (pipeline.ner_features). "
                               "A model trained on a research-only corpus inherits its terms: do not distribute.")
    nlp.meta["newslens"] = {"tokens": settings.tokens, "label_map": label_map,
                            "corpus": [{"path": c.path, "format": c.format, "rename": dict(c.rename)}
                                       for c in settings.corpora], "seed": settings.seed,
                            "steps": run["steps"], "best_step": run["best_step"]}
    tmp_model = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp_model, ignore_errors=True)
    nlp.to_disk(tmp_model)
    _replace_dir(tmp_model, out_dir)
    metrics["model_bytes"] = _dir_size(out_dir)
    metrics["history"] = run["history"]
    write_json(metrics_path, metrics)
    return metrics


_DISABLED_README = """\
# No trained NER model

`ner.train.enabled` is false in params.yaml, so the `train_ner` stage wrote this marker instead of a
model (a fresh clone has no training corpus). The `ner` stage uses it only with `ner.model: trained`
or `both`, and then stops with a message saying how to train one: set `ner.train.enabled: true` and
`ner.train.corpus`, then `dvc repro train_ner`. See README.md, "Training your own NER".
"""


def write_disabled(out_dir: str | Path, corpus_dir: str | Path, metrics_path: str | Path) -> dict[str, Any]:
    """The disabled stage's outputs: fixed bytes, so `dvc repro` sees nothing new run after run."""
    for d in (Path(out_dir), Path(corpus_dir)):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        (d / "README.md").write_text(_DISABLED_README, encoding="utf-8")
    (Path(out_dir) / DISABLED_MARKER).write_text("ner.train.enabled: false\n", encoding="utf-8")
    metrics = {"enabled": False}
    write_json(metrics_path, metrics)
    return metrics


def settings_from_params(train: dict[str, Any]) -> TrainSettings:
    """`ner.train` from params.yaml as TrainSettings (the CLI's job, kept here so tests can use it)."""
    ev = train.get("eval") or {}
    overrides = {k: train[k] for k in ("max_steps", "max_epochs", "patience", "eval_frequency", "batch_words")
                 if train.get(k) is not None}
    return TrainSettings(
        corpora=corpus_specs(train.get("corpus")), exclude=corpus_specs(train.get("exclude")),
        eval_path=ev.get("path"), eval_format=ev.get("format"),
        tokens=str(train.get("tokens", "word")), heldout_fraction=float(train.get("heldout_fraction", 0.05)),
        config=str(train.get("config", DEFAULT_CONFIG)), seed=int(train.get("seed", 0)),
        overrides=overrides, label_map=dict(train.get("label_map") or {}),
    )


def summary(metrics: dict[str, Any]) -> str:
    """One line for the console."""
    if not metrics.get("enabled"):
        return "train_ner: disabled (ner.train.enabled: false); wrote the marker model"
    short = {k: metrics[k] for k in ("tokens", "steps", "best_step", "heldout_f1", "train_seconds", "model_bytes")}
    if "eval" in metrics:
        short["eval_company_f1"] = metrics["eval"].get(COMPANY, {}).get("f1")
        short["eval_ORG_f1"] = metrics["eval"].get("ORG", {}).get("f1")
        short["eval_micro_f1"] = metrics["eval"]["micro"]["f1"]
    return "train_ner: " + json.dumps(short, ensure_ascii=False)
