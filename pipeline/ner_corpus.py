"""Reading NER training corpora into one shape: `Example(text, spans)` with character offsets.

`train_ner` accepts whatever annotated text a user has, so each format gets a reader that yields
the same record as the evaluation readers (`pipeline.evaluation.ner.Example`: text plus
`(start, end, label)` character spans, end exclusive, the corpus's own labels):

- `cluener`: CLUENER2020 JSON (inclusive ends; pretty-printed objects or JSON Lines)
- `cfsc`: CFSC-NER JSON array (`from`/`to`, end exclusive)
- `bio` / `bmes` (one reader: `column`): one `char<TAB or space>tag` per line, blank line between
  sentences; BIO, IOB2, BIOES and BMES tags are all read (the tag scheme is detected per tag)
- `jsonl`: spaCy / Prodigy JSONL, one `{"text": ..., "spans": [{"start", "end", "label"}]}` per
  line (a span may also be `[start, end, label]`)

Spans are character offsets, not token offsets, on purpose: the training side chooses the
tokenisation (characters or pkuseg words) and must handle an entity that does not align with a word,
which it cannot do if a reader already dropped such spans.

A training run may read several corpora (`CorpusSpec`, one per `ner.train.corpus` entry): a general
corpus teaches the entity types, a small in-domain one the domain's register. Their label sets
differ, so each corpus renames its labels onto the model's (`rename`: CFSC `Corporate` -> CLUENER's
`company`, so both teach one class), and a label renamed to null is dropped (its spans are then
treated as non-entities, which is only right if the model should learn to leave them alone).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.evaluation.ner import Example, read_cfsc_ner, read_cluener, read_text, split_tagged_line

# Tag prefixes: B = begin, I/M = inside, E = end, S = single (BMES/BIOES), O = outside.
_BEGIN, _INSIDE, _END, _SINGLE = frozenset("B"), frozenset("IM"), frozenset("E"), frozenset("SU")
_TAG_KINDS = "BIMESU"


def _check_span(text: str, start: int, end: int, label: str, where: str) -> tuple[int, int, str]:
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"{where}: span {start}:{end} ({label}) outside a text of {len(text)} characters")
    if not label:
        raise ValueError(f"{where}: span {start}:{end} has no label")
    return start, end, label


def read_jsonl(path: str | Path) -> list[Example]:
    """spaCy/Prodigy JSONL: `{"text", "spans": [{"start", "end", "label"} | [start, end, label]]}` per line.

    Blank lines are skipped; a record without `spans` is a sentence without entities (still useful:
    it teaches the model what is not an entity).
    """
    examples = []
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        rec = json.loads(line)
        text = rec["text"]
        spans = []
        for span in rec.get("spans") or ():
            if isinstance(span, dict):
                start, end, label = span["start"], span["end"], span["label"]
            else:
                start, end, label = span
            spans.append(_check_span(text, int(start), int(end), str(label), f"{path}:{lineno}"))
        examples.append(Example(text, sorted(set(spans))))
    return examples


def _split_column_line(line: str, where: str) -> tuple[str, str]:
    """`char<TAB>tag` or `char tag` in any of the schemes, exactly one character per line; a line
    that is only a tag (or whose character is any whitespace) stands for a space character."""
    char, tag = split_tagged_line(line, where, kinds=_TAG_KINDS, separators="-_")
    if char.isspace():
        char = " "
    if len(char) != 1:
        raise ValueError(f"{where}: expected one character per line, got {char!r}")
    return char, tag


def read_column(path: str | Path) -> list[Example]:
    """Character-per-line tagged text in BIO, IOB2, BIOES or BMES.

    An `I`/`M`/`E` tag that does not continue a span of its type opens one (conlleval's reading),
    so no annotated character is lost to a sloppy tag; `E` and `S` close the span they end.
    """
    examples: list[Example] = []
    chars: list[str] = []
    spans: list[tuple[int, int, str]] = []
    open_start, open_label = -1, ""

    def close(end: int) -> None:
        nonlocal open_start, open_label
        if open_label:
            spans.append((open_start, end, open_label))
        open_start, open_label = -1, ""

    lines = [line.removesuffix("\r") for line in read_text(path).split("\n")]
    for lineno, line in enumerate([*lines, ""], start=1):
        if not line.strip():
            close(len(chars))
            if chars:
                examples.append(Example("".join(chars), sorted(set(spans))))
            chars, spans = [], []
            continue
        char, tag = _split_column_line(line, f"{path}:{lineno}")
        pos = len(chars)
        chars.append(char)
        if tag == "O":
            close(pos)
            continue
        kind, label = tag[0], tag[2:]
        if kind in _BEGIN or kind in _SINGLE or label != open_label:
            close(pos)
            open_start, open_label = pos, label
        if kind in _SINGLE or kind in _END:
            close(pos + 1)
    return examples


READERS: dict[str, Callable[[str | Path], list[Example]]] = {
    "cluener": read_cluener,
    "cfsc": read_cfsc_ner,
    "bio": read_column,
    "bmes": read_column,
    "column": read_column,
    "jsonl": read_jsonl,
}


def read_corpus(path: str | Path, fmt: str) -> list[Example]:
    """All examples of a corpus file in one of `READERS`' formats."""
    if fmt not in READERS:
        raise ValueError(f"corpus format must be one of {', '.join(READERS)}, not {fmt!r}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"NER corpus {path} not found")
    return READERS[fmt](path)


def corpus_stats(examples: list[Example]) -> dict[str, Any]:
    """Counts to record next to a trained model (and to check against the corpus's README)."""
    labels: dict[str, int] = {}
    for ex in examples:
        for _, _, label in ex.spans:
            labels[label] = labels.get(label, 0) + 1
    return {"sentences": len(examples), "characters": sum(len(ex.text) for ex in examples),
            "labels": dict(sorted(labels.items()))}


@dataclass(frozen=True)
class CorpusSpec:
    """One training corpus: where it is, its format, and how its labels become the model's.

    `rename` maps a corpus label to the model's label (None drops the label's spans); labels not in it
    are kept as they are. `heldout_fraction` (None = the run's) lets a small in-domain corpus give a
    larger share to model selection than a big general one.
    """

    path: str
    format: str
    rename: Mapping[str, str | None] = field(default_factory=dict)
    heldout_fraction: float | None = None


def corpus_specs(value: Any) -> list[CorpusSpec]:
    """`ner.train.corpus` as a list: one `{path, format, rename?, heldout_fraction?}` mapping or a list
    of them (the single mapping is the original form and stays valid). Empty for None/[]."""
    if not value:
        return []
    entries = [value] if isinstance(value, Mapping) else list(value)
    specs = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not entry.get("path"):
            raise ValueError(f"ner.train.corpus entry {i} must be a mapping with a path, not {entry!r}")
        unknown = set(entry) - {"path", "format", "rename", "heldout_fraction"}
        if unknown:
            raise ValueError(f"ner.train.corpus entry {i}: unknown keys {sorted(unknown)}")
        fraction = entry.get("heldout_fraction")
        specs.append(CorpusSpec(str(entry["path"]), str(entry.get("format", "jsonl")),
                                dict(entry.get("rename") or {}), None if fraction is None else float(fraction)))
    return specs


def relabel(examples: Iterable[Example], rename: Mapping[str, str | None]) -> list[Example]:
    """Examples with their labels renamed (None = span dropped); sentences are never dropped, since a
    sentence whose spans were all dropped still shows the model text without entities."""
    if not rename:
        return list(examples)
    out = []
    for ex in examples:
        spans = [(s, e, rename.get(lab, lab)) for s, e, lab in ex.spans]
        out.append(Example(ex.text, sorted({(s, e, lab) for s, e, lab in spans if lab is not None})))
    return out


def without_texts(examples: Sequence[Example], texts: set[str]) -> tuple[list[Example], int]:
    """Examples whose text is not in `texts` (e.g. the sentences of a test set the model will be
    scored on), and how many were removed: training on a test sentence would inflate its score."""
    kept = [ex for ex in examples if ex.text not in texts]
    return kept, len(examples) - len(kept)
