"""build_models stage: fetch pinned model files, convert them, build and save the spaCy pipeline.

The output, models/zh_pipeline/, is an ordinary spaCy pipeline directory (`spacy.load` works after
`import pipeline.nlp`) holding no pickle: pkuseg's feature table is converted from the sdist's
features.pkl to plain text here, once, by an unpickler that admits only plain data.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import spacy

from pipeline import fetch, safe_pickle
from pipeline.docparts import write_symbol_table
from pipeline.kb import VARIANTS_FILE, load_kb, variant_table
from pipeline.segmenter import PKUSEG_TABLES, write_lines
from pipeline.zh_tokenizer import NewsTokenizer


def convert_pkuseg(archive: Path, members: dict[str, str], out_dir: Path) -> list[str]:
    """Write pkuseg's tables in the layout `segmenter.load_pkuseg` reads; return the default
    dictionary words.

    The feature names go one per line, in index order (their indices are 0, 1, 2 … in that order, which
    is checked here), so loading is one read and one `dict(zip(names, range(n)))`: unpacking the same
    2.6 million entries from msgpack took four seconds of every segment stage. The bigram list is left
    out: segmentation (`get_node_features_idx`) never reads it, only feature extraction for training.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    features = safe_pickle.loads_plain(fetch.read_member(archive, members["features"]))
    if not isinstance(features, dict) or set(features) != {"unigram", "bigram", "feature_to_idx", "tag_to_idx"}:
        raise ValueError("pkuseg features.pkl does not have the expected tables")
    names = list(features["feature_to_idx"])
    if list(features["feature_to_idx"].values()) != list(range(len(names))):
        raise ValueError("pkuseg feature indices are not 0..n-1 in table order; cannot store them as a list")
    write_lines(out_dir / PKUSEG_TABLES["features"], names)
    write_lines(out_dir / PKUSEG_TABLES["unigram"], sorted(features["unigram"]))
    (out_dir / PKUSEG_TABLES["tags"]).write_text(json.dumps(features["tag_to_idx"], sort_keys=True) + "\n",
                                                 encoding="utf-8")
    (out_dir / PKUSEG_TABLES["weights"]).write_bytes(fetch.read_member(archive, members["weights"]))
    words = safe_pickle.loads_plain(fetch.read_member(archive, members["dictionary"]))
    if not isinstance(words, str):
        raise ValueError("pkuseg default dictionary is not a word list")
    return sorted({w for w in words.strip().split("\n") if w})


def _replace_dir(src: Path, dest: Path) -> None:
    """Swap a finished build into place so a killed build never leaves a half-written model."""
    old = dest.with_name(dest.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if dest.exists():
        dest.rename(old)
    src.rename(dest)
    if old.exists():
        shutil.rmtree(old)


def build_pipeline(
    out_dir: str | os.PathLike[str],
    segmenter: str,
    kb_path: str | os.PathLike[str],
    extra_words: Iterable[str],
    max_sentence_chars: int,
    pins: dict[str, dict[str, Any]],
    cache: Path = fetch.DEFAULT_CACHE,
) -> dict[str, Any]:
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    kb = load_kb(kb_path)
    words = sorted(set(kb.dictionary_words()) | {w.strip() for w in extra_words if w.strip()})
    manifest: dict[str, Any] = {"segmenter": segmenter, "kb_entries": len(kb), "user_words": len(words),
                                "sources": {}}
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out.parent) as tmp:
        staging = Path(tmp)
        nlp = spacy.blank(
            "zh",
            config={"nlp": {"tokenizer": {"@tokenizers": "newslens.zh_tokenizer.v1", "segmenter": segmenter,
                                          "max_sentence_chars": max_sentence_chars}}},
        )
        tokenizer: NewsTokenizer = nlp.tokenizer  # type: ignore[assignment]
        if segmenter == "pkuseg":
            pin = pins["pkuseg"]
            archive = fetch.fetch(pin, cache)
            default_words = convert_pkuseg(archive, pin["members"], staging / "pkuseg")
            tokenizer.setup(words, staging / "pkuseg", default_words, remember=kb.surface_forms())
            manifest["sources"]["pkuseg"] = {k: pin[k] for k in ("requirement", "file", "sha256", "licence")}
        else:
            tokenizer.setup(words, remember=kb.surface_forms())
            manifest["sources"]["jieba"] = {"requirement": "jieba==0.42.1", "licence": "MIT"}
        nlp.meta["name"] = "newslens_zh"
        nlp.meta["version"] = "0.1.0"
        nlp.meta["description"] = "Chinese news segmentation with a company dictionary (newslens build_models)"
        nlp.meta["license"] = manifest["sources"].get("pkuseg", manifest["sources"].get("jieba"))["licence"]
        built = staging / "zh_pipeline"
        nlp.to_disk(built)
        table = variant_table(s for company in kb.companies.values() for s in company.surfaces)
        (built / VARIANTS_FILE).write_text(json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n",
                                           encoding="utf-8")
        write_symbol_table(built)  # so that the segment stage writes DocBin parts without importing spaCy
        (built / "newslens.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
                                             + "\n", encoding="utf-8")
        _replace_dir(built, out)
    return manifest
