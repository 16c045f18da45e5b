"""Every stage in dvc.yaml depends on all of the package code it runs.

DVC re-runs a stage only when one of its listed deps changes, so a module the stage imports but does
not list is a silent hole: edit it, and `dvc repro` keeps the old outputs as if they were current.
The import graph is read statically (every `import` in a module, including those inside functions,
followed transitively), starting from the imports inside the stage's `cmd_*` function in
pipeline/cli.py and the cli helpers it calls. Reading it statically over-approximates (a lazily
imported module counts even on a code path the defaults skip), which errs on the side of re-running.
dvc.yaml lists the whole package for every stage today; the check keeps any finer split honest.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

CLI = REPO / "pipeline" / "cli.py"


def _module_file(name: str) -> Path | None:
    base = REPO.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_names(node: ast.AST, package: str) -> set[str]:
    """Dotted names a node imports (both `m` and `m.attr` for `from m import attr`: either may be a module)."""
    names: set[str] = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Import):
            names |= {alias.name for alias in item.names}
        elif isinstance(item, ast.ImportFrom):
            base = item.module or ""
            if item.level:
                parts = package.split(".")[: len(package.split(".")) - item.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in item.names}
    return {name for name in names if name == "pipeline" or name.startswith("pipeline.")}


def _package_of(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = rel.parts if rel.name == "__init__" else rel.parts[:-1]
    return ".".join(p for p in parts if p != "__init__")


def _is_inert(path: Path) -> bool:
    """A module of only a docstring and constants (pipeline/__init__.py) cannot change an output."""
    for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
            continue
        return False
    return True


def _closure(names: set[str]) -> set[Path]:
    seen: set[Path] = set()
    todo = list(names)
    while todo:
        path = _module_file(todo.pop())
        if path is None or path in seen:
            continue
        seen.add(path)
        todo += _imported_names(ast.parse(path.read_text(encoding="utf-8")), _package_of(path))
    return {path for path in seen if not _is_inert(path)}


def _stage_entry_imports(command: str) -> set[str]:
    """Imports inside cli's cmd_<command> and, recursively, inside the cli helpers it calls."""
    functions = {
        node.name: node for node in ast.parse(CLI.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef)
    }
    names: set[str] = set()
    todo, done = ["cmd_" + command.replace("-", "_")], set()
    while todo:
        name = todo.pop()
        if name in done:
            continue
        done.add(name)
        function = functions[name]
        names |= _imported_names(function, "pipeline")
        todo += [
            call.func.id for call in ast.walk(function)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in functions
        ]
    return names


def _stages() -> list[tuple[str, str, list[str]]]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    out = []
    for name, stage in stages.items():
        body = stage.get("do", stage)
        words = body["cmd"].split()
        assert words[:3] == ["python", "-m", "pipeline"], f"{name}: not a pipeline command: {body['cmd']}"
        out.append((name, words[3], [d for d in body.get("deps", []) if isinstance(d, str)]))
    return out


def _covered(path: Path, deps: list[str]) -> bool:
    rel = path.relative_to(REPO).as_posix()
    return any(rel == dep or rel.startswith(dep.rstrip("/") + "/") for dep in deps)


STAGES = _stages()


@pytest.mark.parametrize(("stage", "command", "deps"), STAGES, ids=[s[0] for s in STAGES])
def test_stage_lists_every_module_it_runs(stage: str, command: str, deps: list[str]) -> None:
    code = _closure(_stage_entry_imports(command)) | {CLI}
    missing = sorted(p.relative_to(REPO).as_posix() for p in code if not _covered(p, deps))
    assert not missing, f"dvc.yaml stage {stage!r} runs code it does not depend on: {missing}"


def test_the_import_reader_follows_lazy_imports() -> None:
    """The checker itself: ner's closure reaches modules imported only inside functions."""
    code = {p.relative_to(REPO).as_posix() for p in _closure(_stage_entry_imports("ner"))}
    assert {"pipeline/ner.py", "pipeline/docstore.py", "pipeline/company_matcher.py"} <= code
    assert "pipeline/__init__.py" not in code  # docstring and a version string only
