"""Run the real `dvc` in a temporary copy of the repository and read which stages it ran."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

# Build outputs and caches that a fresh copy must not inherit.
_SKIP = {".venv", ".git", ".pytest_cache", ".ruff_cache", "__pycache__", "ingested", "normalised", "segmented",
         "zh_pipeline", "tmp", "cache", ".cache", "ner_trained", "ner_corpus"}
_RAN = re.compile(r"^Running stage '([^']+)'", re.MULTILINE)


def copy_repo(dest: Path, sources: list[str]) -> Path:
    """Copy the project to `dest` with only the named sources configured and no build outputs."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).relative_to(REPO)
        skipped = {n for n in names if n in _SKIP}
        if rel == Path("data/sources"):
            skipped |= {n for n in names if n not in sources}
        if rel == Path("."):
            skipped |= {"dvc.lock", "metrics", "plots", "reports"}
        return skipped

    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    params = yaml.safe_load((dest / "params.yaml").read_text(encoding="utf-8"))
    params["sources"] = {k: v for k, v in params["sources"].items() if k in sources}
    write_params(dest, params)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    return dest


def clone_tree(src: Path, dest: Path) -> Path:
    """A copy of a prepared repository, outputs, dvc.lock and DVC cache included."""
    shutil.copytree(src, dest, symlinks=True)
    return dest


def write_params(root: Path, params: dict) -> None:
    (root / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")


def read_params(root: Path) -> dict:
    return yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))


def dvc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["NEWSLENS_PROGRESS"] = "0"
    # Share the project's download cache so a copy does not fetch the pinned model files again.
    env["NEWSLENS_CACHE"] = str(REPO / ".cache" / "downloads")
    proc = subprocess.run([str(Path(sys.executable).parent / "dvc"), *args], cwd=root, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="test", GIT_AUTHOR_EMAIL="test@example.invalid",
               GIT_COMMITTER_NAME="test", GIT_COMMITTER_EMAIL="test@example.invalid")
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout


def stages_run(output: str) -> set[str]:
    return set(_RAN.findall(output))
