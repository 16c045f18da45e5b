"""Link the statistical model's ORG strings to knowledge-base companies, by normalised name.

The model finds organisations the KB matcher cannot (a full legal name, a name in an unusual
form). A model ORG is linked when, after case folding and removing legal-form and generic suffixes
(股份有限公司, 控股, 集团, 公司 …), it equals a KB name that is unambiguous; everything else stays
unlinked and is reported, so a user can grow the KB from what the news actually says.
"""

from __future__ import annotations

import re

from pipeline.kb import KnowledgeBase, surface_key

SUFFIXES = (
    "股份有限公司", "有限责任公司", "有限公司", "控股集团", "集团公司", "控股", "集团", "股份", "公司",
    "科技", "网络", "技术", "(中国)", "（中国）", "中国",
    " Inc.", " Inc", " Ltd.", " Ltd", " Co.", " Corp.", " Corp", " Group", " Holdings", " Limited",
)
_SPACES = re.compile(r"\s+")


def candidate_keys(name: str) -> list[str]:
    """The name, then the name with suffixes stripped one at a time (longest suffix first)."""
    key = _SPACES.sub(" ", name.strip())
    keys = [surface_key(key)]
    changed = True
    while changed:
        changed = False
        for suffix in SUFFIXES:
            if key.lower().endswith(suffix.lower()) and len(key) > len(suffix) + 1:
                key = key[: -len(suffix)].strip()
                keys.append(surface_key(key))
                changed = True
                break
    return keys


class Linker:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.index = kb.surface_index()

    def link(self, name: str) -> str | None:
        for key in candidate_keys(name):
            cands = self.index.get(key)
            if cands and len(cands) == 1 and not cands[0][1]:
                return cands[0][0]
        return None
