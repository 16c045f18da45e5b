"""Writing the segment stage's output, a folder of spaCy DocBin parts, without importing spaCy.

Why: the segment stage produces only words, trailing spaces and sentence starts, and importing spaCy
to put them into `DocBin`s was part of each segment process's fixed cost (with pipeline.segmenter:
the stage on 7 articles 4.44 → 3.78 s, medians of 12 runs on a 2-vCPU host; paid once per source).
The parts are the bytes `DocBin.to_bytes` gives
for such documents (zlib-compressed msgpack, layout in `pipeline.docbin_tokens`), so anyone can
still read a part with `DocBin().from_disk(part)`; tests/test_docparts.py checks the bytes against
spaCy's own DocBin.

One DocBin per source would hold every token of the source in memory before writing; parts of a
fixed number of documents keep memory flat in the size of the source. Document ids are kept in
`doc_ids.json` (one list per part) rather than in each Doc's user_data, which DocBin serialises with
one msgpack call per document. The folder is written beside its destination and swapped in whole,
so a killed stage leaves no half-written set.

A word's ORTH id is the 64-bit MurmurHash spaCy's StringStore gives it, except for spaCy's reserved
symbol strings (ID, ORG, X, case …), whose id is the symbol's: the table of those is written by
build_models into the built pipeline (`spacy_symbols.json`), from the spaCy that built it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import msgpack
import numpy as np

from pipeline.artefacts import stale_temp_paths
from pipeline.docbin_tokens import ORTH, SENT_START, murmurhash64a, write_symbols

SYMBOL_TABLE_FILE = "spacy_symbols.json"  # in models/zh_pipeline
DOCBIN_VERSION = "0.1"  # DocBin.version of the spaCy the parts are read with (checked by the tests)
# SpanGroups' serialisation of "no span groups" (srsly.msgpack_dumps([])), once per document.
_NO_SPAN_GROUPS = msgpack.packb([], use_bin_type=True)


def write_symbol_table(model_dir: Path) -> None:
    """spaCy's reserved strings and their ids (build time, from the spaCy that built the pipeline)."""
    from spacy.symbols import IDS

    (model_dir / SYMBOL_TABLE_FILE).write_text(json.dumps(dict(sorted(IDS.items())), ensure_ascii=False,
                                                          indent=0) + "\n", encoding="utf-8")


def read_symbol_table(model_dir: str | os.PathLike[str]) -> dict[str, int]:
    path = Path(model_dir) / SYMBOL_TABLE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; rebuild the models with `dvc repro build_models`")
    return json.loads(path.read_text(encoding="utf-8"))


def orth_ids(strings: list[str], symbols: Mapping[str, int]) -> np.ndarray:
    """The ORTH id spaCy's StringStore gives each string."""
    ids = murmurhash64a([s.encode("utf-8") for s in strings])
    reserved = symbols.keys() & set(strings)
    if reserved:
        for i, s in enumerate(strings):
            if s in reserved:
                ids[i] = symbols[s]
    return ids


class PartBuilder:
    """Tokenized documents on their way into a DocBin part, as plain lists: cheap to append to, to
    send back from a worker process and to join, with the hashing done once per part."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.spaces: list[bool] = []
        self.starts: list[bool] = []
        self.lengths: list[int] = []

    def __len__(self) -> int:
        return len(self.lengths)

    def add(self, words: list[str], spaces: list[bool], starts: list[bool]) -> None:
        if not len(words) == len(spaces) == len(starts):
            raise ValueError(f"{len(words)} words, {len(spaces)} space flags, {len(starts)} sentence starts")
        self.words.extend(words)
        self.spaces.extend(spaces)
        self.starts.extend(starts)
        self.lengths.append(len(words))

    def extend(self, other: PartBuilder) -> None:
        self.words.extend(other.words)
        self.spaces.extend(other.spaces)
        self.starts.extend(other.starts)
        self.lengths.extend(other.lengths)

    def to_bytes(self, symbols: Mapping[str, int]) -> bytes:
        """What `DocBin(attrs=["ORTH", "SENT_START"])` holding these documents writes."""
        strings = sorted(set(self.words))
        index = {s: i for i, s in enumerate(strings)}
        n = len(self.words)
        tokens = np.empty((n, 2), dtype=np.uint64)
        if n:
            tokens[:, 0] = orth_ids(strings, symbols)[np.fromiter(map(index.__getitem__, self.words), np.int64, n)]
            tokens[:, 1] = np.where(np.asarray(self.starts, dtype=bool), 1, -1).astype(np.int64).view(np.uint64)
        docs = len(self.lengths)
        msg = {
            "version": DOCBIN_VERSION,
            "attrs": [ORTH, SENT_START],
            "tokens": tokens.tobytes("C"),
            "spaces": np.asarray(self.spaces, dtype=bool).tobytes("C"),
            "lengths": np.asarray(self.lengths, dtype=np.int32).tobytes("C"),
            "strings": strings,
            "cats": [{} for _ in range(docs)],
            "flags": [{"has_unknown_spaces": False} for _ in range(docs)],
            "span_groups": [_NO_SPAN_GROUPS] * docs,
        }
        return zlib.compress(msgpack.packb(msg, use_bin_type=True))


class DocPartWriter:
    """Collect chunks of documents into parts of `part_size` documents and write them atomically,
    with the doc ids and the spaCy symbols among the words (`docbin_tokens.SYMBOLS_FILE`)."""

    def __init__(self, folder: str | os.PathLike[str], symbols: Mapping[str, int], part_size: int = 500) -> None:
        self.folder = Path(folder)
        self.symbols = symbols
        self.part_size = part_size
        self.docs = 0
        self._current = PartBuilder()
        self._current_ids: list[str] = []
        self._ids: list[list[str]] = []
        self._parts = 0
        self._seen_symbols: dict[str, int] = {}
        self._tmp: Path | None = None

    def __enter__(self) -> DocPartWriter:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        for stale in stale_temp_paths(self.folder, suffix=""):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f".{self.folder.name}.", dir=self.folder.parent))
        return self

    def add(self, chunk: PartBuilder, doc_ids: list[str]) -> None:
        """Append a chunk; parts are cut at chunk boundaries once they reach part_size."""
        if len(chunk) != len(doc_ids):
            raise ValueError(f"{len(chunk)} docs but {len(doc_ids)} ids")
        self._current.extend(chunk)
        self._current_ids.extend(doc_ids)
        self.docs += len(chunk)
        if len(self._current) >= self.part_size:
            self._flush()

    def _flush(self) -> None:
        assert self._tmp is not None
        if len(self._current) == 0 and self._parts > 0:
            return
        (self._tmp / f"part-{self._parts:05d}.spacy").write_bytes(self._current.to_bytes(self.symbols))
        self._seen_symbols.update((w, self.symbols[w]) for w in self.symbols.keys() & set(self._current.words))
        self._ids.append(self._current_ids)
        self._parts += 1
        self._current = PartBuilder()
        self._current_ids = []

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._tmp is not None
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            return
        if len(self._current) or self._parts == 0:
            self._flush()
        (self._tmp / "doc_ids.json").write_text(json.dumps(self._ids, ensure_ascii=False), encoding="utf-8")
        write_symbols(self._tmp, self._seen_symbols)
        old = self.folder.with_name(f".{self.folder.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if self.folder.exists():
            self.folder.rename(old)
        self._tmp.rename(self.folder)
        if old.exists():
            shutil.rmtree(old)
