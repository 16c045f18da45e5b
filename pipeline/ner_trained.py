"""A trained spaCy `ner` (models/ner_trained, built by `train_ner`) as a predictor and as the component `trained_ner`.

The trained model is a plain spaCy pipeline (`spacy.load` works without project code), but it reads
feature docs (pipeline.ner_features: pkuseg words, or characters carrying their word, as recorded
in its meta.json) built from the words the segment stage already found, so the model sees exactly
the tokens it was trained on. Its labels are
the training corpus's own (CLUENER `company`, `organization`, `government`, `name`, …); the
`label_map` stored in its meta.json at training time maps them onto what the pipeline reports:

- `company`  → ORG, and the model says it is a company (CLUENER `company`, CFSC `Corporate`)
- `ORG` / `PER` / `LOC` → that label, the model does not say whether it is a company
- unmapped labels pass through unchanged (a user's own entity types: PRODUCT, FUND, …)

`ner.model: both` runs LAC as well; `merge_spans` keeps every trained span and adds the LAC spans
that overlap none of them (`MERGE_FIRST`). The order was measured (docs/benchmarks.md): a model
trained on CLUENER alone did better with LAC first on CFSC-NER (0.034) and worse on CLUENER dev
(0.008); the model trained on CLUENER train plus in-domain CFSC-NER val does better with its own
spans first on both dev sets (CLUENER dev +0.016, CFSC-NER val held-out +0.037), and that is the
setup the docs recommend. A trained model's boundaries are learnt from the corpus's annotation;
LAC's are People's Daily's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from pipeline.doc_text import doc_text
from pipeline.errors import TrainedModelMissing
from pipeline.ner_features import feature_doc, word_offsets

MODEL_MODES = ("lac", "trained", "both")
DEFAULT_MODEL = Path("models/ner_trained")
SPANS_KEY = "trained_char_spans"  # doc.user_data key, next to lac_ner.CHAR_SPANS_KEY
DISABLED_MARKER = "DISABLED"
COMPANY = "company"
# Which model's spans win an overlap under `ner.model: both` (see merge_spans and docs/benchmarks.md).
MERGE_FIRST = "trained"

# Corpus label -> pipeline label, for the corpora the readers know. `company` = ORG + is a company.
DEFAULT_LABEL_MAP: dict[str, str] = {
    # CLUENER2020 (its README's mapping; book, game, movie, position stay as they are)
    "company": COMPANY, "organization": "ORG", "government": "ORG", "name": "PER",
    "address": "LOC", "scene": "LOC",
    # CFSC-NER
    "Corporate": COMPANY,
    # MSRA / People's Daily / Weibo / Resume style tags
    "ORG": "ORG", "PER": "PER", "LOC": "LOC", "GPE": "LOC", "NAME": "PER",
    "NT": "ORG", "NR": "PER", "NS": "LOC",
}


class ModelSpan(NamedTuple):
    """A span from a statistical model: character offsets, pipeline label, and the model's own
    opinion on "is a company" (None when the model has no such class, e.g. LAC)."""

    start: int
    end: int
    label: str
    is_company: bool | None


def map_label(label: str, label_map: dict[str, str]) -> tuple[str, bool | None]:
    """Pipeline label and company opinion for a model label."""
    target = label_map.get(label, label)
    if target == COMPANY:
        return "ORG", True
    if label in label_map and target == "ORG":
        return "ORG", False
    return target, None


def check_model_dir(path: str | Path) -> Path:
    """The model directory, or TrainedModelMissing when it is missing or the disabled-stage marker."""
    p = Path(path)
    if (p / DISABLED_MARKER).exists():
        raise TrainedModelMissing(
            f"{p} holds no trained model (ner.train.enabled is false): set ner.train.enabled: true and a "
            "corpus in params.yaml and run `dvc repro train_ner`, or use ner.model: lac")
    if not (p / "config.cfg").is_file():
        raise TrainedModelMissing(
            f"no trained NER model at {p}: run `dvc repro train_ner` with ner.train.enabled: true "
            "(see README, \"Training your own NER\"), or use ner.model: lac")
    return p


class TrainedNer:
    """The trained model on segmented docs or on word offsets: spans in the pipeline's labels."""

    def __init__(self, path: str | Path = DEFAULT_MODEL, batch_size: int = 128) -> None:
        self.path = check_model_dir(path)
        self.nlp = spacy.load(self.path)
        info = self.nlp.meta.get("newslens") or {}
        self.tokens: str = info.get("tokens", "word")
        self.label_map: dict[str, str] = dict(info.get("label_map") or DEFAULT_LABEL_MAP)
        self.batch_size = batch_size

    def _spans(self, doc: Doc) -> list[ModelSpan]:
        out = []
        for ent in doc.ents:
            label, is_company = map_label(ent.label_, self.label_map)
            out.append(ModelSpan(ent.start_char, ent.end_char, label, is_company))
        return out

    def predict_offsets(self, items: Sequence[tuple[str, Sequence[tuple[int, int]]]]) -> list[list[ModelSpan]]:
        """Spans for `(text, word offsets)` pairs; offsets are into each text."""
        docs = [feature_doc(self.tokens, self.nlp.vocab, text, words) for text, words in items]
        return [self._spans(d) for d in self.nlp.pipe(docs, batch_size=self.batch_size)]

    def predict_docs(self, docs: Sequence[Doc]) -> list[list[ModelSpan]]:
        """Spans for segmented docs (the segment stage's or the built tokenizer's)."""
        return self.predict_offsets([(doc_text(d), word_offsets(d)) for d in docs])


def merge_spans(trained: Iterable[ModelSpan], lac: Iterable[ModelSpan], first: str = MERGE_FIRST) -> list[ModelSpan]:
    """Both models' spans without overlaps, sorted by offset.

    `first="lac"`: every LAC span, plus each trained span that overlaps none of them; a LAC span the
    trained model found with the same extent takes the trained model's label and company opinion.
    `first="trained"`: every trained span, plus each LAC span that overlaps none of them.
    """
    trained, lac = sorted(trained), sorted(lac)
    if first == "trained":
        primary, secondary = trained, lac
    else:
        by_extent = {(t.start, t.end): t for t in trained}
        primary = [by_extent.get((s.start, s.end), s) for s in lac]
        secondary = trained
    out = list(primary)
    for span in secondary:
        if not any(span.start < p.end and p.start < span.end for p in primary):
            out.append(span)
    return sorted(out)


def doc_model_spans(doc: Doc, lac_key: str) -> list[ModelSpan]:
    """The model spans the linker should see: trained, LAC, or both merged (whichever components ran)."""
    lac = [ModelSpan(s, e, label, None) for s, e, label in doc.user_data.get(lac_key, [])]
    trained = [ModelSpan(*s) for s in doc.user_data.get(SPANS_KEY, [])]
    if trained and lac:
        return merge_spans(trained, lac)
    return trained or lac


class TrainedNerComponent:
    """spaCy component: the trained model's spans into `doc.user_data[SPANS_KEY]`, doc.ents untouched."""

    def __init__(self, nlp: Language, name: str, model_path: str, batch_size: int) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self._model: TrainedNer | None = None

    @property
    def model(self) -> TrainedNer:
        if self._model is None:
            self._model = TrainedNer(self.model_path, self.batch_size)
        return self._model

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """The model runs on `batch_size` docs at a time (spaCy's own batching of nlp.pipe)."""
        for batch in minibatch(stream, size=batch_size or self.batch_size):
            yield from self._pipe_batch(batch)

    def _pipe_batch(self, docs: list[Doc]) -> Iterator[Doc]:
        for doc, spans in zip(docs, self.model.predict_docs(docs), strict=True):
            doc.user_data[SPANS_KEY] = [tuple(s) for s in spans]
            yield doc


@Language.factory("trained_ner", default_config={"model_path": str(DEFAULT_MODEL), "batch_size": 128})
def make_trained_ner(nlp: Language, name: str, model_path: str, batch_size: int) -> TrainedNerComponent:
    return TrainedNerComponent(nlp, name, model_path, batch_size)


def model_info(path: str | Path) -> dict[str, Any]:
    """The `newslens` block of a trained model's meta.json (tokens, label_map, training figures)."""
    meta = json.loads((check_model_dir(path) / "meta.json").read_text(encoding="utf-8"))
    return dict(meta.get("newslens") or {})
