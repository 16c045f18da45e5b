"""Aggregation: syndicated copies count once, periods, movers, plots, comparing runs with DVC."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipeline.aggregate import movers, period_of
from pipeline.compare import compare
from pipeline.dedup import DocInfo, cluster
from pipeline.normalise import NormaliseConfig, Normaliser
from tests.conftest import SEED
from tests.dvc_helpers import clone_tree, dvc, git, read_params, stages_run, write_params

pytestmark = pytest.mark.slow


def republished_seed() -> str:
    """The seed as another content farm posts it: new breadcrumb and title, a few edited sentences."""
    text = SEED.read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[0] = "首頁 > 財經熱點 > 互聯網觀察"
    lines[2] = "阿裏騰訊互通：開放的真正考驗"
    text = "\n".join(lines)
    text = text.replace("從這裏可以看出，騰訊對於平臺間的互聯互通還是比較謹慎的。", "可見騰訊在互聯互通上態度審慎。")
    text = text.replace("相信很多企業都樂於和阿裏溝通。", "")
    return text.replace("估計很多消費者都有這種經歷。", "很多消費者大概都有過類似經歷。")


@pytest.mark.parametrize(
    ("stamp", "period", "expected"),
    [
        ("2026-10-05T23:30:00+08:00", "day", "2026-10-05"),
        ("2026-10-05T23:30:00+08:00", "week", "2026-W41"),
        ("2026-10-05T23:30:00+08:00", "month", "2026-10"),
        (None, "week", "undated"),
    ],
)
def test_period_of(stamp: str | None, period: str, expected: str) -> None:
    assert period_of(stamp, period) == expected


def test_republished_seed_is_one_cluster() -> None:
    norm = Normaliser(NormaliseConfig())
    docs = [
        DocInfo("seed:a", "2026-11-01T08:00:00+08:00", norm.normalise(SEED.read_text(encoding="utf-8")).text),
        DocInfo("farm:b", "2026-11-03T08:00:00+08:00", norm.normalise(republished_seed()).text),
        DocInfo("wire:c", "2026-11-02T08:00:00+08:00", "京东物流第三季度亏损扩大，而拼多多营收大增。" * 5),
    ]
    clusters = cluster(docs, threshold=0.5)
    assert clusters["farm:b"][0] == clusters["seed:a"][0] == "seed:a"  # the earlier copy is canonical
    assert clusters["farm:b"][1] > 0.8
    assert clusters["wire:c"] == ("wire:c", 1.0)


def test_movers_need_articles_and_a_real_change() -> None:
    def row(gid: str, period: str, articles: int, net: float) -> dict:
        return {"group_id": gid, "group_name": gid.upper(), "source": "*", "period": period, "articles": articles,
                "net_sentiment": net}

    groups = pd.DataFrame([row("a", "2026-W40", 3, 0.6), row("a", "2026-W41", 2, -0.5),
                           row("b", "2026-W40", 1, 1.0), row("b", "2026-W41", 5, -1.0)])
    out = movers(groups, min_delta=0.5, min_articles=2)
    assert list(out["group_id"]) == ["a"] and out.iloc[0]["direction"] == "down"
    assert out.iloc[0]["delta"] == pytest.approx(-1.1)


def test_copies_count_once_across_sources(baseline_repo: Path, tmp_path: Path) -> None:
    root = clone_tree(baseline_repo, tmp_path / "repo")
    farm = root / "data" / "sources" / "farm"
    farm.mkdir()
    (farm / "copy.txt").write_text(republished_seed(), encoding="utf-8")
    params = read_params(root)
    params["sources"]["farm"] = {"format": "text", "path": "data/sources/farm", "title_line": False}
    write_params(root, params)
    dvc(root, "repro")
    dups = pd.read_csv(root / "data" / "aggregate" / "duplicates.csv")
    cluster_rows = dups[dups["doc_id"].isin(["seed:platform-interop-article", "farm:copy"])]
    assert len(cluster_rows) == 2 and cluster_rows["cluster_id"].nunique() == 1
    table = pd.read_csv(root / "data" / "aggregate" / "company_sentiment.csv")
    before = pd.read_csv(baseline_repo / "data" / "aggregate" / "company_sentiment.csv")
    pick = (table["group_id"] == "alibaba") & (table["source"] == "*") & (table["period"] == "*")
    was = (before["group_id"] == "alibaba") & (before["source"] == "*") & (before["period"] == "*")
    assert table[pick].iloc[0]["articles"] == before[was].iloc[0]["articles"]  # the copy adds no article
    # nor its mentions: the copy (canonical here, its doc_id sorts first among undated copies) lost
    # one sentence naming 阿里; counted twice, the seed's ~45 mentions would be added again.
    assert abs(table[pick].iloc[0]["mentions"] - before[was].iloc[0]["mentions"]) <= 2
    assert table[pick].iloc[0]["reach"] == before[was].iloc[0]["reach"] + 1
    summary = json.loads((root / "metrics" / "summary.json").read_text(encoding="utf-8"))
    assert summary["duplicates"] == 1 and summary["articles"] == summary["unique_articles"] + 1


def test_exp_run_reruns_only_downstream_of_sentiment(baseline_repo: Path, tmp_path: Path) -> None:
    root = clone_tree(baseline_repo, tmp_path / "repo")
    out = dvc(root, "exp", "run", "-S", "sentiment.window=2", "-n", "wider")
    ran = stages_run(out.stdout)
    assert "sentiment@seed" in ran and "sentiment@huaxia_wire" in ran
    allowed = {"evaluate", "aggregate", "report"}
    assert {s for s in ran if not s.startswith("sentiment@")} <= allowed
    diff = dvc(root, "metrics", "diff", "HEAD", "wider", "--json").stdout
    changed = json.loads(diff)
    assert changed, "dvc metrics diff shows no change"
    assert "params.yaml" in dvc(root, "params", "diff", "HEAD", "wider").stdout
    proc = subprocess.run([sys.executable, "-m", "pipeline", "compare", "HEAD", "wider"], cwd=root,
                          capture_output=True, text=True, check=True)
    assert proc.stdout.startswith(("per-group changes", "no per-group change"))


def test_plots_render(baseline_repo: Path, tmp_path: Path) -> None:
    root = clone_tree(baseline_repo, tmp_path / "repo")
    dvc(root, "plots", "show", "-o", str(tmp_path / "plots"))
    html = (tmp_path / "plots" / "index.html").read_text(encoding="utf-8")
    assert "Net sentiment per group over time" in html and "Mentions per group" in html
    git(root, "status")  # the clone is a working git repository


def test_compare_orders_by_change() -> None:
    a = pd.DataFrame([{"group_id": "x", "group_name": "X", "articles": 2, "mentions": 5, "net_sentiment": 0.5},
                      {"group_id": "y", "group_name": "Y", "articles": 2, "mentions": 3, "net_sentiment": 0.0}])
    b = pd.DataFrame([{"group_id": "x", "group_name": "X", "articles": 2, "mentions": 6, "net_sentiment": 0.4},
                      {"group_id": "y", "group_name": "Y", "articles": 2, "mentions": 3, "net_sentiment": -1.0},
                      {"group_id": "z", "group_name": "Z", "articles": 1, "mentions": 1, "net_sentiment": 0.0}])
    diff = compare(a, b)
    assert list(diff["group_id"]) == ["y", "x", "z"]
    assert diff.iloc[0]["d_net"] == -1.0 and diff.iloc[1]["d_mentions"] == 1
