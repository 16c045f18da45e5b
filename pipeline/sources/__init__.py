"""Source adapters: one per input format, all yielding the same Article record (or a Reject).

An adapter is a function `read(source, path, options) -> Iterator[Article | Reject]`, registered
under its format name with `@register("name")`. Adding a news source in an existing format is a
params.yaml entry; adding a format is one module here with one registered function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipeline.records import Article, Reject

Adapter = Callable[[str, Path, dict[str, Any]], Iterator[Article | Reject]]

ADAPTERS: dict[str, Adapter] = {}


def register(name: str) -> Callable[[Adapter], Adapter]:
    def wrap(fn: Adapter) -> Adapter:
        ADAPTERS[name] = fn
        return fn

    return wrap


def get_adapter(name: str) -> Adapter:
    if name not in ADAPTERS:
        known = ", ".join(sorted(ADAPTERS))
        raise ValueError(f"unknown source format {name!r}; known formats: {known}")
    return ADAPTERS[name]


# Import the adapters so they register themselves.
from pipeline.sources import feed, html, tabular, text  # noqa: E402, F401
