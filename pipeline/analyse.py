"""`python -m pipeline analyse FILE`: the whole chain on one article, without DVC.

For a quick look at one article: the same decoding, normalisation, segmentation and NER as the
stages (same params.yaml), printed as a table or as JSON lines for scripts.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pipeline.encoding import decode_bytes
from pipeline.lexicons import load_lexicons
from pipeline.ner import _kb, ner_pipeline
from pipeline.normalise import NormaliseConfig, Normaliser
from pipeline.offsets import original_span
from pipeline.sentiment import Lexicon, SentimentConfig
from pipeline.sentiment_stage import score_rows


@functools.cache
def _lexicon(path: str) -> Lexicon:
    return Lexicon(load_lexicons(Path(path)))


def analyse_text(raw: bytes | str, params: dict[str, Any], model_path: str | os.PathLike[str]) -> dict[str, Any]:
    from pipeline.cli import _ner_params, ner_model_choice

    text = decode_bytes(raw).text if isinstance(raw, bytes) else raw
    norm = Normaliser(NormaliseConfig.from_params(params.get("normalise") or {})).normalise(text)
    ner_args = _ner_params(params)
    nlp = ner_pipeline(model_path, **ner_args, ner_model=ner_model_choice(params)[0])
    kb = _kb(str(ner_args["kb_path"]))
    doc = nlp(norm.text)
    linked = [{"start_char": m.start, "end_char": m.end, "company_id": m.company_id,
               "group_id": kb.group_of(m.company_id)} for m in doc._.mentions if m.company_id]
    article = {"doc_id": "analyse", "published_at": None, "title": None, "text": norm.text,
               "text_original": text, "offsets": norm.anchors}
    tokens = ([t.text for t in doc], [bool(t.whitespace_) for t in doc], [bool(t.is_sent_start) for t in doc])
    lexicon = _lexicon((params.get("lexicons") or {}).get("out_dir", "models/lexicons"))
    cfg = SentimentConfig.from_params(params.get("sentiment") or {})
    sentiment = {(r["level"], r["company_id"]): r for r in score_rows(tokens, article, linked, "analyse", lexicon, cfg)}
    mentions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    others: Counter[tuple[str, str]] = Counter()
    for m in doc._.mentions:
        if m.company_id is None:
            others[(m.label, m.text)] += 1
            continue
        s, e = original_span(norm.anchors, m.start, m.end)
        mentions[m.company_id].append({"text": m.text, "original": text[s:e], "start": m.start, "method": m.method})
    companies = []
    for cid, ms in sorted(mentions.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        row = sentiment[("company", cid)]
        companies.append({
            "company_id": cid,
            "name": kb[cid].name,
            "group_id": kb.group_of(cid),
            "mentions": len(ms),
            "surface_forms": sorted({m["original"] for m in ms}),
            "label": row["label"],
            "score": row["score"],
            "evidence": json.loads(row["evidence"]),
        })
    groups = [{"group_id": gid, "mentions": r["mentions"], "label": r["label"], "score": r["score"],
               "evidence": json.loads(r["evidence"])}
              for (level, gid), r in sorted(sentiment.items()) if level == "group"]
    return {
        "script": norm.script,
        "characters": len(norm.text),
        "flags": norm.flags,
        "companies": companies,
        "groups": groups,
        "other_entities": [{"label": lbl, "text": t, "count": c} for (lbl, t), c in others.most_common()],
    }


def format_json(result: dict[str, Any]) -> str:
    return "\n".join(json.dumps(c, ensure_ascii=False, sort_keys=True) for c in result["companies"])


def format_table(result: dict[str, Any]) -> str:
    lines = [f"script: {result['script']}, {result['characters']} characters, "
             f"{len(result['flags'])} flagged spans, {len(result['companies'])} companies"]
    if result["companies"]:
        width = max(len(c["company_id"]) for c in result["companies"])
        lines.append(f"{'company_id'.ljust(width)}  {'group_id'.ljust(12)}  mentions  {'label'.ljust(8)}   score  "
                     "as written / evidence")
        for c in result["companies"]:
            ev = c["evidence"][0]["original"] if c["evidence"] else ""
            lines.append(f"{c['company_id'].ljust(width)}  {c['group_id'].ljust(12)}  {c['mentions']:>8}  "
                         f"{c['label'].ljust(8)}  {c['score']:+.2f}  " + "、".join(c["surface_forms"]))
            if ev:
                lines.append(" " * (width + 2) + "  └ " + (ev if len(ev) <= 80 else ev[:79] + "…"))
    return "\n".join(lines)
