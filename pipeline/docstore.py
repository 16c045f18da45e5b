"""Reading the segment stage's DocBin parts as spaCy Docs, for the stages that need Docs (ner).

The parts are written by `pipeline.docparts` (without spaCy) and read without spaCy by
`pipeline.docbin_tokens` where plain token lists are enough (sentiment).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy
from spacy.attrs import ORTH
from spacy.strings import hash_string
from spacy.symbols import IDS as SYMBOLS
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from pipeline.docbin_tokens import part_paths, read_doc_ids

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
