"""The reference pkuseg for "models alone": the pinned model in spacy_pkuseg's own layout.

The pipeline loads pkuseg from the tables build_models converted (pipeline/zh_tokenizer.py); the
reference is the library as a notebook would use it, `spacy_pkuseg.pkuseg(model_dir)` on the layout
the library itself reads (features.msgpack with all four tables, weights.npz), written here from the
same pinned sdist that build_models fetched and verified. Same weights, same features, same output;
only the loading differs, and the benchmarks report that difference rather than hide it.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def library_model_dir(dest: Path, repo: Path = REPO) -> Path:
    """Write (once) and return a spacy_pkuseg model folder for the pinned default model."""
    import srsly

    from pipeline import fetch, safe_pickle

    if (dest / "features.msgpack").is_file() and (dest / "weights.npz").is_file():
        return dest
    pin = fetch.load_pins(repo / "configs" / "model_sources.yaml")["pkuseg"]
    archive = fetch.fetch(pin, repo / ".cache" / "downloads")  # cached by `make models`; verified again
    features = safe_pickle.loads_plain(fetch.read_member(archive, pin["members"]["features"]))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "weights.npz").write_bytes(fetch.read_member(archive, pin["members"]["weights"]))
    (dest / "features.msgpack").write_bytes(srsly.msgpack_dumps(features))
    return dest
