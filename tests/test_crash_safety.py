"""A stage killed with SIGKILL in the middle of writing its output leaves nothing DVC would accept.

Every artefact is written to a temp file (pipeline.artefacts) or a temp folder (pipeline.docstore)
next to its destination and renamed into place. Here the real `dvc repro` of a stage with a large
output is killed (its whole process group, so the stage command dies with it) as soon as its temp
output appears, and then: (a) the destination holds no partial output (it is absent, or still the
previous complete version), (b) `dvc status` reports the stage as not up to date, and (c) `dvc repro`
completes with the right number of documents and no temp files of the killed run left behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.docbin_tokens import count_docs
from tests.conftest import REPO
from tests.dvc_helpers import clone_tree, dvc, read_params, write_params

pytestmark = pytest.mark.slow

SENTENCES = [
    "{a}第三季度营收同比增长{n}%，利润率明显改善，分析人士普遍看好其前景。",
    "{a}股价今日下跌{n}%，市场担忧{b}的竞争加剧将压缩其利润空间。",
    "{a}宣布与{b}达成战略合作，双方将在云计算和物流领域展开深度合作。",
    "受补贴战影响，{a}外卖业务亏损扩大，但其到店业务表现强劲。",
    "监管部门约谈{a}和{b}，要求整改平台规则，保护商家和消费者权益。",
    "{a}发布新款手机，售价{n}99元起，首批备货已全部售罄。",
]
COMPANIES = ["腾讯", "阿里巴巴", "京东", "美团", "拼多多", "百度", "小米集团", "华为", "字节跳动", "网易"]


def write_articles(path: Path, start: int, count: int) -> None:
    """Generated articles (written for this test), a few hundred characters each."""
    rng = random.Random(start)
    with open(path, "a", encoding="utf-8") as fh:
        for i in range(start, start + count):
            body = "".join(
                rng.choice(SENTENCES).format(a=rng.choice(COMPANIES), b=rng.choice(COMPANIES), n=rng.randint(1, 60))
                for _ in range(rng.randint(4, 9))
            )
            fh.write(json.dumps({"id": f"b{i:05d}", "title": f"第{i}号快讯", "text": body,
                                 "published_at": f"2026-10-{1 + i % 28:02d} 09:00"}, ensure_ascii=False) + "\n")


@pytest.fixture
def bulk_repo(baseline_repo: Path, tmp_path: Path) -> Path:
    """A clone of the baseline with a third source `bulk` of 3 000 generated articles."""
    root = clone_tree(baseline_repo, tmp_path / "repo")
    folder = root / "data" / "sources" / "bulk"
    folder.mkdir(parents=True)
    write_articles(folder / "articles.jsonl", 0, 3000)
    params = read_params(root)
    params["sources"]["bulk"] = {"format": "jsonl", "path": "data/sources/bulk/articles.jsonl"}
    write_params(root, params)
    return root


def kill_when(root: Path, target: str, ready: Callable[[], bool], timeout: float = 300) -> subprocess.CompletedProcess:
    """Start `dvc repro <target>` in its own session and SIGKILL the whole group once `ready()`."""
    env = dict(os.environ, NEWSLENS_PROGRESS="0", NEWSLENS_CACHE=str(REPO / ".cache" / "downloads"))
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dvc"), "repro", target], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"dvc repro {target} finished ({proc.returncode}) before it could be killed:\n{out}")
            if time.monotonic() > deadline:
                pytest.fail(f"no temp output of {target} after {timeout} s")
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # Nothing of the group survives to finish the write after the check below.
    time.sleep(0.5)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def status(root: Path, target: str) -> dict:
    """`dvc status <target> --json`: the target and the stages before it; {} when all are up to date."""
    return json.loads(dvc(root, "status", target, "--json").stdout or "{}")


def lock_entry(root: Path, stage: str) -> dict:
    import yaml

    return yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))["stages"].get(stage, {})


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_killed_normalise_leaves_no_partial_parquet(bulk_repo: Path) -> None:
    """First run of a Parquet artefact killed mid-write: the destination is absent, not partial."""
    root = bulk_repo
    dvc(root, "repro", "ingest@bulk")
    out_dir = root / "data" / "normalised"
    final = out_dir / "bulk.parquet"

    def temp_files() -> list[Path]:
        return [p for p in out_dir.glob(".bulk.parquet.*.tmp") if p.stat().st_size > 0]

    kill_when(root, "normalise@bulk", lambda: bool(temp_files()))
    # (a) no partial output at the final path; the killed run's temp file is all that is left.
    assert not final.exists()
    assert temp_files(), "the kill did not happen mid-write"
    # (b) DVC does not accept anything: the stage never completed.
    assert "normalise@bulk" in status(root, "normalise@bulk")
    assert lock_entry(root, "normalise@bulk") == {}
    # (c) a new run completes, with every article, and removes the stale temp file.
    dvc(root, "repro", "segment@bulk")
    assert pq.ParquetFile(final).metadata.num_rows == 3000
    assert count_docs(root / "data" / "segmented" / "bulk") == 3000
    assert not list(out_dir.glob(".bulk.parquet.*"))
    assert status(root, "segment@bulk") == {}


def test_killed_segment_keeps_the_previous_version(bulk_repo: Path) -> None:
    """A re-run of the DocBin folder killed mid-write: the previous complete folder stays in place."""
    root = bulk_repo
    dvc(root, "repro", "segment@bulk")
    seg = root / "data" / "segmented" / "bulk"
    previous = tree_digest(seg)
    previous_lock = lock_entry(root, "segment@bulk")
    assert count_docs(seg) == 3000

    write_articles(root / "data" / "sources" / "bulk" / "articles.jsonl", 3000, 1000)
    dvc(root, "repro", "normalise@bulk")

    def temp_dirs() -> list[Path]:
        return [p for p in seg.parent.glob(".bulk.*") if p.is_dir() and (p / "part-00000.spacy").exists()]

    kill_when(root, "segment@bulk", lambda: bool(temp_dirs()))
    # (a) the destination is the previous complete version (or, had the kill fallen between the two
    # renames of the swap, absent), never a mix.
    assert not seg.exists() or tree_digest(seg) == previous
    assert temp_dirs(), "the kill did not happen mid-write"
    # (b) DVC reports the stage as changed and still holds the old lock entry.
    changed = status(root, "segment@bulk")
    assert "segment@bulk" in changed, changed
    assert lock_entry(root, "segment@bulk") == previous_lock
    # (c) a new run completes with all 4 000 documents; the killed run's folder is gone.
    dvc(root, "repro", "segment@bulk")
    assert count_docs(seg) == pq.ParquetFile(root / "data" / "normalised" / "bulk.parquet").metadata.num_rows == 4000
    assert [p.name for p in seg.parent.glob(".bulk*")] == []
    assert status(root, "segment@bulk") == {}


def test_stale_temp_files_are_removed_by_the_next_write(tmp_path: Path) -> None:
    """Only the temp names of the artefact being written are removed, nothing else."""
    from pipeline.artefacts import write_json
    from pipeline.docparts import DocPartWriter

    stale = [".a.json.k3j_9x0q.tmp", ".seg.ab12cd34"]
    kept = [".a.json.notes.tmp", ".b.json.k3j_9x0q.tmp", ".a.jsonl.k3j_9x0q.tmp", "a.json.k3j_9x0q.tmp", ".seg.old2"]
    for name in stale + kept:
        if name.startswith(".seg"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "part-00000.spacy").write_bytes(b"x")
        else:
            (tmp_path / name).write_text("x", encoding="utf-8")
    write_json(tmp_path / "a.json", {"ok": True})
    with DocPartWriter(tmp_path / "seg", symbols={}):
        pass
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"a.json", "seg", *kept}
