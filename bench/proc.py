"""Run one command as a child process and measure it: wall time, CPU time, peak memory.

Peak memory is reported two ways:

- `max_rss_mib`: the kernel's high-water mark of resident memory of the largest single process among
  the command and the workers it forked and waited for, as `/usr/bin/time` reports it. The command
  runs under /usr/bin/time rather than being read with wait4 here, because a child's ru_maxrss
  starts from the high-water mark of the process it was forked (vfork'd) from: under this Python
  process it would never read below this process's own peak;
- `peak_pss_mib`: the highest sum of proportional set sizes (PSS: shared pages split between the
  processes sharing them) over the child and all its descendants, sampled every `interval` seconds.
  With forked workers this is the real footprint of the stage; with one process it is close to RSS
  but may miss a peak shorter than the sampling interval.

The sampler also keeps each process's CPU time (user + system, from /proc/<pid>/stat) as last seen,
so a run with forked workers reports `busiest_cpu_s`, the CPU time of its busiest process, and
`critical_cpu_s`, the CPU time on the critical path: what the main process used before its first
worker appeared (loading models, serial), plus the larger of the busiest worker and the main
process's own later work (which overlaps with the workers'). On free cores a stage cannot finish
faster than that, which estimates the speedup when other work on the machine makes the wall-clock
speedup meaningless. With one process both equal the process's CPU time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measured:
    """What one run of a command cost."""

    cmd: str
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    max_rss_mib: float
    peak_pss_mib: float
    busiest_cpu_s: float
    critical_cpu_s: float
    main_cpu_s: float  # the command's own process only (for `dvc repro`: DVC's own work)
    processes: int
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["cpu_s"] = round(self.cpu_s, 3)
        d["stdout"] = self.stdout[-2000:]
        d["stderr"] = self.stderr[-2000:]
        return d


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            kids.extend(int(x) for x in text.split())
    except OSError:
        pass
    return kids


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)
    except (OSError, ValueError, IndexError):
        return None


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class _PssSampler(threading.Thread):
    """Polls a process tree until stopped: the largest summed PSS, and each process's CPU time.

    With `wrapped`, the root is /usr/bin/time and the measured command is its (only) child."""

    def __init__(self, pid: int, interval: float, wrapped: bool = False) -> None:
        super().__init__(daemon=True)
        self.root = pid
        self.wrapped = wrapped
        self.main: int | None = None if wrapped else pid
        self.interval = interval
        self.peak_kib = 0
        self.cpu: dict[int, float] = {}
        self.prefork_cpu: float | None = None  # the main process's CPU time when a child first appeared
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            if self.main is None:
                kids = _children(self.root)
                self.main = kids[0] if kids else None
            if self.main is not None:
                self._sample(self.main)
            self._stop_event.wait(self.interval)

    def _sample(self, main: int) -> None:
        tree = _tree(main)
        self.peak_kib = max(self.peak_kib, sum(_pss_kib(p) for p in tree))
        for p in tree:
            cpu = _cpu_s(p)
            if cpu is not None:
                self.cpu[p] = max(cpu, self.cpu.get(p, 0.0))
        if self.prefork_cpu is None and len(tree) > 1:
            self.prefork_cpu = self.cpu.get(main, 0.0)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def critical_cpu(self, main_cpu: float) -> float:
        """Pre-fork CPU of the main process + max(busiest worker, the main process's later CPU)."""
        if self.prefork_cpu is None:
            return main_cpu
        workers = [c for p, c in self.cpu.items() if p != self.main]
        return self.prefork_cpu + max(max(workers, default=0.0), main_cpu - self.prefork_cpu)


def _own_cpu(sampler: _PssSampler, usage: os.struct_rusage | Any) -> float:
    """The main process's own CPU time: exact (from wait4) when it had no children, else as sampled."""
    if len(sampler.cpu) <= 1 or sampler.main is None:
        return float(usage.ru_utime + usage.ru_stime)
    return sampler.cpu.get(sampler.main, 0.0)


TIME = shutil.which("time", path="/usr/bin")


def _read_max_rss_kib(path: Path) -> int | None:
    try:
        return int(path.read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def run_measured(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None,
                 interval: float = 0.2, check: bool = True) -> Measured:
    """Run `cmd` in `cwd` and return its wall time, CPU time (user + sys, workers included) and memory."""
    with tempfile.TemporaryDirectory(prefix="bench-time-") as tmp:
        rss_file = Path(tmp) / "maxrss" if TIME else None
        wrapped = [TIME, "-f", "%M", "-o", str(rss_file), *cmd] if TIME else list(cmd)
        return _run(list(cmd), wrapped, cwd, env, interval, check, rss_file)


def _run(cmd: list[str], wrapped: list[str], cwd: Path, env: dict[str, str] | None, interval: float,
         check: bool, rss_file: Path | None) -> Measured:
    t0 = time.perf_counter()
    proc = subprocess.Popen(wrapped, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = _PssSampler(proc.pid, interval, wrapped=rss_file is not None)
    sampler.start()
    out: list[str] = []
    err: list[str] = []
    readers = [threading.Thread(target=lambda s, b: b.append(s.read()), args=(stream, buf), daemon=True)
               for stream, buf in ((proc.stdout, out), (proc.stderr, err))]
    for r in readers:
        r.start()
    # wait4 (not Popen.wait) so that the child's resource usage comes back with its exit status.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    sampler.stop()
    for r in readers:
        r.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    max_rss_kib = _read_max_rss_kib(rss_file) if rss_file else None
    own_cpu = _own_cpu(sampler, usage)
    result = Measured(
        cmd=" ".join(cmd), returncode=proc.returncode, wall_s=round(wall, 3), user_s=round(usage.ru_utime, 3),
        sys_s=round(usage.ru_stime, 3), max_rss_mib=round((max_rss_kib or usage.ru_maxrss) / 1024, 1),
        peak_pss_mib=round(sampler.peak_kib / 1024, 1),
        busiest_cpu_s=round(max(sampler.cpu.values(), default=0.0), 3),
        critical_cpu_s=round(sampler.critical_cpu(own_cpu), 3), main_cpu_s=round(own_cpu, 3),
        processes=len(sampler.cpu),
        stdout="".join(out), stderr="".join(err),
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"{result.cmd} failed in {cwd} ({result.returncode}):\n{result.stderr[-3000:]}")
    return result
