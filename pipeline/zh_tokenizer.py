"""A spaCy tokenizer for Chinese news: pkuseg (default) or jieba, with a company dictionary.

Why not spaCy's own ChineseTokenizer: loading it constructs `spacy_pkuseg.pkuseg`, which unpickles
the package's bundled dictionary (dicts/default.pkl) every time. Here the same model, the same
default dictionary (converted to msgpack at build time) and the same post-processing run, built
from msgpack and a pickle-free .npz only, so nothing pickled is loaded at run time.

Company names are kept whole by pkuseg's post-processor, which joins *consecutive model tokens*
whose concatenation is a dictionary word, rather than by its pre-processor, which forces dictionary
words wherever their characters occur. Forcing would turn 其中通过 into 其/中通/过 and 京东方面
("JD's side") into 京东方 (BOE); joining whole tokens cannot cross a boundary the model is sure of.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import srsly
from spacy.tokens import Doc
from spacy.util import DummyTokenizer, registry
from spacy.vocab import Vocab

from pipeline.alias_repair import AliasRepair
from pipeline.sentences import sentence_starts

SEGMENTERS = ("pkuseg", "jieba")
# The converted pkuseg model (pipeline.build_models.convert_pkuseg): plain text, JSON and a
# pickle-free .npz.
PKUSEG_TABLES = {"features": "features.txt", "unigram": "unigram.txt", "tags": "tags.json", "weights": "weights.npz"}
PKUSEG_FILES = tuple(PKUSEG_TABLES.values())


def write_lines(path: Path, items: Iterable[str]) -> None:
    """One string per line; a string holding a line break cannot be stored so, and is refused."""
    items = list(items)
    if any("\n" in s for s in items):
        raise ValueError(f"{path.name}: an entry holds a line break")
    path.write_text("\n".join(items), encoding="utf-8")


def read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


def load_pkuseg(model_dir: Path, common_words: Iterable[str], other_words: Iterable[str]) -> Any:
    """Construct a spacy_pkuseg segmenter from the converted tables, bypassing its pickle loading."""
    import numpy as np
    import spacy_pkuseg
    from spacy_pkuseg.feature_extractor import FeatureExtractor
    from spacy_pkuseg.model import Model

    for name in PKUSEG_FILES:
        if not (model_dir / name).is_file():
            raise FileNotFoundError(f"pkuseg model file {model_dir / name} is missing; run `dvc repro build_models`")
    if any(model_dir.glob("*.pkl")):
        raise RuntimeError(f"{model_dir} holds a .pkl file; refusing to load a model that could unpickle")
    with np.load(model_dir / PKUSEG_TABLES["weights"], allow_pickle=False):
        pass  # fail here, clearly, if the weights needed pickle
    seg = spacy_pkuseg.pkuseg.__new__(spacy_pkuseg.pkuseg)
    seg.postag = False
    seg.preprocesser = spacy_pkuseg.Preprocesser(None)
    seg.postprocesser = spacy_pkuseg.Postprocesser(None, None)
    seg.postprocesser.do_process = True
    seg.postprocesser.common_words = set(common_words)
    seg.postprocesser.other_words = set(other_words)
    features = FeatureExtractor.__new__(FeatureExtractor)  # what FeatureExtractor.load sets, minus msgpack
    names = read_lines(model_dir / PKUSEG_TABLES["features"])
    features.feature_to_idx = dict(zip(names, range(len(names)), strict=True))
    features.unigram = set(read_lines(model_dir / PKUSEG_TABLES["unigram"]))
    features.bigram = set()  # read only when extracting training features (see convert_pkuseg)
    features.tag_to_idx = json.loads((model_dir / PKUSEG_TABLES["tags"]).read_text(encoding="utf-8"))
    seg.feature_extractor = features
    seg.model = Model.load(str(model_dir))
    seg.idx_to_tag = {idx: tag for tag, idx in features.tag_to_idx.items()}
    seg.n_feature = len(features.feature_to_idx)
    seg.n_tag = len(features.tag_to_idx)
    if seg.model.n_feature != seg.n_feature:
        raise ValueError(f"{model_dir}: {seg.n_feature} feature names for {seg.model.n_feature} weight rows")
    return seg


def words_and_spaces(words: list[str], text: str) -> tuple[list[str], list[bool]]:
    """Align segmenter words to the text: a single space after a word becomes its trailing
    whitespace, any other whitespace becomes a token of its own (spaCy's convention).

    Same result as spacy.util.get_words_and_spaces, which slices the text once per word and so takes
    quadratic time on a long article.
    """
    out: list[str] = []
    spaces: list[bool] = []
    pos = 0
    n = len(text)
    for word in words:
        if word.isspace():
            continue
        start = text.find(word, pos)
        if start < 0:
            raise ValueError(f"segmenter output {word!r} not found in the text after position {pos}")
        if start > pos:
            out.append(text[pos:start])
            spaces.append(False)
        out.append(word)
        spaces.append(False)
        pos = start + len(word)
        if pos < n and text[pos] == " ":
            spaces[-1] = True
            pos += 1
    if pos < n:
        out.append(text[pos:])
        spaces.append(False)
    return out, spaces


def load_jieba(words: Iterable[str]) -> Any:
    import jieba

    tk = jieba.Tokenizer()
    tk.initialize()
    for word in words:
        tk.add_word(word)
    return tk


class NewsTokenizer(DummyTokenizer):
    def __init__(self, vocab: Vocab, segmenter: str = "pkuseg", max_sentence_chars: int = 200) -> None:
        if segmenter not in SEGMENTERS:
            raise ValueError(f"segmenter must be one of {SEGMENTERS}, not {segmenter!r}")
        self.vocab = vocab
        self.segmenter = segmenter
        self.max_sentence_chars = max_sentence_chars
        self.user_words: list[str] = []
        self._pkuseg_dir: Path | None = None
        self._other_words: list[str] = []
        self._cut: Callable[[str], list[str]] | None = None
        self._configured = False  # set up or read from disk; the segmenter itself loads on first use
        # Texts cut at build time (the KB's names): the ner stage builds its name patterns from these
        # without loading the 170 MB segmenter it otherwise never uses (its documents are cut already).
        self._memo: dict[str, tuple[str, ...]] = {}

    # -- set-up (build time) -------------------------------------------------------------
    def setup(self, user_words: Iterable[str], pkuseg_dir: Path | None = None,
              pkuseg_default_words: Iterable[str] = (), remember: Iterable[str] = ()) -> None:
        self.user_words = sorted(set(user_words))
        if self.segmenter == "pkuseg":
            if pkuseg_dir is None:
                raise ValueError("the pkuseg segmenter needs the converted model directory")
            self._pkuseg_dir = Path(pkuseg_dir)
            self._other_words = sorted(set(pkuseg_default_words))
        self._configured = True
        self._load()
        self._memo = {text: tuple(self.cut(text)) for text in sorted(set(remember))}

    def ensure_loaded(self) -> None:
        """Load the segmenter now (before forking workers, so that they share its memory)."""
        if self._cut is None:
            if not self._configured:
                raise RuntimeError("tokenizer not set up: load the pipeline built by `build_models`")
            self._load()

    def _load(self) -> None:
        repair = AliasRepair(self.user_words, self._other_words)
        if self.segmenter == "pkuseg":
            assert self._pkuseg_dir is not None
            seg = load_pkuseg(self._pkuseg_dir, self.user_words, self._other_words)

            def cut(text: str) -> list[str]:
                # pkuseg drops whitespace and cuts each whitespace-free fragment on its own; doing
                # the same here keeps a name from being "repaired" across a space.
                words: list[str] = []
                for fragment in text.split():
                    words.extend(repair(seg.cut(fragment)))
                return words
        else:
            tk = load_jieba(self.user_words)

            def cut(text: str) -> list[str]:
                words: list[str] = []
                run: list[str] = []
                for w in tk.cut(text, cut_all=False, HMM=True):
                    if w.isspace():
                        words.extend(repair(run))
                        words.append(w)
                        run = []
                    elif w:
                        run.append(w)
                words.extend(repair(run))
                return words

        self._cut = cut

    # -- use -------------------------------------------------------------------------------
    def cut(self, text: str) -> list[str]:
        known = self._memo.get(text)
        if known is not None:
            return list(known)
        self.ensure_loaded()
        assert self._cut is not None
        return self._cut(text)

    def tokenize(self, text: str) -> tuple[list[str], list[bool], list[bool]]:
        """Words, trailing-space flags and sentence starts: everything a Doc is built from."""
        words, spaces = words_and_spaces(self.cut(text), text)
        return words, spaces, sentence_starts(words, spaces, self.max_sentence_chars)

    def __call__(self, text: str) -> Doc:
        words, spaces, starts = self.tokenize(text)
        return Doc(self.vocab, words=words, spaces=spaces, sent_starts=starts)

    # -- serialisation ---------------------------------------------------------------------
    def to_disk(self, path: str | Path, **kwargs: Any) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {"segmenter": self.segmenter})
        srsly.write_msgpack(path / "user_words.msgpack", self.user_words)
        if self.segmenter == "pkuseg":
            assert self._pkuseg_dir is not None
            model_dir = path / "pkuseg_model"
            model_dir.mkdir(exist_ok=True)
            for name in PKUSEG_FILES:
                if (self._pkuseg_dir / name).resolve() != (model_dir / name).resolve():
                    shutil.copyfile(self._pkuseg_dir / name, model_dir / name)
            srsly.write_msgpack(path / "pkuseg_default_words.msgpack", self._other_words)
        srsly.write_msgpack(path / "memo.msgpack", {k: list(v) for k, v in self._memo.items()})

    def from_disk(self, path: str | Path, **kwargs: Any) -> NewsTokenizer:
        path = Path(path)
        cfg = srsly.read_json(path / "cfg.json")
        self.segmenter = cfg["segmenter"]
        self.user_words = list(srsly.read_msgpack(path / "user_words.msgpack"))
        if self.segmenter == "pkuseg":
            self._pkuseg_dir = path / "pkuseg_model"
            self._other_words = list(srsly.read_msgpack(path / "pkuseg_default_words.msgpack"))
        memo = path / "memo.msgpack"
        self._memo = {k: tuple(v) for k, v in srsly.read_msgpack(memo).items()} if memo.exists() else {}
        self._cut = None
        self._configured = True
        return self


@registry.tokenizers("newslens.zh_tokenizer.v1")
def create_tokenizer(segmenter: str = "pkuseg", max_sentence_chars: int = 200) -> Callable[[Any], NewsTokenizer]:
    def factory(nlp: Any) -> NewsTokenizer:
        return NewsTokenizer(nlp.vocab, segmenter, max_sentence_chars)

    return factory
