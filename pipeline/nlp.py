"""Loading the built spaCy pipeline (registers the project's components first)."""

from __future__ import annotations

import functools
from pathlib import Path

import spacy
from spacy.language import Language

from pipeline import zh_tokenizer  # noqa: F401  (registers the tokenizer)

DEFAULT_MODEL = Path("models/zh_pipeline")


@functools.cache
def load_nlp(path: str | Path = DEFAULT_MODEL) -> Language:
    p = Path(path)
    if not (p / "config.cfg").exists():
        raise FileNotFoundError(f"no spaCy pipeline at {p}; build it with `dvc repro build_models`")
    return spacy.load(p)
