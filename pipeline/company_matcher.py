"""Finding knowledge-base companies in a segmented document, and deciding ambiguous names.

Matching runs on tokens (a spaCy PhraseMatcher over every name and its OpenCC variants, Latin names
case-insensitive), because the segmenter keeps names whole and token matches cannot start inside a
word. A character scan then catches long, unambiguous names the segmenter still split (市场对比亚迪:
对比/亚迪), only where no token match overlaps, so 京东方面 stays 京东 and never becomes 京东方.

An ambiguous name (小米, 苹果, 饿了么, 菜鸟, 快手 …: marked `context` in the KB) counts only with
company context, any one of:
  * a cue word (公司, 集团, 平台, 旗下, 股价, 财报, App, 商家, 用户, 手机 …) within `cue_window`
    tokens before or after it;
  * another company mention within the same window (菜鸟开放给顺丰; 苹果和小米);
  * an unambiguous mention of the same company anywhere in the article (小米集团 … 小米);
  * the statistical model tagging a longer ORG that contains it (小米科技园区 …); the model's
    tag on the bare word alone is not enough: LAC tags the fruit in 吃了两个苹果 as ORG.
So 你饿了么？, 菜鸟司机, 一碗小米粥 and 吃了两个苹果 hold no company, while 饿了么平台, 菜鸟网络, 小米手机 and
苹果公司 do. A name shared by several entries (all ambiguous) goes to the entry that has an
unambiguous mention in the article, and is dropped when none does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.vocab import Vocab

from pipeline.doc_text import doc_text
from pipeline.kb import KnowledgeBase, has_han, script_variants, surface_key

DEFAULT_CUES = (
    "公司", "集团", "平台", "旗下", "股价", "股份", "财报", "业绩", "营收", "市值", "港股", "美股", "上市",
    "App", "APP", "app", "商家", "用户", "手机", "新机", "骑手", "外卖", "门店", "品牌", "创始人", "董事长",
    "总裁", "CEO", "高管", "股东", "网络", "科技", "汽车", "新车", "物流", "快递", "电商", "直播", "官方",
    "发布会", "客服", "系统", "芯片", "产品", "员工", "融资", "收购", "投资",
)


@dataclass(slots=True)
class Mention:
    start: int  # character offsets in the document text, end exclusive
    end: int
    text: str
    label: str  # ORG | PER | LOC
    company_id: str | None
    method: str  # kb | kb_char | model
    candidates: tuple[tuple[str, str], ...] = field(default=())  # (company_id, rule) for KB names
    # A model's own "is a company" opinion for an unlinked span (trained NER: True for its company
    # class, False for organisation/government); None when the model has no such class (LAC).
    model_company: bool | None = None


class CompanyMatcher:
    def __init__(
        self,
        kb: KnowledgeBase,
        vocab: Vocab,
        make_doc: Callable[[str], Doc],
        cues: Iterable[str] = DEFAULT_CUES,
        cue_window: int = 3,
        char_fallback_min_len: int = 3,
    ) -> None:
        self.kb = kb
        self.cues = frozenset(cues)
        self.cue_window = cue_window
        self.index = kb.surface_index()
        self.matcher = PhraseMatcher(vocab, attr="LOWER")
        patterns: dict[str, list[Doc]] = defaultdict(list)
        seen: set[str] = set()
        for company in kb.companies.values():
            for surface in company.surfaces:
                for form in (surface, *script_variants(surface)):
                    if form in seen:
                        continue
                    seen.add(form)
                    patterns[surface_key(form)].append(make_doc(form))
        for key, docs in patterns.items():
            self.matcher.add(key, docs)
        # Character fallback: long, unambiguous Chinese names only.
        self.char_names: dict[str, str] = {}
        for key, cands in self.index.items():
            if len(key) >= char_fallback_min_len and has_han(key) and len(cands) == 1 and not cands[0][1]:
                self.char_names[key] = cands[0][0]
        lengths: dict[str, set[int]] = defaultdict(set)
        for name in self.char_names:
            lengths[name[0]].add(len(name))
        self.char_lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}

    # -- candidate spans ---------------------------------------------------------------------
    def candidates(self, doc: Doc) -> list[tuple[int, int, Mention]]:
        """Token-aligned KB matches (longest first, no overlaps) as (start_token, end_token, mention)."""
        strings = doc.vocab.strings
        spans = sorted(
            ((s, e, strings[m]) for m, s, e in self.matcher(doc)), key=lambda x: (-(x[1] - x[0]), x[0])
        )
        taken = [False] * len(doc)
        out = []
        for s, e, key in spans:
            if any(taken[s:e]):
                continue
            for i in range(s, e):
                taken[i] = True
            span = doc[s:e]
            cands = tuple(self.index.get(key, ()))
            out.append((s, e, Mention(span.start_char, span.end_char, span.text, "ORG", None, "kb", cands)))
        out.sort(key=lambda x: x[0])
        return out

    def char_candidates(self, text: str, covered: list[tuple[int, int]]) -> list[Mention]:
        """Long names found in the raw characters where no token match or other name overlaps."""
        out = []
        p, n = 0, len(text)
        while p < n:
            lens = self.char_lengths.get(text[p])
            step = 1
            if lens:
                for length in lens:
                    frag = text[p : p + length]
                    if len(frag) == length and frag in self.char_names:
                        if not any(s < p + length and p < e for s, e in covered):
                            cid = self.char_names[frag]
                            out.append(Mention(p, p + length, frag, "ORG", None, "kb_char", ((cid, ""),)))
                        step = length
                        break
            p += step
        return out

    # -- decisions -----------------------------------------------------------------------------
    def decide(
        self,
        doc: Doc,
        token_cands: list[tuple[int, int, Mention]],
        char_cands: list[Mention],
        model_spans: Iterable[tuple[int, int, str]] = (),
    ) -> list[Mention]:
        """Company mentions of the document, ambiguity decided (see the module docstring)."""
        model_orgs = [(s, e) for s, e, label in model_spans if label == "ORG"]
        # Unambiguous, single-entry names are companies outright.
        sure_ids: set[str] = set()
        for _, _, m in token_cands:
            if len(m.candidates) == 1 and not m.candidates[0][1]:
                m.company_id = m.candidates[0][0]
                sure_ids.add(m.company_id)
        for m in char_cands:
            m.company_id = m.candidates[0][0]
            sure_ids.add(m.company_id)
        sure_positions = [s for s, _, m in token_cands if m.company_id]
        for s, e, m in token_cands:
            if m.company_id:
                continue
            in_article = [cid for cid, _ in m.candidates if cid in sure_ids]
            if len(m.candidates) > 1:
                if len(in_article) == 1:
                    m.company_id = in_article[0]
                continue
            near_company = any(p != s and s - self.cue_window <= p < e + self.cue_window for p in sure_positions)
            covered_by_model = any(
                ms <= m.start and m.end <= me and me - ms > m.end - m.start for ms, me in model_orgs
            )
            if in_article or near_company or covered_by_model or self._cue_near(doc, s, e):
                m.company_id = m.candidates[0][0]
        found = [m for _, _, m in token_cands if m.company_id] + char_cands
        return sorted(found, key=lambda m: m.start)

    def resolve(self, doc: Doc, model_spans: Iterable[tuple[int, int, str]] = ()) -> list[Mention]:
        token_cands = self.candidates(doc)
        char_cands = self.char_candidates(doc_text(doc), [(m.start, m.end) for _, _, m in token_cands])
        return self.decide(doc, token_cands, char_cands, model_spans)

    def _cue_near(self, doc: Doc, start: int, end: int) -> bool:
        # Only the window's tokens are read: listing every word of the doc for this built a Token
        # object per word per document.
        lo = max(0, start - self.cue_window)
        hi = min(len(doc), end + self.cue_window)
        return any(doc[i].text in self.cues for i in (*range(lo, start), *range(end, hi)))
