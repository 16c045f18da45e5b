"""Pinned model files: a tampered archive is refused before anything is read from it."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from pipeline import fetch
from pipeline.safe_pickle import loads_plain
from tests.conftest import REPO


def test_tampered_archive_fails_closed(tmp_path: Path) -> None:
    pins = fetch.load_pins(REPO / "configs" / "model_sources.yaml")
    pin = pins["pkuseg"]
    cached = REPO / ".cache" / "downloads" / pin["file"]
    if not cached.exists():
        pytest.fail("the pkuseg sdist is not in .cache/downloads: `make test` builds models first")
    tampered = tmp_path / pin["file"]
    shutil.copyfile(cached, tampered)
    with open(tampered, "r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(fetch.IntegrityError, match="does not match the pinned"):
        fetch.fetch(pin, cache=tmp_path)
    # and the genuine file passes
    fetch.verify(cached, pin["sha256"])


class Evil:
    def __reduce__(self):
        return (print, ("executed",))


def test_unpickler_refuses_code_and_admits_plain_data() -> None:
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load builtins\.print"):
        loads_plain(pickle.dumps(Evil()))
    data = {"unigram": ["a", "b"], "tag_to_idx": {"B": 0}, "n": 1.5}
    assert loads_plain(pickle.dumps(data)) == data
