from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "data" / "sources" / "seed" / "platform-interop-article.txt"

# Realistic article text used across tests (written for this project).
SIMPLIFIED = (
    "京东物流第三季度亏损扩大，而拼多多营收大增。分析人士认为，美团的外卖业务并非没有隐忧，"
    "但其到店业务表现强劲，整体前景乐观。"
)
TRADITIONAL = (
    "騰訊總裁劉熾平回應了平臺互聯的問題。他指出，騰訊的生態環境本質上是開放的，"
    "港股收市時恆指上升，科技股普遍向好。"
)


def ingest_huaxia(folder: Path) -> Path:
    """The bundled huaxia_wire source (20 articles) ingested as source "hx" into `folder`; the
    Parquet file's path. For stage tests that need real ingested rows without a DVC project."""
    from pipeline.ingest import ingest_source

    options = {"format": "jsonl", "path": str(REPO / "data/sources/huaxia_wire/articles.jsonl"),
               "fields": {"id": "guid", "title": "headline", "text": "body"}, "allow_outside": True}
    ingest_source("hx", options, folder / "in.parquet", folder / "in.rej", folder / "in.json", root=folder)
    return folder / "in.parquet"


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def baseline_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with two sources (seed, huaxia_wire), after a full `dvc repro`, committed."""
    from tests.dvc_helpers import copy_repo, dvc, git

    root = copy_repo(tmp_path_factory.mktemp("baseline") / "repo", sources=["seed", "huaxia_wire"])
    dvc(root, "repro")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "baseline")
    return root
