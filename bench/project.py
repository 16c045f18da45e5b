"""A temporary copy of the project in which benchmarks run the real stage commands.

The copy holds the code, configuration, knowledge base, lexicon sources, gold set and the already
built models (`models/zh_pipeline`, `models/lexicons`), and no data outputs. Its `params.yaml` lists
only the benchmark's own sources. Stages run as `python -m pipeline <stage> ...` child processes, so
each figure includes interpreter start-up and model loading exactly as `dvc repro` runs them.
For `dvc repro` runs the copy is made a git repository and the two model stages are recorded as
built (`dvc commit --force build_models build_lexicons`), so DVC reuses the copied models instead
of fetching and rebuilding them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench.proc import Measured, run_measured

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# What a copy takes from the working tree: code and configuration, never data outputs.
_FILES = (".dvcignore", ".gitignore", "dvc.yaml", "params.yaml", "pyproject.toml", ".dvc/config", ".dvc/.gitignore")
_DIRS = ("pipeline", "configs", "data/kb", "data/lexicons", "data/gold", ".dvc/plots", "models/zh_pipeline",
         "models/lexicons")

# Stages in dvc.yaml order; the per-source ones take the source name.
PER_SOURCE_STAGES = ("ingest", "normalise", "fingerprint", "segment", "ner", "sentiment")
GLOBAL_STAGES = ("evaluate-gold", "aggregate", "report")
# Stages with an `n_process` parameter.
PARALLEL_STAGES = ("normalise", "fingerprint", "segment", "ner", "sentiment")


class Project:
    """A benchmark copy of the project rooted at `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def code_sha(self) -> str:
        """A short hash of the copied pipeline code: which code a figure was measured on."""
        digest = hashlib.sha256()
        for path in sorted((self.root / "pipeline").rglob("*.py")):
            digest.update(str(path.relative_to(self.root)).encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()[:12]

    @property
    def params_path(self) -> Path:
        return self.root / "params.yaml"

    def read_params(self) -> dict[str, Any]:
        return yaml.safe_load(self.params_path.read_text(encoding="utf-8"))

    def write_params(self, params: dict[str, Any]) -> None:
        self.params_path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")

    def set_params(self, sources: dict[str, dict[str, Any]] | None = None, processes: int | None = None) -> None:
        """Replace the configured sources and/or set the process count of every stage that forks
        (`n_process` of normalise, fingerprint, segment, ner and sentiment)."""
        params = self.read_params()
        if sources is not None:
            params["sources"] = sources
        if processes is not None:
            for stage in PARALLEL_STAGES:
                params.setdefault(stage, {})["n_process"] = processes
        self.write_params(params)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        env["NEWSLENS_PROGRESS"] = "0"
        env["NEWSLENS_CACHE"] = str(REPO / ".cache" / "downloads")  # never used: models are copied
        return env

    def stage(self, stage: str, *args: str) -> Measured:
        """Run `python -m pipeline <stage> <args>` in the copy and measure it."""
        return run_measured([sys.executable, "-m", "pipeline", stage, *args], self.root, self.env())

    def stage_commands(self, source: str) -> list[tuple[str, list[str]]]:
        """(stage label, command arguments) of every stage of a one-source run, in dvc.yaml order."""
        steps = [(f"{s}", [s, source]) for s in PER_SOURCE_STAGES]
        return steps + [(s, [s]) for s in GLOBAL_STAGES]

    def dvc(self, *args: str) -> Measured:
        """Run the venv's `dvc` in the copy and measure it."""
        return run_measured([str(BIN / "dvc"), *args], self.root, self.env())

    def init_dvc(self) -> None:
        """Make the copy a git + DVC repository whose model stages count as built (nothing fetched)."""
        subprocess.run(["git", "init", "-q"], cwd=self.root, check=True)
        self.dvc("commit", "--force", "build_models", "build_lexicons")


def create_project(dest: Path, repo: Path = REPO) -> Project:
    """Copy code, configuration and built models from `repo` into the new folder `dest`."""
    if dest.exists():
        raise FileExistsError(dest)
    for d in _DIRS:
        if not (repo / d).exists():
            raise FileNotFoundError(f"{repo / d} is missing (models are built by `make models`)")
        shutil.copytree(repo / d, dest / d, ignore=shutil.ignore_patterns("__pycache__"))
    for f in _FILES:
        if (repo / f).exists():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / f, dest / f)
    return Project(dest)


def jsonl_source(path: str) -> dict[str, Any]:
    """The params.yaml entry of a jsonl source written by `bench.corpus.write_jsonl`."""
    return {"format": "jsonl", "path": path}


def source_names(params: dict[str, Any]) -> Sequence[str]:
    return list((params.get("sources") or {}).keys())
