"""Finding a public data set's split on disk, shared by every evaluation module."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def resolve(name: str, datasets: Mapping[str, T], aliases: Mapping[str, str]) -> tuple[str, T]:
    """Canonical name and description of a data set (folder names are accepted as aliases)."""
    key = aliases.get(name, name)
    if key not in datasets:
        raise ValueError(f"dataset must be one of {', '.join(datasets)}")
    return key, datasets[key]


def locate_split(dataset: str, folder: str, splits: Mapping[str, str], default_split: str,
                 data_dir: str | Path, split: str | None = None) -> Path:
    """The split's file in `data_dir`, which may be the data set's folder or the folder holding it."""
    split = split or default_split
    if split not in splits:
        raise ValueError(f"{dataset} split must be one of {', '.join(splits)}")
    data = Path(data_dir)
    for candidate in (data / splits[split], data / folder / splits[split]):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{splits[split]} not found in {data} or {data / folder}")
