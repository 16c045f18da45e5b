"""Chinese script: detect Simplified vs Traditional, and convert with OpenCC.

Detection counts characters that exist only in one script (from OpenCC's own character tables), so
it costs one pass and needs no model. Conversion uses the OpenCC configuration from params; `auto`
converts only text that holds Traditional-only characters, so Simplified news pays nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path

import opencc

CONFIGS = ("t2s", "hk2s", "tw2s", "tw2sp", "none", "auto")


class Converter:
    """OpenCC's conversion, minus the work on text it would leave unchanged.

    The pure-Python OpenCC splits a line at its separators (punctuation, spaces) and tries every
    substring of every piece against its dictionaries, longest first: that search was two thirds of
    the normalise stage, spent mostly on pieces with nothing to convert (every clause of a Simplified
    article, and the clauses of a Traditional one written alike in both scripts). A piece changes
    only if some dictionary key occurs in it, and every key holds at least one *trigger* character
    (each one-character key, and for a longer key made only of other characters, one of its own), so
    a piece without a trigger is kept as it is and only the others go through OpenCC. The output is
    OpenCC's, character for character (tests/test_normalise.py compares them on every bundled source).
    """

    def __init__(self, config: str) -> None:
        self._cc = opencc.OpenCC(config)
        self._split = self._cc.split_chars_re.split
        self.triggers = _triggers(self._cc)

    def __call__(self, text: str) -> str:
        if self.triggers is None:
            return self._cc.convert(text)
        if self.triggers.isdisjoint(text):
            return text
        # split() alternates pieces and the separators between them (at odd indices, never converted).
        parts = self._split(text)
        return "".join(p if i % 2 or self.triggers.isdisjoint(p) else self._cc.convert(p)
                       for i, p in enumerate(parts))


def _triggers(cc: opencc.OpenCC) -> frozenset[str] | None:
    """Characters of which every dictionary key in the converter's chain holds one; None when the
    chain is not laid out as this opencc version lays it out (then every line is converted)."""
    try:
        keys: list[Iterable[str]] = [d.keys() for group in cc._dict_chain_data for _, _, d in group]
    except (AttributeError, TypeError, ValueError):
        return None
    triggers = {k for ks in keys for k in ks if len(k) == 1}
    for ks in keys:
        for key in ks:
            if triggers.isdisjoint(key):
                triggers.add(max(key))
    return frozenset(triggers)


@functools.cache
def _converter(config: str) -> Converter:
    return Converter(config)


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


def converter(config: str) -> Callable[[str], str]:
    """The conversion for `config` (one OpenCC configuration, or none), built once per process."""
    if config == "none":
        return lambda s: s
    return _converter(config)
