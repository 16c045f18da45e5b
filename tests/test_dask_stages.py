"""The per-article stages on a real Dask cluster write the same bytes as the local run.

One `distributed.LocalCluster` (2 worker processes, 1 thread each, 127.0.0.1, no dashboard) serves the
module; it is shut down at the end. Three levels:

- pipeline.execution.map_chunks over many partitions: results in order, state built once per worker;
- the four stage functions on the bundled huaxia_wire source with small chunks and partitions (so every
  stage's input is several Dask tasks, with a bounded in-flight window), against the same functions run
  locally: every output file byte for byte;
- `dvc repro --force` of normalise, segment, ner and sentiment for both bundled sources in a clone of the
  baseline, with `execution.backend: dask` pointed at the cluster's address: every out's md5 equals the
  baseline's (built with the local backend), and `dvc status` stays clean (execution is no dependency);
  one stage also runs on its own `local-cluster`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.execution import ExecutionSettings, map_chunks
from tests.dvc_helpers import clone_tree, dvc, read_params, write_params
from tests.test_determinism import differences, out_md5s

pytestmark = pytest.mark.slow

SOURCE = "huaxia_wire"
PER_ARTICLE = ("normalise", "segment", "ner", "sentiment")
_BUILT = 0  # in a worker process: how often ProcessState.build ran there


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.WARNING) as c:
        yield c


def on_cluster(cluster: Any, partition_size: int = 5, in_flight: int = 1) -> ExecutionSettings:
    return ExecutionSettings(backend="dask", scheduler=cluster.scheduler_address, partition_size=partition_size,
                             in_flight=in_flight)


@dataclass(frozen=True)
class ProcessState:
    tag: str

    def build(self) -> str:
        global _BUILT
        _BUILT += 1
        return self.tag


def slow_square(state: str, chunk: list[int]) -> tuple[list[int], int, int, str]:
    time.sleep(0.02 * (chunk[0] % 3))  # partitions finish out of order
    return [x * x for x in chunk], os.getpid(), _BUILT, state


def test_map_chunks_on_the_cluster_keeps_order_and_builds_state_once_per_worker(cluster: Any) -> None:
    chunks = [[i, i + 1] for i in range(0, 80, 2)]
    out = list(map_chunks(slow_square, ProcessState("m"), chunks, on_cluster(cluster, partition_size=4)))
    assert [x for xs, *_ in out for x in xs] == [x * x for x in range(80)]
    assert {state for *_, state in out} == {"m"}
    assert os.getpid() not in {pid for _, pid, _, _ in out}
    assert {built for _, _, built, _ in out} == {1}  # every worker built it exactly once


# -- the stage functions, local vs dask, many partitions ------------------------------------------------


def run_stages(baseline: Path, out: Path, execution: ExecutionSettings) -> None:
    """normalise, segment, ner, sentiment of one source, reading the baseline's upstream outputs, with
    small chunks so that each stage's input is many chunks and partitions."""
    from pipeline.company_matcher import DEFAULT_CUES
    from pipeline.ner import ner_source
    from pipeline.normalise import NormaliseConfig, normalise_source
    from pipeline.segment import segment_source
    from pipeline.sentiment import SentimentConfig
    from pipeline.sentiment_stage import sentiment_source

    params = yaml.safe_load((baseline / "params.yaml").read_text(encoding="utf-8"))
    data, model = baseline / "data", baseline / "models" / "zh_pipeline"
    out.mkdir(parents=True)
    normalise_source(SOURCE, data / "ingested" / f"{SOURCE}.parquet", out / "norm.parquet", out / "norm.rejects.jsonl",
                     out / "norm.json", NormaliseConfig.from_params(params["normalise"]), batch_size=3,
                     execution=execution)
    segment_source(SOURCE, data / "normalised" / f"{SOURCE}.parquet", out / "seg", out / "seg.rejects.jsonl",
                   out / "seg.json", model, n_process=1, chunk_size=3, part_size=8, execution=execution)
    ner_source(SOURCE, data / "segmented" / SOURCE, out / "ents.parquet", out / "unlinked.csv", out / "ner.json",
               model, baseline / "data" / "kb", cues=params["ner"].get("context_cues") or DEFAULT_CUES,
               cue_window=int(params["ner"]["cue_window"]), chunk_size=3, execution=execution)
    sentiment_source(SOURCE, data / "segmented" / SOURCE, data / "entities" / f"{SOURCE}.parquet",
                     data / "normalised" / f"{SOURCE}.parquet", out / "sent.parquet", out / "sent.json",
                     baseline / "models" / "lexicons", SentimentConfig.from_params(params["sentiment"]),
                     execution=execution, chunk_size=3)


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_stage_functions_write_identical_bytes_on_the_cluster(baseline_repo: Path, cluster: Any,
                                                              tmp_path: Path) -> None:
    run_stages(baseline_repo, tmp_path / "local", ExecutionSettings())
    run_stages(baseline_repo, tmp_path / "dask", on_cluster(cluster, partition_size=5, in_flight=1))
    local, remote = file_bytes(tmp_path / "local"), file_bytes(tmp_path / "dask")
    assert len(local) >= 14 and any(name.startswith("seg/part-") for name in local)
    assert sorted(local) == sorted(remote)
    assert [name for name in local if local[name] != remote[name]] == []


# -- dvc repro with the dask backend ---------------------------------------------------------------------


def set_execution(root: Path, **block: Any) -> None:
    params = read_params(root)
    params["execution"] = block
    write_params(root, params)


def test_dvc_repro_on_the_cluster_matches_the_local_baseline(baseline_repo: Path, cluster: Any,
                                                             tmp_path: Path) -> None:
    root = clone_tree(baseline_repo, tmp_path / "repo")
    baseline = out_md5s(root)
    stages = [f"{stage}@{source}" for stage in PER_ARTICLE for source in ("seed", SOURCE)]
    set_execution(root, backend="dask", partition_size=1, dask={"scheduler": cluster.scheduler_address})
    ran = dvc(root, "repro", "--force", "--single-item", *stages)
    assert all(f"Running stage '{s}'" in ran.stdout for s in stages)
    assert differences(baseline, out_md5s(root)) == {}
    assert "up to date" in dvc(root, "status").stdout

    # The stage's own LocalCluster (started and closed by the stage command).
    set_execution(root, backend="dask", dask={"scheduler": "local-cluster", "n_workers": 2})
    dvc(root, "repro", "--force", "--single-item", f"normalise@{SOURCE}")
    assert differences(baseline, out_md5s(root)) == {}
