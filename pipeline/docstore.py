"""Segmented documents on disk: a folder of spaCy DocBin parts per source, plus their doc ids.

One DocBin per source would hold every token of the source in memory before writing; parts of a
fixed number of documents keep memory flat in the size of the source, and each part is still a
plain DocBin (`DocBin().from_disk(part)`) for anyone reading it outside the pipeline. Document ids
are kept in `doc_ids.json` (one list per part) rather than in each Doc's user_data, which DocBin
serialises with one msgpack call per document: that alone cost a fifth of the stage's time.
The folder is written beside its destination and swapped in whole, so a killed stage leaves no
half-written set.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy
from spacy.attrs import ORTH
from spacy.strings import hash_string
from spacy.symbols import IDS as SYMBOLS
from spacy.tokens import Doc, DocBin
from spacy.tokens._dict_proxies import SpanGroups
from spacy.vocab import Vocab

from pipeline.artefacts import stale_temp_paths
from pipeline.docbin_tokens import part_paths, read_doc_ids, write_symbols

ATTRS = ["ORTH", "SENT_START"]
_SYMBOLS = frozenset(SYMBOLS)


def orth_ids(words: list[str]) -> list[int]:
    """The ORTH ids spaCy's StringStore gives the words: the string's hash, except for the few
    hundred reserved strings (attribute, tag and label names such as ID, ORG, X, case, number), whose
    id is the symbol's. English words in Chinese news do hit those."""
    ids = list(map(hash_string, words))
    if not _SYMBOLS.isdisjoint(words):
        ids = [SYMBOLS[w] if w in _SYMBOLS else h for w, h in zip(words, ids, strict=True)]
    return ids


def _strings_by_id(strings: set[str]) -> dict[int, str]:
    return dict(zip(orth_ids(list(strings)), strings, strict=True))


def _words_per_doc(docbin: DocBin) -> Iterator[list[str]]:
    """Each document's words, its ORTH ids mapped back through the DocBin's own strings."""
    strings = _strings_by_id(docbin.strings)
    orth_col = docbin.attrs.index(ORTH)
    for tokens in docbin.tokens:
        yield [strings[h] for h in tokens[:, orth_col].tolist()]


def append_tokens(docbin: DocBin, words: list[str], spaces: list[bool], starts: list[bool]) -> None:
    """Add one tokenized document to a DocBin without building a Doc.

    Equivalent to `docbin.add(Doc(vocab, words, spaces, sent_starts=starts))` for a DocBin with
    ATTRS, minus the Doc: creating the Doc and its lexemes and then reading nine string attributes
    per token back out cost about a quarter of the segment stage. `tests/test_docstore.py` checks
    that the documents read back are identical, so a change in DocBin's layout fails loudly.
    """
    n = len(words)
    tokens = numpy.empty((n, 2), dtype="uint64")
    tokens[:, 0] = numpy.asarray(orth_ids(words), dtype="uint64")
    tokens[:, 1] = numpy.where(numpy.asarray(starts, dtype=bool), 1, -1).astype("int64").view("uint64")
    docbin.tokens.append(tokens)
    docbin.spaces.append(numpy.asarray(spaces, dtype=bool).reshape((n, 1)))
    docbin.flags.append({"has_unknown_spaces": False})
    docbin.strings.update(words)
    docbin.cats.append({})
    docbin.span_groups.append(SpanGroups._EMPTY_BYTES)
    if docbin.store_user_data:
        raise ValueError("append_tokens writes no user data; use a DocBin with store_user_data=False")


def iter_docs(folder: str | os.PathLike[str], vocab: Vocab) -> Iterator[Doc]:
    """Documents in the order they were written, one part in memory at a time, with
    `doc.user_data["doc_id"]` set."""
    ids = read_doc_ids(folder)
    for part, part_ids in zip(part_paths(folder), ids, strict=True):
        for doc, doc_id in zip(DocBin().from_disk(part).get_docs(vocab), part_ids, strict=True):
            doc.user_data["doc_id"] = doc_id
            yield doc


def docbin_texts(docbin: DocBin) -> list[str]:
    """The text of each document of a DocBin, joined from its arrays: the same strings as
    `[doc.text for doc in docbin.get_docs(vocab)]` without a Token object per word, which is how
    `Doc.text` joins them (0.24 s per 1,000 synthetic articles in the ner stage)."""
    texts = []
    for words, spaces in zip(_words_per_doc(docbin), docbin.spaces, strict=True):
        for i in numpy.flatnonzero(spaces.reshape(-1)).tolist():
            words[i] += " "
        texts.append("".join(words))
    return texts


def iter_docbin_chunks(folder: str | os.PathLike[str], size: int) -> Iterator[tuple[DocBin, list[str]]]:
    """The documents in DocBins of at most `size` (never across parts), with their ids: slices of
    each part's arrays, so that handing documents to worker processes builds no Doc on the way."""
    ids = read_doc_ids(folder)
    for part, part_ids in zip(part_paths(folder), ids, strict=True):
        docbin = DocBin().from_disk(part)
        words = list(_words_per_doc(docbin))
        for i in range(0, len(part_ids), size):
            chunk = DocBin(attrs=ATTRS, store_user_data=False)
            chunk.attrs = list(docbin.attrs)
            for name in ("tokens", "spaces", "flags", "cats", "span_groups"):
                setattr(chunk, name, getattr(docbin, name)[i : i + size])
            chunk.strings = {w for doc_words in words[i : i + size] for w in doc_words}
            yield chunk, part_ids[i : i + size]


class DocPartWriter:
    """Collect DocBin chunks into parts of `part_size` documents and write them atomically, with
    the doc ids and the spaCy symbols among the words (`docbin_tokens.SYMBOLS_FILE`)."""

    def __init__(self, folder: str | os.PathLike[str], part_size: int = 500) -> None:
        self.folder = Path(folder)
        self.part_size = part_size
        self.docs = 0
        self._current = DocBin(attrs=ATTRS)
        self._current_ids: list[str] = []
        self._ids: list[list[str]] = []
        self._parts = 0
        self._symbols: dict[str, int] = {}
        self._tmp: Path | None = None

    def __enter__(self) -> DocPartWriter:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_temp_paths(self.folder, suffix=""):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.folder.name}.", dir=self.folder.parent))
        return self

    def add_docs(self, docs: Iterable[Doc], doc_ids: Iterable[str]) -> None:
        for doc, doc_id in zip(docs, doc_ids, strict=True):
            self._current.add(doc)
            self._current_ids.append(doc_id)
            self.docs += 1
            if len(self._current) >= self.part_size:
                self._flush()

    def add_docbin(self, chunk: DocBin, doc_ids: list[str]) -> None:
        """Merge a worker's chunk; parts are cut at chunk boundaries once they reach part_size."""
        if len(chunk) != len(doc_ids):
            raise ValueError(f"{len(chunk)} docs but {len(doc_ids)} ids")
        self._current.merge(chunk)
        self._current_ids.extend(doc_ids)
        self.docs += len(chunk)
        if len(self._current) >= self.part_size:
            self._flush()

    def _flush(self) -> None:
        assert self._tmp is not None
        if len(self._current) == 0 and self._parts > 0:
            return
        self._current.to_disk(self._tmp / f"part-{self._parts:05d}.spacy")
        self._symbols.update((w, SYMBOLS[w]) for w in _SYMBOLS.intersection(self._current.strings))
        self._ids.append(self._current_ids)
        self._parts += 1
        self._current = DocBin(attrs=ATTRS)
        self._current_ids = []

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._tmp is not None
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            return
        if len(self._current) or self._parts == 0:
            self._flush()
        (self._tmp / "doc_ids.json").write_text(json.dumps(self._ids, ensure_ascii=False), encoding="utf-8")
        write_symbols(self._tmp, self._symbols)
        old = self.folder.with_name(f".{self.folder.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if self.folder.exists():
            self.folder.rename(old)
        self._tmp.rename(self.folder)
        if old.exists():
            shutil.rmtree(old)
