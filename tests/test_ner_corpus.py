"""NER training corpora: every reader, and feature docs that keep spans the segmenter splits.

The fixtures in tests/data/ner/ were written for the project. Each holds 南岭汽车 in 在南岭汽车城附近,
which pkuseg segments 在/南岭/汽车城/附近: the entity ends inside the word 汽车城.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.vocab import Vocab

from pipeline.ner_corpus import CorpusSpec, corpus_specs, corpus_stats, read_corpus, relabel, without_texts
from pipeline.ner_features import char_doc, feature_doc, split_at
from pipeline.ner_train import heldout_split, settings_from_params, span_scores, split_corpora, to_docs
from tests.conftest import REPO

DATA = REPO / "tests" / "data" / "ner"
MISALIGNED = "在南岭汽车城附近"
# The words pkuseg gives for MISALIGNED (checked against the built tokenizer in the last test).
WORDS = [(0, 1), (1, 3), (3, 6), (6, 8)]


def test_cluener_reader_makes_ends_exclusive() -> None:
    ex = read_corpus(DATA / "tiny.cluener.json", "cluener")
    assert ex[0].text[:8] == MISALIGNED
    assert ex[0].spans == [(1, 5, "company"), (9, 13, "company"), (16, 19, "name")]
    assert ex[1].spans == [(0, 5, "government")]
    assert ex[2].spans == []


def test_cfsc_reader() -> None:
    ex = read_corpus(DATA / "tiny.cfsc.json", "cfsc")
    assert ex[0].spans == [(1, 5, "Corporate"), (9, 13, "Corporate")]
    assert ex[1].spans == [(0, 4, "Market")]


@pytest.mark.parametrize("fmt", ["bio", "bmes"])
def test_column_readers_agree(fmt: str) -> None:
    ex = read_corpus(DATA / f"tiny.{fmt}", fmt)
    assert [e.text for e in ex] == ["在南岭汽车城附近，陈立新在杭州。", "星河科技涨了"]
    assert ex[0].spans == [(1, 5, "ORG"), (9, 12, "PER"), (13, 15, "LOC")]
    assert ex[1].spans == [(0, 4, "ORG")]


def test_column_reader_single_and_sloppy_tags(tmp_path: Path) -> None:
    path = tmp_path / "x.bmes"
    # S- for a one-character entity; an I- with no B- opens a span; CRLF and no final blank line.
    path.write_text("京 S-LOC\r\n在 O\r\n华 I-ORG\r\n为 I-ORG\r\n", encoding="utf-8")
    (ex,) = read_corpus(path, "bmes")
    assert ex.text == "京在华为"
    assert ex.spans == [(0, 1, "LOC"), (2, 4, "ORG")]


def test_jsonl_reader_both_span_shapes(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "星河科技", "spans": [{"start": 0, "end": 4, "label": "company"}]}\n\n'
                    '{"text": "在杭州", "spans": [[1, 3, "LOC"]]}\n{"text": "无"}\n', encoding="utf-8")
    ex = read_corpus(path, "jsonl")
    assert [e.spans for e in ex] == [[(0, 4, "company")], [(1, 3, "LOC")], []]


def test_tiny_training_corpus_is_valid() -> None:
    ex = read_corpus(DATA / "tiny_train.jsonl", "jsonl")
    stats = corpus_stats(ex)
    assert 30 <= stats["sentences"] <= 60
    assert set(stats["labels"]) == {"company", "PER", "LOC", "ORG"}


@pytest.mark.parametrize(("fmt", "bad"), [
    ("jsonl", '{"text": "abc", "spans": [[2, 5, "X"]]}\n'),
    ("bio", "a\tB-X\nb\tZ-X\n"),
])
def test_readers_refuse_broken_input(tmp_path: Path, fmt: str, bad: str) -> None:
    path = tmp_path / "bad"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValueError):
        read_corpus(path, fmt)


def test_unknown_format_and_missing_file() -> None:
    with pytest.raises(ValueError, match="format"):
        read_corpus(DATA / "tiny.bio", "conll")
    with pytest.raises(FileNotFoundError):
        read_corpus(DATA / "nope.json", "jsonl")


def test_char_doc_carries_the_word() -> None:
    doc = char_doc(Vocab(), MISALIGNED, WORDS)
    assert [t.text for t in doc] == list(MISALIGNED)
    assert [t.norm_ for t in doc][:6] == ["S|在", "B|南岭", "E|南岭", "B|汽车城", "M|汽车城", "E|汽车城"]
    assert doc[3].lemma_ == "B汽"
    assert doc.char_span(1, 5) is not None  # 南岭汽车: every character boundary is a token boundary


def test_word_doc_splits_at_gold_boundaries_only_when_asked() -> None:
    assert split_at(WORDS, [1, 5]) == [(0, 1), (1, 3), (3, 5), (5, 6), (6, 8)]
    plain = feature_doc("word", Vocab(), MISALIGNED, WORDS)
    cut = feature_doc("word", Vocab(), MISALIGNED, WORDS, cuts=[1, 5])
    assert plain.char_span(1, 5) is None
    assert cut.char_span(1, 5) is not None
    # whitespace and uncovered characters become tokens, so offsets never shift
    doc = feature_doc("word", Vocab(), "a b", [(0, 1)])
    assert [t.text for t in doc] == ["a", " ", "b"]


def test_to_docs_keeps_misaligned_spans_and_counts_overlaps() -> None:
    from pipeline.nlp import load_nlp

    seg = load_nlp(REPO / "models" / "zh_pipeline")
    assert [(t.idx, t.idx + len(t)) for t in seg.make_doc(MISALIGNED)] == WORDS
    ex = read_corpus(DATA / "tiny.cluener.json", "cluener")
    ex[2].spans = [(0, 4, "a"), (2, 6, "b")]  # overlapping: one is dropped, and counted
    char = to_docs(ex, seg.make_doc, seg.vocab, "char", split_words=False)
    first = char.docs[0].ents[0]
    assert (first.start_char, first.end_char, first.label_) == (1, 5, "company")
    assert char.unaligned == 0 and char.overlapping_dropped == 1
    word_train = to_docs(ex[:1], seg.make_doc, seg.vocab, "word", split_words=True)
    assert word_train.unaligned == 0 and len(word_train.docs[0].ents) == 3
    word_eval = to_docs(ex[:1], seg.make_doc, seg.vocab, "word", split_words=False)
    assert word_eval.unaligned == 1  # 南岭汽车 cannot be found on unsplit words, and is still scored


def test_heldout_split_is_by_text() -> None:
    ex = read_corpus(DATA / "tiny_train.jsonl", "jsonl")
    train, held = heldout_split(ex, 0.2)
    assert held and train and len(train) + len(held) == len(ex)
    assert heldout_split(list(reversed(ex)), 0.2)[1] == list(reversed(held))


def test_span_scores_company_and_org() -> None:
    gold = [{(0, 4, "company"), (5, 7, "government"), (8, 9, "name")}]
    pred = [{(0, 4, "company"), (5, 7, "company")}]
    s = span_scores(gold, pred, {"company": "company", "government": "ORG", "name": "PER"})
    assert s["company"]["precision"] == 0.5 and s["company"]["recall"] == 1.0
    assert s["ORG"]["f1"] == 1.0  # company vs government is still a correct ORG
    assert s["micro"]["correct"] == 1


# -- several corpora (CLUENER train + in-domain CFSC-NER val, docs/benchmarks.md) --------------------


def test_corpus_specs_accept_one_mapping_or_a_list() -> None:
    one = {"path": "a.json", "format": "cluener"}
    assert corpus_specs(one) == [CorpusSpec("a.json", "cluener")]
    two = corpus_specs([one, {"path": "b.json", "format": "cfsc", "rename": {"Corporate": "company", "Stock": None},
                              "heldout_fraction": 0.2}])
    assert [s.path for s in two] == ["a.json", "b.json"]
    assert two[1].rename == {"Corporate": "company", "Stock": None} and two[1].heldout_fraction == 0.2
    assert corpus_specs(None) == [] and corpus_specs([]) == []
    with pytest.raises(ValueError, match="unknown keys"):
        corpus_specs({"path": "a.json", "labels": {}})
    with pytest.raises(ValueError, match="with a path"):
        corpus_specs(["a.json"])


def test_relabel_renames_and_drops_but_keeps_sentences() -> None:
    ex = read_corpus(DATA / "tiny.cfsc.json", "cfsc")
    out = relabel(ex, {"Corporate": "company", "Market": None})
    assert out[0].spans == [(1, 5, "company"), (9, 13, "company")]
    assert out[1].text == ex[1].text and out[1].spans == []  # a sentence without entities still teaches
    assert ex[0].spans[0][2] == "Corporate"  # the input is not changed
    assert relabel(ex, {}) == ex


def test_without_texts_counts_what_it_removes() -> None:
    ex = read_corpus(DATA / "tiny.cfsc.json", "cfsc")
    kept, removed = without_texts(ex, {ex[1].text, "not in the corpus"})
    assert kept == ex[:1] and removed == 1


def test_split_corpora_splits_each_corpus_on_its_own() -> None:
    settings = settings_from_params({
        "corpus": [{"path": str(DATA / "tiny_train.jsonl"), "format": "jsonl"},
                   {"path": str(DATA / "tiny.cfsc.json"), "format": "cfsc", "rename": {"Corporate": "company"},
                    "heldout_fraction": 0.5}],
        "exclude": [{"path": str(DATA / "tiny.cluener.json"), "format": "cluener"},
                    {"path": str(DATA / "tiny.cfsc.json"), "format": "cfsc"}],
        "heldout_fraction": 0.2,
    })
    split = split_corpora(settings)
    first, second = split.parts
    assert first["sentences"] == 40 and first["excluded_sentences"] == 0
    assert second["sentences"] == 0 and second["excluded_sentences"] == 2  # excluded wins over training
    # the first corpus is split exactly as it is alone
    alone_train, alone_held = heldout_split(read_corpus(DATA / "tiny_train.jsonl", "jsonl"), 0.2)
    assert split.train == alone_train and split.heldout == alone_held
    assert split.heldout_parts == [(0, len(alone_held)), (len(alone_held), len(alone_held))]


def test_split_corpora_renames_labels_per_corpus() -> None:
    settings = settings_from_params({
        "corpus": [{"path": str(DATA / "tiny.cluener.json"), "format": "cluener"},
                   {"path": str(DATA / "tiny.cfsc.json"), "format": "cfsc",
                    "rename": {"Corporate": "company", "Market": None}}],
    })
    split = split_corpora(settings)
    labels = {lab for ex in split.examples for _, _, lab in ex.spans}
    assert "Corporate" not in labels and "Market" not in labels and "company" in labels
    assert split.parts[1]["labels"] == {"company": 2}
    assert len(split.train) + len(split.heldout) == len(split.examples) == 5


def test_single_corpus_params_still_work() -> None:
    settings = settings_from_params({"corpus": {"path": "x.json", "format": "cluener"}})
    assert settings.corpora == [CorpusSpec("x.json", "cluener")] and settings.exclude == []
    with pytest.raises(ValueError, match="names no corpus"):
        settings_from_params({})


def test_per_corpus_heldout_fraction_is_checked() -> None:
    with pytest.raises(ValueError, match="heldout_fraction"):
        settings_from_params({"corpus": [{"path": "x.json", "format": "cfsc", "heldout_fraction": 1.5}]})
