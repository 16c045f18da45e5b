"""Word segmentation for Chinese news without spaCy: pkuseg (default) or jieba, with a company
dictionary, alias repair and sentence starts.

Why a module of its own: the segment stage needs only words, trailing spaces and sentence starts,
and loading spaCy and the built pipeline to get them through its tokenizer cost every segment process
time it did not need (with docparts: the stage on 7 articles 4.44 → 3.78 s, medians of 12 runs on a
2-vCPU host; paid once per source). `pipeline.zh_tokenizer` wraps a
`Segmenter` as the spaCy tokenizer of the built pipeline, for everything that does want Docs; both
read and write the same `tokenizer/` folder of `models/zh_pipeline`, so they cannot drift apart.

Why not spaCy's own ChineseTokenizer: loading it constructs `spacy_pkuseg.pkuseg`, which unpickles
the package's bundled dictionary (dicts/default.pkl) every time. Here the same model, the same
default dictionary (converted to msgpack at build time) and the same post-processing run, built
from msgpack, text and a pickle-free .npz only, so nothing pickled is loaded at run time.

Company names are kept whole by pkuseg's post-processor, which joins *consecutive model tokens*
whose concatenation is a dictionary word, rather than by its pre-processor, which forces dictionary
words wherever their characters occur. Forcing would turn 其中通过 into 其/中通/过 and 京东方面
("JD's side") into 京东方 (BOE); joining whole tokens cannot cross a boundary the model is sure of.
"""

from __future__ import annotations

import configparser
import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgpack

from pipeline.alias_repair import AliasRepair
from pipeline.sentences import sentence_starts

SEGMENTERS = ("pkuseg", "jieba")
# The converted pkuseg model (pipeline.build_models.convert_pkuseg): plain text, JSON and a
# pickle-free .npz.
PKUSEG_TABLES = {"features": "features.txt", "unigram": "unigram.txt", "tags": "tags.json", "weights": "weights.npz"}
PKUSEG_FILES = tuple(PKUSEG_TABLES.values())
TOKENIZER_DIR = "tokenizer"  # inside the built pipeline, where spaCy puts its tokenizer's files


def write_lines(path: Path, items: Iterable[str]) -> None:
    """One string per line; a string holding a line break cannot be stored so, and is refused."""
    items = list(items)
    if any("\n" in s for s in items):
        raise ValueError(f"{path.name}: an entry holds a line break")
    path.write_text("\n".join(items), encoding="utf-8")


def read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


def _read_msgpack(path: Path) -> Any:
    return msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False)


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


def _pkuseg_cut(seg: Any, repair: AliasRepair) -> Callable[[str], list[str]]:
    def cut(text: str) -> list[str]:
        # pkuseg drops whitespace and cuts each whitespace-free fragment on its own; doing the same
        # here keeps a name from being "repaired" across a space.
        words: list[str] = []
        for fragment in text.split():
            words.extend(repair(seg.cut(fragment)))
        return words

    return cut


def _jieba_cut(tk: Any, repair: AliasRepair) -> Callable[[str], list[str]]:
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

    return cut


class Segmenter:
    """The configured segmenter: what it cuts with, the dictionary it keeps whole, how long a
    sentence may run. The model itself loads on first use (or `load()`), so that a process that only
    needs the texts cut at build time (`remember`, the KB's names) never loads 170 MB of pkuseg."""

    def __init__(self, segmenter: str = "pkuseg", max_sentence_chars: int = 200, user_words: Iterable[str] = (),
                 pkuseg_dir: Path | None = None, other_words: Iterable[str] = (),
                 memo: dict[str, tuple[str, ...]] | None = None, configured: bool = True) -> None:
        if segmenter not in SEGMENTERS:
            raise ValueError(f"segmenter must be one of {SEGMENTERS}, not {segmenter!r}")
        if configured and segmenter == "pkuseg" and pkuseg_dir is None:
            raise ValueError("the pkuseg segmenter needs the converted model directory")
        self.name = segmenter
        self.max_sentence_chars = max_sentence_chars
        # Kept as given: `build` sorts them once, and reading them back need not (0.45 s on 2.2 M words).
        self.user_words = list(user_words)
        self.pkuseg_dir = Path(pkuseg_dir) if pkuseg_dir is not None else None
        self.other_words = list(other_words) if segmenter == "pkuseg" else []
        self.memo = dict(memo or {})
        self.configured = configured
        self._cut: Callable[[str], list[str]] | None = None

    @classmethod
    def build(cls, segmenter: str, max_sentence_chars: int, user_words: Iterable[str], pkuseg_dir: Path | None = None,
              other_words: Iterable[str] = ()) -> Segmenter:
        """A new segmenter (build time): the word lists sorted and without repeats, as they are stored."""
        return cls(segmenter, max_sentence_chars, sorted(set(user_words)), pkuseg_dir, sorted(set(other_words)))

    @classmethod
    def unconfigured(cls, segmenter: str = "pkuseg", max_sentence_chars: int = 200) -> Segmenter:
        """A placeholder until the built pipeline is read (spaCy creates its tokenizer before `from_disk`)."""
        return cls(segmenter, max_sentence_chars, configured=False)

    # -- use -------------------------------------------------------------------------------
    def load(self) -> None:
        """Load the model now (before forking workers, so that they share its memory)."""
        if self._cut is not None:
            return
        if not self.configured:
            raise RuntimeError("tokenizer not set up: load the pipeline built by `build_models`")
        repair = AliasRepair(self.user_words, self.other_words)
        if self.name == "pkuseg":
            assert self.pkuseg_dir is not None
            self._cut = _pkuseg_cut(load_pkuseg(self.pkuseg_dir, self.user_words, self.other_words), repair)
        else:
            self._cut = _jieba_cut(load_jieba(self.user_words), repair)

    def remember(self, texts: Iterable[str]) -> None:
        """Cut these texts now and keep their words, written with the model (the KB's names)."""
        self.memo = {text: tuple(self.cut(text)) for text in sorted(set(texts))}

    def cut(self, text: str) -> list[str]:
        known = self.memo.get(text)
        if known is not None:
            return list(known)
        self.load()
        assert self._cut is not None
        return self._cut(text)

    def tokenize(self, text: str) -> tuple[list[str], list[bool], list[bool]]:
        """Words, trailing-space flags and sentence starts: everything a Doc is built from."""
        words, spaces = words_and_spaces(self.cut(text), text)
        return words, spaces, sentence_starts(words, spaces, self.max_sentence_chars)

    # -- files -----------------------------------------------------------------------------
    def write(self, path: str | Path) -> None:
        """The `tokenizer/` folder of the built pipeline."""
        import srsly  # build time only: the files stay exactly as spaCy's serialisation wrote them

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {"segmenter": self.name})
        srsly.write_msgpack(path / "user_words.msgpack", self.user_words)
        if self.name == "pkuseg":
            assert self.pkuseg_dir is not None
            model_dir = path / "pkuseg_model"
            model_dir.mkdir(exist_ok=True)
            for name in PKUSEG_FILES:
                if (self.pkuseg_dir / name).resolve() != (model_dir / name).resolve():
                    shutil.copyfile(self.pkuseg_dir / name, model_dir / name)
            srsly.write_msgpack(path / "pkuseg_default_words.msgpack", self.other_words)
        srsly.write_msgpack(path / "memo.msgpack", {k: list(v) for k, v in self.memo.items()})

    @classmethod
    def read(cls, path: str | Path, max_sentence_chars: int = 200) -> Segmenter:
        """From a `tokenizer/` folder (`write`); the model loads on first use."""
        path = Path(path)
        segmenter = json.loads((path / "cfg.json").read_text(encoding="utf-8"))["segmenter"]
        pkuseg = segmenter == "pkuseg"
        memo_path = path / "memo.msgpack"
        memo = {k: tuple(v) for k, v in _read_msgpack(memo_path).items()} if memo_path.exists() else {}
        return cls(segmenter, max_sentence_chars, _read_msgpack(path / "user_words.msgpack"),
                   path / "pkuseg_model" if pkuseg else None,
                   _read_msgpack(path / "pkuseg_default_words.msgpack") if pkuseg else (), memo)

    @classmethod
    def from_pipeline(cls, model_dir: str | Path) -> Segmenter:
        """From the built spaCy pipeline folder, reading its config.cfg as plain INI (the tokenizer's
        section holds JSON values), so that spaCy need not be imported to use its tokenizer."""
        model_dir = Path(model_dir)
        config_path = model_dir / "config.cfg"
        if not config_path.is_file():
            raise FileNotFoundError(f"no spaCy pipeline at {model_dir}; build it with `dvc repro build_models`")
        config = configparser.ConfigParser(interpolation=None)
        config.read(config_path, encoding="utf-8")
        section = config["nlp.tokenizer"]
        if json.loads(section["@tokenizers"]) != "newslens.zh_tokenizer.v1":
            raise ValueError(f"{config_path}: the tokenizer is {section['@tokenizers']}, not newslens.zh_tokenizer.v1")
        seg = cls.read(model_dir / TOKENIZER_DIR, int(json.loads(section.get("max_sentence_chars", "200"))))
        if seg.name != json.loads(section.get("segmenter", json.dumps(seg.name))):
            raise ValueError(f"{model_dir}: config.cfg and {TOKENIZER_DIR}/cfg.json name different segmenters")
        return seg
