"""pipeline.execution without a cluster: settings from params, partitions, local mapping and the
per-process state cache. The Dask backend itself is tested in tests/test_dask_stages.py."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from pipeline import execution
from pipeline.execution import ExecutionSettings, map_chunks, partitions, worker_state

BUILDS: list[int] = []


@dataclass(frozen=True)
class Offset:
    """A toy state: building it is counted, so a test can see how often it was built."""

    add: int

    def build(self) -> int:
        BUILDS.append(os.getpid())
        return self.add


def add_and_pid(state: int, chunk: list[int]) -> tuple[list[int], int]:
    return [x + state for x in chunk], os.getpid()


def test_settings_default_to_local() -> None:
    assert ExecutionSettings.from_params(None) == ExecutionSettings()
    assert ExecutionSettings.from_params({}).backend == "local"


def test_settings_read_the_dask_block() -> None:
    s = ExecutionSettings.from_params({"backend": "dask", "partition_size": 64,
                                       "dask": {"scheduler": "tcp://10.0.0.5:8786", "n_workers": 4,
                                                "memory_limit": "2GiB", "in_flight": 3}})
    assert (s.backend, s.partition_size, s.scheduler, s.n_workers, s.memory_limit, s.in_flight) == (
        "dask", 64, "tcp://10.0.0.5:8786", 4, "2GiB", 3)


@pytest.mark.parametrize("block", [{"backend": "spark"}, {"partition_size": 0}, {"dask": {"n_wrokers": 2}},
                                   {"partition": 5}])
def test_settings_reject_unknown_or_invalid_values(block: dict) -> None:
    with pytest.raises(ValueError):
        ExecutionSettings.from_params(block)


def test_the_params_file_block_parses(repo) -> None:  # type: ignore[no-untyped-def]
    import yaml

    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    assert ExecutionSettings.from_params(params["execution"]).backend == "local"


def test_partitions_hold_whole_chunks_of_about_the_size() -> None:
    chunks = [[1, 2, 3]] * 7
    parts = list(partitions(chunks, 7, len))
    assert [len(p) for p in parts] == [3, 3, 1]  # 9 >= 7 articles, then the rest
    assert [c for p in parts for c in p] == chunks
    assert [len(p) for p in partitions(chunks, 1, len)] == [1] * 7
    assert list(partitions([], 5, len)) == []


@pytest.mark.parametrize("n_process", [1, 2])
def test_local_map_keeps_order_and_builds_state_once(n_process: int) -> None:
    BUILDS.clear()
    execution._STATE.clear()
    chunks = [list(range(i, i + 3)) for i in range(0, 60, 3)]
    out = list(map_chunks(add_and_pid, Offset(100), chunks, ExecutionSettings(), n_process=n_process))
    assert [r for rs, _ in out for r in rs] == [x + 100 for x in range(60)]
    assert len(BUILDS) == 1 and BUILDS[0] == os.getpid()  # built here before forking, then inherited
    if n_process == 1:
        assert {pid for _, pid in out} == {os.getpid()}


def test_state_cache_is_keyed_by_the_specification() -> None:
    BUILDS.clear()
    execution._STATE.clear()
    assert worker_state(Offset(1)) == 1
    assert worker_state(Offset(1)) == 1
    assert worker_state(Offset(2)) == 2
    assert len(BUILDS) == 2


def test_code_fingerprint_is_stable_and_content_based(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.py").write_text("x = 1\n")
    first = execution.code_fingerprint(tmp_path)
    assert execution.code_fingerprint(tmp_path) == first
    (tmp_path / "a.py").write_text("x = 2\n")
    assert execution.code_fingerprint(tmp_path) != first


def test_scheduler_address_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.cli import execution_settings

    params = {"execution": {"backend": "local", "partition_size": 64, "dask": {"in_flight": 3}}}
    assert execution_settings(params).backend == "local"
    with pytest.raises(SystemExit):
        execution_settings({"execution": {"backend": "spark"}})
    monkeypatch.setenv("NEWSLENS_DASK_SCHEDULER", "tcp://10.0.0.5:8786")
    s = execution_settings(params)
    assert (s.backend, s.scheduler, s.partition_size, s.in_flight) == ("dask", "tcp://10.0.0.5:8786", 64, 3)
