"""Chinese script: detect Simplified vs Traditional, and convert with OpenCC.

Detection counts characters that exist only in one script (from OpenCC's own character tables), so
it costs one pass and needs no model. Conversion uses the OpenCC configuration from params; `auto`
converts only text that holds Traditional-only characters, so Simplified news pays nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path

import opencc

CONFIGS = ("t2s", "hk2s", "tw2s", "tw2sp", "none", "auto")


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _one_way(table: str) -> frozenset[str]:
    """Characters that the table maps away and never to themselves."""
    path = Path(opencc.__file__).parent / "dictionary" / table
    chars = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" not in line:
            continue
        key, targets = line.split("\t", 1)
        if len(key) == 1 and key not in targets.split():
            chars.add(key)
    return frozenset(chars)


@functools.cache
def traditional_only() -> frozenset[str]:
    return _one_way("TSCharacters.txt")


@functools.cache
def simplified_only() -> frozenset[str]:
    return _one_way("STCharacters.txt")


def detect_script(text: str, threshold: float = 0.9) -> str:
    """'simplified', 'traditional' or 'mixed' by the share of script-specific characters."""
    chars = set(text)
    trad = traditional_only() & chars
    simp = simplified_only() & chars
    if not trad:
        return "simplified"
    if not simp:
        return "traditional"
    n_trad = sum(text.count(c) for c in trad)
    n_simp = sum(text.count(c) for c in simp)
    share = n_trad / (n_trad + n_simp)
    if share >= threshold:
        return "traditional"
    if share <= 1 - threshold:
        return "simplified"
    return "mixed"


def choose_config(config: str, text: str) -> str:
    """The OpenCC configuration to run on `text`; `auto` picks t2s only when Traditional characters
    are present (a Simplified article quoting a Traditional phrase included)."""
    if config not in CONFIGS:
        raise ValueError(f"unknown OpenCC config {config!r}; choose one of {', '.join(CONFIGS)}")
    if config == "auto":
        return "t2s" if traditional_only() & set(text) else "none"
    return config


def converter(config: str):
    if config == "none":
        return lambda s: s
    return _converter(config).convert
