"""The ner stage's readers of the DocBin parts (Docs, re-chunked DocBins, texts joined from the
arrays) and the sentiment stage's token lists hand over exactly the same documents."""

from __future__ import annotations

from pathlib import Path

from spacy.symbols import IDS
from spacy.tokens import DocBin
from spacy.vocab import Vocab

from pipeline.docbin_tokens import iter_token_lists
from pipeline.docparts import DocPartWriter, PartBuilder
from pipeline.docstore import ATTRS, docbin_texts, iter_docbin_chunks, iter_docs

SAMPLES = [
    (["阿里巴巴", "股价", "上涨", "。", "\n", "JD.COM", "下跌"], [False, False, False, False, False, True, False],
     [True, False, False, False, True, False, False]),
    (["Tik", "Tok", "与", "淘宝", "？"], [True, True, False, False, False], [True, False, False, False, False]),
    # Words that are also spaCy symbols (attribute, tag, label names) have the symbol's id as ORTH, not
    # a string hash: a news item with "ID" among its words once broke the ner stage's DocBin read.
    (["用户", "ID", "与", "ORG", "case", "number", "X"], [False, True, False, True, True, True, False],
     [True, False, False, False, False, False, False]),
]


def _write(folder: Path, copies: int, part_size: int) -> None:
    with DocPartWriter(folder, dict(IDS), part_size=part_size) as writer:
        for i in range(copies):
            for j, (words, spaces, starts) in enumerate(SAMPLES):
                chunk = PartBuilder()
                chunk.add(words, spaces, starts)
                writer.add(chunk, [f"s:{i}-{j}"])


def test_fast_readers_agree_with_docs(tmp_path: Path) -> None:
    """The sentiment stage reads token lists and the ner stage re-chunks parts without building Docs;
    both must hand over exactly what iter_docs would."""
    _write(tmp_path / "seg", copies=5, part_size=4)
    docs = list(iter_docs(tmp_path / "seg", Vocab()))
    assert [(d.user_data["doc_id"], [t.text for t in d], [bool(t.whitespace_) for t in d],
             [bool(t.is_sent_start) for t in d]) for d in docs] == list(iter_token_lists(tmp_path / "seg"))
    chunks = list(iter_docbin_chunks(tmp_path / "seg", size=3))
    assert [len(ids) for _, ids in chunks] == [3, 1, 3, 1, 3, 1, 3]  # parts of 4, 4, 4 and 3 documents
    again = [(doc_id, d.text_with_ws, [t.is_sent_start for t in d]) for chunk, ids in chunks
             for doc_id, d in zip(ids, DocBin().from_bytes(chunk.to_bytes()).get_docs(Vocab()), strict=True)]
    assert again == [(d.user_data["doc_id"], d.text_with_ws, [t.is_sent_start for t in d]) for d in docs]
    # The ner stage takes each document's text from the chunk's arrays instead of Doc.text.
    assert [t for chunk, _ in chunks for t in docbin_texts(chunk)] == [d.text for d in docs]
    assert docbin_texts(DocBin(attrs=ATTRS)) == []
