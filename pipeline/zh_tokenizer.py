"""The built pipeline's spaCy tokenizer: a `pipeline.segmenter.Segmenter` behind spaCy's tokenizer
interface, so that `spacy.load("models/zh_pipeline")` gives Docs cut exactly as the segment stage
cuts them (that stage uses the Segmenter directly, without importing spaCy).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from spacy.tokens import Doc
from spacy.util import DummyTokenizer, registry
from spacy.vocab import Vocab

from pipeline.segmenter import Segmenter


class NewsTokenizer(DummyTokenizer):
    def __init__(self, vocab: Vocab, segmenter: str = "pkuseg", max_sentence_chars: int = 200) -> None:
        self.vocab = vocab
        # Configured by `setup` (build time) or read by `from_disk`; the model loads on first use.
        self.core = Segmenter.unconfigured(segmenter, max_sentence_chars)

    # -- set-up (build time) -------------------------------------------------------------
    def setup(self, user_words: Iterable[str], pkuseg_dir: Path | None = None,
              pkuseg_default_words: Iterable[str] = (), remember: Iterable[str] = ()) -> None:
        """Texts in `remember` (the KB's names) are cut now and stored, so that the ner stage builds
        its name patterns without loading the 170 MB segmenter it otherwise never uses."""
        self.core = Segmenter.build(self.core.name, self.core.max_sentence_chars, user_words, pkuseg_dir,
                                    pkuseg_default_words)
        self.core.load()
        self.core.remember(remember)

    def ensure_loaded(self) -> None:
        """Load the segmenter now (before forking workers, so that they share its memory)."""
        self.core.load()

    # -- use -------------------------------------------------------------------------------
    def cut(self, text: str) -> list[str]:
        return self.core.cut(text)

    def tokenize(self, text: str) -> tuple[list[str], list[bool], list[bool]]:
        """Words, trailing-space flags and sentence starts: everything a Doc is built from."""
        return self.core.tokenize(text)

    def __call__(self, text: str) -> Doc:
        words, spaces, starts = self.core.tokenize(text)
        return Doc(self.vocab, words=words, spaces=spaces, sent_starts=starts)

    # -- serialisation ---------------------------------------------------------------------
    def to_disk(self, path: str | Path, **kwargs: Any) -> None:
        self.core.write(path)

    def from_disk(self, path: str | Path, **kwargs: Any) -> NewsTokenizer:
        self.core = Segmenter.read(path, self.core.max_sentence_chars)
        return self


@registry.tokenizers("newslens.zh_tokenizer.v1")
def create_tokenizer(segmenter: str = "pkuseg", max_sentence_chars: int = 200) -> Callable[[Any], NewsTokenizer]:
    def factory(nlp: Any) -> NewsTokenizer:
        return NewsTokenizer(nlp.vocab, segmenter, max_sentence_chars)

    return factory
