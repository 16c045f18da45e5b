"""`python -m pipeline analyse FILE`: the whole chain on one article, without DVC.

For a quick look at one article: the same decoding, normalisation, segmentation and NER as the
stages (same params.yaml), printed as a table or as JSON lines for scripts.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from typing import Any

from pipeline.encoding import decode_bytes
from pipeline.ner import _kb, ner_pipeline
from pipeline.normalise import NormaliseConfig, Normaliser
from pipeline.offsets import original_span


def analyse_text(raw: bytes | str, params: dict[str, Any], model_path: str | os.PathLike[str]) -> dict[str, Any]:
    from pipeline.cli import _ner_params

    text = decode_bytes(raw).text if isinstance(raw, bytes) else raw
    norm = Normaliser(NormaliseConfig.from_params(params.get("normalise") or {})).normalise(text)
    ner_args = _ner_params(params)
    nlp = ner_pipeline(model_path, **ner_args)
    kb = _kb(str(ner_args["kb_path"]))
    doc = nlp(norm.text)
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
        companies.append({
            "company_id": cid,
            "name": kb[cid].name,
            "group_id": kb.group_of(cid),
            "mentions": len(ms),
            "surface_forms": sorted({m["original"] for m in ms}),
        })
    return {
        "script": norm.script,
        "characters": len(norm.text),
        "flags": norm.flags,
        "companies": companies,
        "other_entities": [{"label": lbl, "text": t, "count": c} for (lbl, t), c in others.most_common()],
    }


def format_json(result: dict[str, Any]) -> str:
    return "\n".join(json.dumps(c, ensure_ascii=False, sort_keys=True) for c in result["companies"])


def format_table(result: dict[str, Any]) -> str:
    lines = [f"script: {result['script']}, {result['characters']} characters, "
             f"{len(result['flags'])} flagged spans, {len(result['companies'])} companies"]
    if result["companies"]:
        width = max(len(c["company_id"]) for c in result["companies"])
        lines.append(f"{'company_id'.ljust(width)}  {'group_id'.ljust(12)}  mentions  as written")
        for c in result["companies"]:
            lines.append(f"{c['company_id'].ljust(width)}  {c['group_id'].ljust(12)}  {c['mentions']:>8}  "
                         + "、".join(c["surface_forms"]))
    return "\n".join(lines)
