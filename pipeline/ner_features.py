"""The token docs a trained NER model reads: characters carrying their pkuseg word, or words.

Two tokenisations were measured (docs/benchmarks.md, "Trainable NER"); `word` scored clearly higher
on the held-out slice for the same training budget, so it is the default:

- `char`: one token per character, so every entity boundary is a token boundary and
  no gold span is ever lost or moved. Word information is not thrown away: each character's NORM is
  its position in the pkuseg word plus that word (`B|阿里巴巴`, `M|阿里巴巴`, …, `S|的`) and its
  LEMMA is the position plus the character (`B阿`), two per-token attributes that spaCy's
  MultiHashEmbed embeds next to ORTH. The segmenter's user dictionary holds the KB's company names,
  so a known company is one word and its characters say so.
- `word` (the default): one token per pkuseg word. A gold entity that starts or ends inside a word
  cannot be a token span, so at training time words are split at gold boundaries (the span is kept,
  never dropped, and the model sees such pieces as words); at inference time there are no gold
  boundaries, and an entity inside a word cannot be found (evaluation counts these as misses and
  reports how many there are: `unaligned_gold_spans`). The segmenter's user dictionary holds the KB's
  company names, so known companies are whole words. A window of six words also sees more context
  than six characters, which is the likely reason `word` learns faster.

Both builders take the text and the word offsets, not a segmenter, so the same function serves the
converter (words from the built tokenizer) and the pipeline's `trained_ner` component (words from
the segment stage's docs), and the features are identical in both places.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import pairwise

from spacy.tokens import Doc
from spacy.vocab import Vocab

TOKEN_MODES = ("char", "word")
# MultiHashEmbed attributes (and table sizes) of each mode; training sets them in the config.
EMBED_ATTRS = {
    "char": (["ORTH", "NORM", "LEMMA", "SHAPE"], [8000, 30000, 10000, 500]),
    "word": (["NORM", "PREFIX", "SUFFIX", "SHAPE"], [30000, 8000, 20000, 500]),
}


def word_offsets(doc: Doc) -> list[tuple[int, int]]:
    """`(start, end)` character offsets of a segmented doc's words, whitespace excluded."""
    return [(t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]


def _cover(text: str, words: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Words sorted, overlaps refused, and every uncovered character its own one-character word."""
    out: list[tuple[int, int]] = []
    pos = 0
    for start, end in sorted(words):
        if start < pos or end > len(text) or start >= end:
            raise ValueError(f"word offsets {start}:{end} overlap or fall outside a text of {len(text)}")
        out.extend((i, i + 1) for i in range(pos, start))
        out.append((start, end))
        pos = end
    out.extend((i, i + 1) for i in range(pos, len(text)))
    return out


def char_doc(vocab: Vocab, text: str, words: Iterable[tuple[int, int]]) -> Doc:
    """One token per character; NORM = word position + word, LEMMA = word position + character."""
    chars = list(text)
    doc = Doc(vocab, words=chars, spaces=[False] * len(chars))
    for start, end in _cover(text, words):
        word = text[start:end]
        for i in range(start, end):
            pos = "S" if end - start == 1 else "B" if i == start else "E" if i == end - 1 else "M"
            token = doc[i]
            token.norm_ = f"{pos}|{word}"
            token.lemma_ = f"{pos}{chars[i]}"
    return doc


def split_at(words: Iterable[tuple[int, int]], cuts: Iterable[int]) -> list[tuple[int, int]]:
    """Words cut at every offset in `cuts` that falls strictly inside one (gold entity boundaries)."""
    cut_set = sorted(set(cuts))
    out = []
    for start, end in words:
        inner = [c for c in cut_set if start < c < end]
        bounds = [start, *inner, end]
        out.extend(pairwise(bounds))
    return out


def word_doc(vocab: Vocab, text: str, words: Iterable[tuple[int, int]]) -> Doc:
    """One token per word (uncovered characters, including whitespace, are one-character tokens)."""
    pieces = [text[s:e] for s, e in _cover(text, words)]
    return Doc(vocab, words=pieces, spaces=[False] * len(pieces))


def feature_doc(mode: str, vocab: Vocab, text: str, words: Sequence[tuple[int, int]],
                cuts: Iterable[int] = ()) -> Doc:
    """The token doc for `mode`; `cuts` (gold boundaries, training only) split words in `word` mode."""
    if mode == "char":
        return char_doc(vocab, text, words)
    if mode == "word":
        return word_doc(vocab, text, split_at(_cover(text, words), cuts))
    raise ValueError(f"token mode must be one of {TOKEN_MODES}, not {mode!r}")
