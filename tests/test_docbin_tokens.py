"""Reading DocBin parts without spaCy gives exactly what spaCy's DocBin reading gives.

If a spaCy upgrade changes the file layout, the string hash or the attribute ids, these fail (and
the sentiment stage would otherwise read wrong words).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import spacy.attrs
from spacy.strings import hash_string
from spacy.symbols import IDS
from spacy.tokens import Doc, DocBin
from spacy.vocab import Vocab

from pipeline.docbin_tokens import ORTH, SENT_START, SYMBOLS_FILE, iter_token_lists, murmurhash64a, read_part
from pipeline.docparts import DocPartWriter, PartBuilder
from pipeline.docstore import ATTRS, iter_docs

REPO = Path(__file__).resolve().parent.parent


def test_attribute_ids_are_spacys() -> None:
    assert (ORTH, SENT_START) == (spacy.attrs.ORTH, spacy.attrs.SENT_START)


def test_hash_is_spacys_string_hash() -> None:
    rng = random.Random(7)
    alphabet = "阿里巴巴腾讯京東方ABCxyz0123 .，。\n\t😀👍🏽\u200b\ue000é"
    strings = ["", " ", "a", "中", "12345678", "123456789", "😀", "\x00", "x" * 1000]
    strings += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(2000)]
    assert murmurhash64a([s.encode("utf-8") for s in strings]).tolist() == [hash_string(s) for s in strings]


def _write_part(path: Path, docs: list[tuple[list[str], list[bool], list[bool]]], ours: bool) -> None:
    """A part as the segment stage writes it, or as spaCy's Doc + DocBin.add would."""
    if ours:
        part = PartBuilder()
        for doc in docs:
            part.add(*doc)
        path.write_bytes(part.to_bytes(dict(IDS)))
        return
    docbin = DocBin(attrs=ATTRS)
    vocab = Vocab()
    for words, spaces, starts in docs:
        docbin.add(Doc(vocab, words=words, spaces=spaces, sent_starts=starts))
    docbin.to_disk(path)


DOCS = [
    (["阿里巴巴", "股价", "上涨", "。", "\n", "JD.COM", "下跌"], [False, False, False, False, False, True, False],
     [True, False, False, False, True, False, False]),
    ([], [], []),  # an empty document
    # Reserved strings (symbols) have the symbol id as ORTH, not a hash.
    (["用户", "ID", "与", "ORG", "case", "number", "X"], [False, True, False, True, True, True, False],
     [True, False, False, False, False, False, False]),
    (["腾讯", "😀"], [False, False], [True, False]),
]


@pytest.mark.parametrize("ours", [True, False], ids=["docparts", "Doc+DocBin.add"])
def test_read_part_matches_docbin(tmp_path: Path, ours: bool) -> None:
    path = tmp_path / "part-00000.spacy"
    _write_part(path, DOCS, ours)
    part = read_part(path)
    ours = [(w, s.tolist()) for w, s in zip(part.words, part.spaces, strict=True)]
    theirs = [([t.text for t in d], [bool(t.whitespace_) for t in d])
              for d in DocBin().from_disk(path).get_docs(Vocab())]
    assert ours == theirs
    assert part.words[2][1] == "ID" and "ID" in IDS


def test_a_damaged_part_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "part-00000.spacy"
    path.write_bytes(b"not zlib at all")
    with pytest.raises(ValueError, match="not a DocBin file"):
        read_part(path)


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "seg"
    with DocPartWriter(folder, dict(IDS), part_size=2) as writer:
        for i, doc in enumerate(DOCS * 2):
            chunk = PartBuilder()
            chunk.add(*doc)
            writer.add(chunk, [f"d{i}"])
    return folder


def test_folder_records_its_symbols_and_reads_back(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    recorded = json.loads((folder / SYMBOLS_FILE).read_text(encoding="utf-8"))
    assert recorded == {w: IDS[w] for words, _, _ in DOCS for w in words if w in IDS}
    assert {"ID", "ORG"} <= set(recorded)
    expected = [(d.user_data["doc_id"], [t.text for t in d], [bool(t.whitespace_) for t in d],
                 [bool(t.is_sent_start) for t in d]) for d in iter_docs(folder, Vocab())]
    assert list(iter_token_lists(folder)) == expected
    (folder / SYMBOLS_FILE).unlink()  # a folder written before the record existed: spaCy's table
    assert list(iter_token_lists(folder)) == expected


def test_reading_tokens_and_the_sentiment_stage_do_not_import_spacy(tmp_path: Path) -> None:
    """What the reader is for: the sentiment stage starts without spaCy's 0.4-1.3 s import, also
    when the words include reserved strings such as ID and ORG."""
    folder = _folder(tmp_path)
    code = ("import sys; from pipeline.docbin_tokens import iter_token_lists; import pipeline.sentiment_stage; "
            f"n = len(list(iter_token_lists({str(folder)!r}))); print(n, 'spacy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(len(DOCS) * 2), "False"]
