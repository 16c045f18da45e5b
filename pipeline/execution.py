"""Where a stage's per-article work runs: in this process, in forked processes, or on a Dask cluster.

A per-article stage (normalise, segment, ner, sentiment) reads its input as a sequence of *chunks*
(a fixed number of articles, a constant of the stage), maps a pure function over them and writes
the results in chunk order. This module owns only the mapping; the stage keeps reading and writing
its artefacts, so the files DVC tracks are written by one process, in one order, whatever runs the
work. The unit of work is always the same chunk, so the output is byte-identical for any backend,
process count, worker count or partition size (tests/test_execution.py, tests/test_dask_stages.py).

Backends (`execution:` in params.yaml, read by `ExecutionSettings.from_params`):

- `local`: the chunks run in this process, or in `n_process` processes forked after the worker
  state (the models) is built, so it is loaded once and shared copy-on-write: what the stages did
  before this module existed.
- `dask`: consecutive chunks are grouped into partitions of about `partition_size` articles; each
  partition is one Dask task, so one huge source is many tasks. A bounded number of partitions is
  in flight (`in_flight` per worker thread), and results are taken in submission order, so memory
  on the driver stays flat and the write order is deterministic. The worker state is built once per
  worker process (`worker_state`, a module-level cache keyed by the state's specification) and kept
  for every later task of any stage run that uses the same specification.

What travels to a worker: the chunk function (by reference: workers import the same `pipeline`
code, checked by a fingerprint), the state specification (paths and parameters, a few hundred
bytes), and the partition's input (texts, or segmented documents as DocBin bytes). Results travel
back. Model files are read by the workers from the paths in the specification: a cluster needs them
at the same absolute path (shared filesystem or an image with the project in it); see docs/scaling.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing as mp
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

BACKENDS = ("local", "dask")
LOCAL_CLUSTER = "local-cluster"

C = TypeVar("C")
R = TypeVar("R")
S = TypeVar("S")


class StateSpec(Protocol[S]):
    """A small, picklable description of what a worker needs (models, lexicons, compiled config).

    `build()` runs once per process; the spec's repr is its cache key, so it must say everything
    that makes two states differ (frozen dataclasses of paths and parameters do).
    """

    def build(self) -> S: ...


@dataclass(frozen=True)
class ExecutionSettings:
    """The `execution:` block of params.yaml. None of it changes a stage's output."""

    backend: str = "local"
    # Articles per Dask task; rounded to whole chunks of the stage (at least one chunk).
    partition_size: int = 512
    # Dask: `local-cluster`, or the address of a running scheduler (tcp://host:8786).
    scheduler: str = LOCAL_CLUSTER
    # Dask local-cluster only: worker processes, threads per worker, memory limit per worker.
    n_workers: int = 2
    threads_per_worker: int = 1
    memory_limit: str = "auto"
    # Dask: partitions queued per worker thread; bounds the results held on the driver.
    in_flight: int = 2
    # Dask: seconds to wait for a scheduler address to answer and for its first worker.
    timeout: float = 60.0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"execution.backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        for name in ("partition_size", "n_workers", "threads_per_worker", "in_flight"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"execution: {name} must be at least 1")

    @classmethod
    def from_params(cls, params: dict[str, Any] | None) -> ExecutionSettings:
        """From the `execution:` block: top-level `backend` and `partition_size`, the rest under `dask:`."""
        params = dict(params or {})
        dask_block = dict(params.pop("dask", None) or {})
        known = {f.name for f in fields(cls)}
        unknown = (set(params) | set(dask_block)) - known
        if unknown:
            raise ValueError(f"unknown execution settings: {', '.join(sorted(unknown))}")
        values = {**dask_block, **params}
        if values.get("memory_limit") is not None:
            values["memory_limit"] = str(values["memory_limit"])
        return cls(**values)


# -- worker-side state ---------------------------------------------------------------------------

_STATE: dict[tuple[str, str], Any] = {}
_STATE_LOCK = threading.Lock()  # a worker with several threads builds each state once


def worker_state(spec: StateSpec[S]) -> S:
    """The state `spec` describes, built on first use in this process and kept for later chunks.

    A forked pool inherits the parent's cache (built before the fork), and a Dask worker process
    keeps it between tasks, so models load once per process however many partitions arrive.
    """
    key = (f"{type(spec).__module__}.{type(spec).__qualname__}", repr(spec))
    if key not in _STATE:
        with _STATE_LOCK:
            if key not in _STATE:
                _STATE[key] = spec.build()
    return _STATE[key]


def _apply(func: Callable[[S, C], R], spec: StateSpec[S], chunk: C) -> R:
    return func(worker_state(spec), chunk)


def _apply_partition(func: Callable[[S, C], R], spec: StateSpec[S], partition: list[C]) -> list[R]:
    state = worker_state(spec)
    return [func(state, chunk) for chunk in partition]


# -- mapping -------------------------------------------------------------------------------------


def runs_in_process(settings: ExecutionSettings, n_process: int) -> bool:
    """True when chunk results never cross a process boundary (so they need not be serialisable)."""
    return settings.backend == "local" and n_process <= 1


def map_chunks(
    func: Callable[[S, C], R],
    spec: StateSpec[S],
    chunks: Iterable[C],
    settings: ExecutionSettings,
    n_process: int = 1,
    chunk_len: Callable[[C], int] = len,  # type: ignore[assignment]
) -> Iterator[R]:
    """`func(state, chunk)` for every chunk, results in chunk order, on the configured backend.

    `func` must be a module-level function and `spec` picklable when the work leaves the process;
    `chunk_len` (articles in a chunk) sizes Dask partitions.
    """
    if settings.backend == "dask":
        yield from _map_dask(func, spec, chunks, settings, chunk_len)
        return
    worker_state(spec)  # built before forking, so every process shares one copy
    if n_process <= 1:
        yield from map(partial(_apply, func, spec), chunks)
        return
    pool = mp.get_context("fork").Pool(n_process)
    try:
        yield from pool.imap(partial(_apply, func, spec), chunks)
    finally:
        pool.close()
        pool.join()


def partitions(chunks: Iterable[C], size: int, chunk_len: Callable[[C], int]) -> Iterator[list[C]]:
    """Consecutive chunks grouped until they hold at least `size` articles (the last may hold fewer)."""
    part: list[C] = []
    n = 0
    for chunk in chunks:
        part.append(chunk)
        n += chunk_len(chunk)
        if n >= size:
            yield part
            part, n = [], 0
    if part:
        yield part


def _map_dask(func: Callable[[S, C], R], spec: StateSpec[S], chunks: Iterable[C], settings: ExecutionSettings,
              chunk_len: Callable[[C], int]) -> Iterator[R]:
    with dask_client(settings) as client:
        pending: deque[Any] = deque()
        task = partial(_apply_partition, func, spec)
        try:
            for part in partitions(chunks, settings.partition_size, chunk_len):
                pending.append(client.submit(task, part, pure=False))
                # Asked again each time: an adaptive cluster (dask-jobqueue, dask-kubernetes) grows.
                if len(pending) >= max(1, sum(client.nthreads().values())) * settings.in_flight:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()


# -- clusters ------------------------------------------------------------------------------------


@contextlib.contextmanager
def dask_client(settings: ExecutionSettings) -> Iterator[Any]:
    """A `distributed.Client` on a fresh LocalCluster (closed on exit) or on a running scheduler.

    The LocalCluster listens on loopback only and has no dashboard, so it needs no free port and
    exposes nothing. Workers of a remote scheduler must run the same `pipeline` code: a worker whose
    code fingerprint differs could write different bytes, so that is an error, not a warning.
    """
    from distributed import Client, LocalCluster

    if settings.scheduler == LOCAL_CLUSTER:
        memory: str | None = None if settings.memory_limit in ("none", "None", "0") else settings.memory_limit
        with LocalCluster(n_workers=settings.n_workers, threads_per_worker=settings.threads_per_worker,
                          processes=True, host="127.0.0.1", dashboard_address=None, memory_limit=memory,
                          silence_logs=logging.WARNING) as cluster, Client(cluster) as client:
            yield client
        return
    with Client(settings.scheduler, timeout=settings.timeout) as client:
        client.wait_for_workers(1, timeout=settings.timeout)
        check_workers(client)
        yield client


def code_fingerprint(package: Path | None = None) -> str:
    """sha256 over the `pipeline` package's Python files (names and bytes), as this process sees them."""
    root = package or Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def check_workers(client: Any) -> None:
    """Raise unless every worker imports the same `pipeline` code as this process."""
    mine = code_fingerprint()
    theirs = client.run(code_fingerprint)
    wrong = sorted(addr for addr, fp in theirs.items() if fp != mine)
    if wrong:
        raise RuntimeError(f"Dask workers run different pipeline code than this process: {', '.join(wrong)} "
                           "(install the same revision on the workers; see docs/scaling.md)")
