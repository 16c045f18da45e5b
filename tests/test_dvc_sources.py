"""Adding a news source runs only that source's stages (plus cross-source ones): the real dvc repro."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SIMPLIFIED, TRADITIONAL
from tests.dvc_helpers import clone_tree, dvc, read_params, stages_run, write_params

pytestmark = pytest.mark.slow


def test_new_source_runs_only_its_own_stages(baseline_repo: Path, tmp_path: Path) -> None:
    root = clone_tree(baseline_repo, tmp_path / "repo")
    assert "up to date" in dvc(root, "status").stdout.lower()

    folder = root / "data" / "sources" / "newswire"
    folder.mkdir(parents=True)
    (folder / "n1.txt").write_text("拼多多营收大增\n\n" + SIMPLIFIED, encoding="utf-8")
    (folder / "n2.txt").write_bytes(TRADITIONAL.encode("big5"))
    params = read_params(root)
    params["sources"]["newswire"] = {"format": "text", "path": "data/sources/newswire"}
    write_params(root, params)

    second = dvc(root, "repro")
    ran = stages_run(second.stdout)
    per_source = {s for s in ran if "@" in s}
    assert per_source == {s for s in per_source if s.endswith("@newswire")}
    assert {"ingest@newswire", "normalise@newswire", "segment@newswire"} <= ran
    assert "build_models" not in ran
    assert not {s for s in ran if s.endswith(("@seed", "@huaxia_wire"))}

    status = dvc(root, "status")
    assert "up to date" in status.stdout.lower()
    metrics = dvc(root, "metrics", "show", "--json").stdout
    assert '"newswire.json"' in metrics or "newswire" in metrics
