"""The segment stage writes its DocBin parts without spaCy; spaCy must read them as its own.

The reference below puts the same arrays into spaCy's own DocBin, with spaCy's own string hash and
symbol table: if a spaCy upgrade changes the layout, the hash, the version or the symbols, the bytes
differ here before any stage writes a part the ner stage would misread.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy
from spacy.strings import hash_string
from spacy.symbols import IDS
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from pipeline.docbin_tokens import SYMBOLS_FILE, read_doc_ids
from pipeline.docparts import DOCBIN_VERSION, DocPartWriter, PartBuilder, read_symbol_table
from pipeline.docstore import ATTRS, iter_docs
from tests.test_docbin_tokens import DOCS  # an empty document, spaCy symbols (ID, ORG), emoji

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "zh_pipeline"

def _spacy_docbin(docs: list[tuple[list[str], list[bool], list[bool]]]) -> DocBin:
    """The same documents in spaCy's DocBin: its arrays filled with spaCy's ids for the words."""
    docbin = DocBin(attrs=ATTRS)
    for words, spaces, starts in docs:
        tokens = numpy.empty((len(words), 2), dtype="uint64")
        tokens[:, 0] = [IDS[w] if w in IDS else hash_string(w) for w in words]
        tokens[:, 1] = numpy.where(numpy.asarray(starts, dtype=bool), 1, -1).astype("int64").view("uint64")
        docbin.tokens.append(tokens)
        docbin.spaces.append(numpy.asarray(spaces, dtype=bool).reshape((len(words), 1)))
        docbin.flags.append({"has_unknown_spaces": False})
        docbin.strings.update(words)
        docbin.cats.append({})
        docbin.span_groups.append(Doc(Vocab()).spans.to_bytes())
    return docbin


def _builder(docs: list[tuple[list[str], list[bool], list[bool]]]) -> PartBuilder:
    part = PartBuilder()
    for doc in docs:
        part.add(*doc)
    return part


def test_part_bytes_are_spacys_docbin_bytes() -> None:
    symbols = dict(IDS)
    assert DocBin().version == DOCBIN_VERSION
    for docs in (DOCS, DOCS[:1], DOCS[1:2], [], DOCS * 3):
        assert _builder(docs).to_bytes(symbols) == _spacy_docbin(docs).to_bytes()


def test_parts_read_back_as_the_docs_spacy_would_build() -> None:
    vocab = Vocab()
    ours = list(DocBin().from_bytes(_builder(DOCS).to_bytes(dict(IDS))).get_docs(Vocab()))
    built = [Doc(vocab, words=w, spaces=s, sent_starts=st) for w, s, st in DOCS]
    for x, y in zip(ours, built, strict=True):
        assert x.text_with_ws == y.text_with_ws
        assert [t.text for t in x] == [t.text for t in y]
        assert [t.is_sent_start for t in x] == [t.is_sent_start for t in y]
        assert [s.text for s in x.sents] == [s.text for s in y.sents]


def test_built_pipeline_stores_spacys_symbol_table() -> None:
    assert read_symbol_table(MODEL) == dict(IDS)


def test_writer_cuts_parts_at_chunk_boundaries_and_records_ids_and_symbols(tmp_path: Path) -> None:
    folder = tmp_path / "seg"
    with DocPartWriter(folder, dict(IDS), part_size=3) as writer:
        for i in range(3):
            writer.add(_builder(DOCS[:2]), [f"a{i}", f"b{i}"])
    assert read_doc_ids(folder) == [["a0", "b0", "a1", "b1"], ["a2", "b2"]]
    assert sorted(p.name for p in folder.iterdir()) == ["doc_ids.json", "part-00000.spacy", "part-00001.spacy",
                                                        SYMBOLS_FILE]
    docs = list(iter_docs(folder, Vocab()))
    assert [d.user_data["doc_id"] for d in docs] == ["a0", "b0", "a1", "b1", "a2", "b2"]
    assert docs[0].text == "阿里巴巴股价上涨。\nJD.COM 下跌" and docs[1].text == ""
    with DocPartWriter(folder, dict(IDS), part_size=1) as writer:  # replaces the folder whole
        writer.add(_builder(DOCS[2:3]), ["s"])
    assert [d.text for d in iter_docs(folder, Vocab())] == ["用户ID 与ORG case number X"]
    recorded = json.loads((folder / SYMBOLS_FILE).read_text(encoding="utf-8"))
    assert recorded == {w: IDS[w] for w in DOCS[2][0] if w in IDS} and {"ID", "ORG"} <= set(recorded)


def test_the_segment_stage_does_not_import_spacy(tmp_path: Path) -> None:
    """What the writer is for: every segment process starts without importing spaCy."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = ["阿里巴巴与腾讯宣布互通。用户ID 同步。", "", "   ", "Apple 和华为的 5G 手机。"]
    pq.write_table(pa.table({"doc_id": [f"d{i}" for i in range(len(texts))], "text": texts}), tmp_path / "n.parquet")
    code = ("import sys; from pipeline.segment import segment_source; "
            f"segment_source('s', {str(tmp_path / 'n.parquet')!r}, {str(tmp_path / 'seg')!r}, "
            f"{str(tmp_path / 'rej.jsonl')!r}, {str(tmp_path / 'm.json')!r}, {str(MODEL)!r}); "
            "print('spacy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == "False"
    docs = list(iter_docs(tmp_path / "seg", Vocab()))
    assert [d.text for d in docs] == texts
    assert [t.text for t in docs[0]][:4] == ["阿里巴巴", "与", "腾讯", "宣布"]
