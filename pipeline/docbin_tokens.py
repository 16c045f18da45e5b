"""The segment stage's DocBin parts read as plain token lists, without importing spaCy.

Why: the sentiment stage needs only each document's words, trailing spaces and sentence starts, and
importing spaCy to get them through `DocBin` was three quarters of that stage's imports (1.27 of
1.70 s measured with `python -X importtime` on a 2-vCPU host). A part file (`DocBin.to_disk`) is
zlib-compressed msgpack: the attribute ids, one flat uint64 token array (a row per token, a column
per attribute), the flat trailing-space flags, the documents' lengths and the sorted list of the
part's strings. A token's ORTH value is the 64-bit MurmurHash (MurmurHash64A, seed 1) of the
string's UTF-8 bytes, except for spaCy's few hundred reserved symbol strings (ID, ORG, X, case …),
whose value is the symbol's id. English words in Chinese news hit those in about half the parts of
the short-news benchmark, so the writer (`docparts.DocPartWriter`) records the ones among its words
in `symbols.json` beside `doc_ids.json`; only a folder without that file (written by older code)
makes this reader import spaCy for its symbol table.

tests/test_docbin_tokens.py checks hashes, symbols and whole parts against spaCy's own reading, so a
format change in a spaCy upgrade fails there rather than in a stage's output.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgpack
import numpy as np

# spacy.attrs.ORTH and SENT_START (fixed ids in spaCy's attribute table; the test compares them).
ORTH = 65
SENT_START = 80

_M = np.uint64(0xC6A4A7935BD1E995)
_R = np.uint64(47)


def murmurhash64a(keys: Sequence[bytes], seed: int = 1) -> np.ndarray:
    """MurmurHash64A of each key (what spaCy's StringStore uses, with seed 1), vectorised: keys of
    the same number of 8-byte words are hashed together, one numpy pass per word position, so a part
    of tens of thousands of strings costs milliseconds rather than a Python loop per byte."""
    n = len(keys)
    out = np.empty(n, dtype=np.uint64)
    if not n:
        return out
    lengths = np.fromiter(map(len, keys), dtype=np.int64, count=n)
    n_words = (lengths + 7) // 8
    with np.errstate(over="ignore"):
        for w in np.unique(n_words).tolist():
            idx = np.flatnonzero(n_words == w)
            size = lengths[idx].astype(np.uint64)
            h = np.uint64(seed) ^ (size * _M)
            if w:
                blocks = np.frombuffer(b"".join(keys[i].ljust(8 * w, b"\0") for i in idx.tolist()),
                                       dtype="<u8").reshape(len(idx), w)
                full_words = size // np.uint64(8)
                for j in range(w):
                    k = blocks[:, j]
                    mixed = k * _M
                    mixed ^= mixed >> _R
                    mixed *= _M
                    # A full word is mixed in; the last, partial word (its bytes little-endian, the
                    # padding zero) is xor-ed in as it is. Both are then multiplied by m.
                    h = np.where(full_words > np.uint64(j), h ^ mixed, h ^ k) * _M
            h ^= h >> _R
            h *= _M
            h ^= h >> _R
            out[idx] = h
    return out


SYMBOLS_FILE = "symbols.json"


def write_symbols(folder: Path, symbols: dict[str, int]) -> None:
    (folder / SYMBOLS_FILE).write_text(json.dumps(dict(sorted(symbols.items())), ensure_ascii=False), encoding="utf-8")


def read_symbols(folder: str | os.PathLike[str]) -> dict[str, int] | None:
    """The folder's recorded symbols, or None when it has no record."""
    path = Path(folder) / SYMBOLS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _spacy_symbols() -> dict[str, int]:
    from spacy.symbols import IDS  # only for parts written without a symbols record

    return dict(IDS)


@dataclass(frozen=True)
class Part:
    """One DocBin part: per document its token rows (a column per attribute in `attrs`), its
    trailing-space flags and its words."""

    attrs: list[int]
    tokens: list[np.ndarray]
    spaces: list[np.ndarray]
    words: list[list[str]]


def read_part(path: str | os.PathLike[str], symbols: dict[str, int] | None = None) -> Part:
    """A part file's arrays and words, as `DocBin().from_disk(path)` would give them. `symbols` maps
    the reserved strings among the part's words to their ids (None: ask spaCy if there are any)."""
    try:
        msg = msgpack.unpackb(zlib.decompress(Path(path).read_bytes()), raw=False, strict_map_key=False)
        attrs = [int(a) for a in msg["attrs"]]
        lengths = np.frombuffer(msg["lengths"], dtype="int32")
        flat_tokens = np.frombuffer(msg["tokens"], dtype="uint64").reshape(-1, len(attrs))
        flat_spaces = np.frombuffer(msg["spaces"], dtype=bool)
        strings: list[str] = list(msg["strings"])
    except (zlib.error, msgpack.UnpackException, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a DocBin file written by the segment stage ({exc})") from exc
    if ORTH not in attrs or int(lengths.sum()) != len(flat_tokens) or len(flat_spaces) != len(flat_tokens):
        raise ValueError(f"{path}: DocBin arrays do not fit together (attrs {attrs}, {len(flat_tokens)} token "
                         f"rows, {len(flat_spaces)} spaces, {int(lengths.sum())} by the lengths)")
    by_id = dict(zip(murmurhash64a([s.encode("utf-8") for s in strings]).tolist(), strings, strict=True))
    orth = flat_tokens[:, attrs.index(ORTH)].tolist()
    try:
        flat_words = [by_id[h] for h in orth]
    except KeyError:
        table = _spacy_symbols() if symbols is None else symbols
        by_id.update({table[s]: s for s in strings if s in table})
        try:
            flat_words = [by_id[h] for h in orth]
        except KeyError as exc:
            raise ValueError(f"{path}: token id {exc.args[0]} is none of the part's strings") from exc
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return Part(attrs, [flat_tokens[s:e] for s, e in zip(starts, ends, strict=True)],
                [flat_spaces[s:e] for s, e in zip(starts, ends, strict=True)],
                [flat_words[s:e] for s, e in zip(starts, ends, strict=True)])


def part_paths(folder: str | os.PathLike[str]) -> list[Path]:
    return sorted(Path(folder).glob("part-*.spacy"))


def read_doc_ids(folder: str | os.PathLike[str]) -> list[list[str]]:
    return json.loads((Path(folder) / "doc_ids.json").read_text(encoding="utf-8"))


def count_docs(folder: str | os.PathLike[str]) -> int:
    return sum(len(part_ids) for part_ids in read_doc_ids(folder))


def iter_token_lists(folder: str | os.PathLike[str]) -> Iterator[tuple[str, list[str], list[bool], list[bool]]]:
    """(doc_id, words, trailing-space flags, sentence starts) per document, in the order written.

    For a reader that needs only the tokens (the sentiment stage): building a Doc and then a Python
    Token object per word to read them back cost that stage a third of its time, and importing spaCy
    most of its start-up. tests/test_docstore.py checks the result against `docstore.iter_docs`.
    """
    ids = read_doc_ids(folder)
    symbols = read_symbols(folder)
    paths = part_paths(folder)
    if len(paths) != len(ids):
        raise ValueError(f"{folder}: {len(paths)} part files but doc ids for {len(ids)}")
    for path, part_ids in zip(paths, ids, strict=True):
        part = read_part(path, symbols)
        if len(part.words) != len(part_ids):
            raise ValueError(f"{path}: {len(part.words)} documents but {len(part_ids)} ids in doc_ids.json")
        start_col = part.attrs.index(SENT_START) if SENT_START in part.attrs else None
        for words, tokens, spaces, doc_id in zip(part.words, part.tokens, part.spaces, part_ids, strict=True):
            if start_col is None:
                starts = [i == 0 for i in range(len(words))]
            else:
                starts = (tokens[:, start_col].view("int64") == 1).tolist()
                if starts:
                    starts[0] = True  # the first token always starts a sentence, as Token.is_sent_start says
            yield doc_id, words, spaces.tolist(), starts
