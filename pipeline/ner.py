"""NER stage: knowledge-base companies, statistical PER/LOC/ORG, and linking, as spaCy components.

The pipeline is the built tokenizer plus three components added at run time (so a KB edit does not
need a model rebuild to take effect in matching):

    company_ruler   KB names on tokens (+ long names on characters); unambiguous names get their id
    lac_ner         Baidu LAC spans in doc.spans["lac"] (pipeline.lac_ner)
    trained_ner     instead of or next to lac_ner (`ner.model: trained | both`): the model built by
                    the train_ner stage (pipeline.ner_trained)
    company_linker  decides ambiguous names, keeps model spans that do not overlap a KB mention,
                    links model ORG strings to the KB, writes doc._.mentions and doc.ents
"""

from __future__ import annotations

import bisect
import csv
import io
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy
import pyarrow as pa
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from pipeline import lac_ner
from pipeline.accounting import Tally
from pipeline.artefacts import ParquetBatchWriter, atomic_open, write_json
from pipeline.company_matcher import DEFAULT_CUES, CompanyMatcher, Mention
from pipeline.company_names import looks_like_company
from pipeline.doc_text import doc_text, remember_text
from pipeline.docbin_tokens import count_docs
from pipeline.docstore import docbin_texts, iter_docbin_chunks
from pipeline.execution import ExecutionSettings, map_chunks, runs_in_process
from pipeline.kb import KnowledgeBase, load_kb, load_stored_variants
from pipeline.linker import Linker
from pipeline.ner_trained import MODEL_MODES, ModelSpan, check_model_dir, doc_model_spans
from pipeline.nlp import load_nlp
from pipeline.progress import progress

if not Doc.has_extension("mentions"):
    Doc.set_extension("mentions", default=None)
if not Doc.has_extension("kb_proposals"):
    Doc.set_extension("kb_proposals", default=None)

ENTITY_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("sent_id", pa.int32()),
        ("start_char", pa.int32()),
        ("end_char", pa.int32()),
        ("text", pa.string()),
        ("label", pa.string()),
        ("company_id", pa.string()),
        ("group_id", pa.string()),
        ("method", pa.string()),
        # A linked company/subsidiary/brand, or an unlinked ORG whose name ends like a company's.
        ("is_company", pa.bool_()),
    ]
)

COMPANY_KINDS = frozenset({"company", "subsidiary", "brand"})

_KB_CACHE: dict[str, KnowledgeBase] = {}


def _kb(path: str) -> KnowledgeBase:
    if path not in _KB_CACHE:
        _KB_CACHE[path] = load_kb(path)
    return _KB_CACHE[path]


class CompanyRuler:
    def __init__(self, nlp: Language, kb_path: str, cues: list[str], cue_window: int) -> None:
        self.kb = _kb(kb_path)
        self.matcher = CompanyMatcher(self.kb, nlp.vocab, nlp.make_doc, cues, cue_window)

    def __call__(self, doc: Doc) -> Doc:
        token_cands = self.matcher.candidates(doc)
        covered = [(m.start, m.end) for _, _, m in token_cands]
        doc._.kb_proposals = (token_cands, self.matcher.char_candidates(doc_text(doc), covered))
        return doc


def widen_to_trained(companies: list[Mention], model: list[ModelSpan], text: str) -> list[Mention]:
    """A KB mention strictly inside a trained model's ORG span takes the model's extent, keeping its link.

    The trained model (not LAC, whose ORG says nothing about companies) has learned how far a company
    mention reaches: 交通银行深圳分行, 新浪乐居, 中国邮政集团公司 are the bank's branch, Sina's property
    arm, the postal group; the KB knows only 交通银行, 新浪, 中国邮政. Only a model span holding exactly
    one KB mention and cutting through no other is used, so two companies are never merged into one.
    (Rule found by reading CLUENER dev errors of `ner.model: trained`; see docs/benchmarks.md.)
    """
    wide = [m for m in model if m.is_company is not None and m.label == "ORG"]
    if not wide or not companies:
        return companies
    out = list(companies)
    for span in wide:
        touching = [i for i, c in enumerate(out) if c.start < span.end and span.start < c.end]
        if len(touching) != 1:
            continue
        c = out[touching[0]]
        if span.start <= c.start and c.end <= span.end and (span.end - span.start) > (c.end - c.start):
            out[touching[0]] = Mention(span.start, span.end, text[span.start:span.end], c.label, c.company_id,
                                       c.method, c.candidates, model_company=span.is_company)
    return out


class CompanyLinker:
    def __init__(self, nlp: Language, name: str, ruler: str) -> None:
        self.nlp = nlp
        self.ruler_name = ruler
        self._linker: Linker | None = None

    @property
    def ruler(self) -> CompanyRuler:
        return self.nlp.get_pipe(self.ruler_name)  # type: ignore[return-value]

    def __call__(self, doc: Doc) -> Doc:
        ruler = self.ruler
        if self._linker is None:
            self._linker = Linker(ruler.kb)
        model = doc_model_spans(doc, lac_ner.CHAR_SPANS_KEY)
        token_cands, char_cands = doc._.kb_proposals or ([], [])
        companies = ruler.matcher.decide(doc, token_cands, char_cands, [(s, e, lab) for s, e, lab, _ in model])
        text = doc_text(doc)
        companies = widen_to_trained(companies, model, text)
        mentions: list[Mention] = list(companies)
        taken = [(m.start, m.end) for m in companies]
        for s, e, label, is_company in model:
            if any(s < te and ts < e for ts, te in taken):
                continue
            name = text[s:e]
            cid = self._linker.link(name) if label == "ORG" else None
            mentions.append(Mention(s, e, name, label, cid, "model", model_company=is_company))
        mentions.sort(key=lambda m: (m.start, m.end))
        doc._.mentions = mentions
        ents: list[Span] = []
        last = 0
        for m in mentions:
            span = doc.char_span(m.start, m.end, label=m.label, kb_id=m.company_id or "")
            if span is not None and span.start >= last:
                ents.append(span)
                last = span.end
        doc.ents = ents
        return doc


@Language.factory("company_ruler", default_config={"kb_path": "data/kb", "cues": list(DEFAULT_CUES),
                                                   "cue_window": 3})
def make_company_ruler(nlp: Language, name: str, kb_path: str, cues: list[str], cue_window: int) -> CompanyRuler:
    return CompanyRuler(nlp, kb_path, cues, cue_window)


@Language.factory("company_linker", default_config={"ruler": "company_ruler"})
def make_company_linker(nlp: Language, name: str, ruler: str) -> CompanyLinker:
    return CompanyLinker(nlp, name, ruler)


def ner_pipeline(model_path: str | os.PathLike[str], kb_path: str | os.PathLike[str],
                 cues: Iterable[str] = DEFAULT_CUES, cue_window: int = 3, ner_model: str = "lac",
                 trained_path: str | os.PathLike[str] = "models/ner_trained") -> Language:
    """The built tokenizer + company_ruler + lac_ner and/or trained_ner (`ner_model`) + company_linker.

    `load_nlp` caches the built pipeline, so the statistical components are rebuilt when a call asks
    for a different `ner_model` than the one already attached.
    """
    if ner_model not in MODEL_MODES:
        raise ValueError(f"ner_model must be one of {', '.join(MODEL_MODES)}, not {ner_model!r}")
    nlp = load_nlp(model_path)
    wanted = {"lac": ["lac_ner"], "trained": ["trained_ner"], "both": ["trained_ner", "lac_ner"]}[ner_model]
    attached = [n for n in nlp.pipe_names if n in ("lac_ner", "trained_ner")]
    if "company_ruler" in nlp.pipe_names and attached == wanted:
        return nlp
    for name in ("company_ruler", "lac_ner", "trained_ner", "company_linker"):
        if name in nlp.pipe_names:
            nlp.remove_pipe(name)
    load_stored_variants(model_path)  # the company ruler and the linker ask for every KB name's variants
    nlp.add_pipe("company_ruler", config={"kb_path": str(kb_path), "cues": list(cues), "cue_window": cue_window})
    for name in wanted:
        if name == "trained_ner":
            check_model_dir(trained_path)  # fail now, with a message, not at the first document
            nlp.add_pipe(name, config={"model_path": str(trained_path)})
        else:
            nlp.add_pipe(name)
    nlp.add_pipe("company_linker")
    return nlp


def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """(start_char, end_char) of each sentence, from the token arrays: `doc.sents` builds a Token per
    word on every call, which the stage paid once per document and once per unlinked name."""
    if not len(doc):
        return []
    arr = doc.to_array([SENT_START, IDX])
    token_starts = [0, *(int(i) for i in numpy.flatnonzero(arr[1:, 0].view("int64") == 1) + 1)]
    chars = [int(arr[i, 1]) for i in token_starts]
    return list(zip(chars, [*chars[1:], len(doc_text(doc))], strict=True))


def is_company_mention(m: Mention, kb: KnowledgeBase) -> bool:
    """A linked company/subsidiary/brand; else the model's own opinion when it has one (trained NER);
    else an ORG whose name ends like a company's."""
    if m.company_id:
        return kb[m.company_id].kind in COMPANY_KINDS
    if m.model_company is not None:
        return m.model_company
    return m.label == "ORG" and looks_like_company(m.text)


def sentence_index(doc: Doc) -> list[int]:
    return [s for s, _ in sentence_bounds(doc)]


def mention_rows(doc: Doc, doc_id: str, source: str, kb: KnowledgeBase,
                 starts: list[int] | None = None) -> list[dict[str, Any]]:
    starts = sentence_index(doc) if starts is None else starts
    rows = []
    for m in doc._.mentions or []:
        rows.append({
            "doc_id": doc_id,
            "source": source,
            "sent_id": bisect.bisect_right(starts, m.start) - 1,
            "start_char": m.start,
            "end_char": m.end,
            "text": m.text,
            "label": m.label,
            "company_id": m.company_id,
            "group_id": kb.group_of(m.company_id) if m.company_id else None,
            "method": m.method,
            "is_company": is_company_mention(m, kb),
        })
    return rows


def sentence_of(doc: Doc, start: int, bounds: list[tuple[int, int]] | None = None,
                text: str | None = None) -> str:
    text = doc_text(doc) if text is None else text
    for s, e in sentence_bounds(doc) if bounds is None else bounds:
        if s <= start < e:
            return text[s:e].strip()
    return ""


# Documents per chunk, and so per LAC call: the tagger runs equal-length pieces of all the texts of a
# call together, and bigger calls mean fuller model runs (CPU for 300 synthetic articles: 9.0 s in
# calls of 32, 7.7 s in calls of 64, 7.2 s in calls of 128). bench/models.py tags in calls of this size.
CHUNK_DOCS = 128


@dataclass(frozen=True)
class NerModel:
    """What a worker needs for NER: the pipeline with the KB components, built once per process."""

    model_path: str
    kb_path: str
    cues: tuple[str, ...]
    cue_window: int
    ner_model: str = "lac"
    trained_path: str = "models/ner_trained"

    def build(self) -> tuple[Language, KnowledgeBase]:
        nlp = ner_pipeline(self.model_path, self.kb_path, self.cues, self.cue_window, self.ner_model, self.trained_path)
        return nlp, _kb(self.kb_path)


def _ner_chunk(model: tuple[Language, KnowledgeBase],
               payload: tuple[DocBin | bytes, list[str], str]) -> tuple[int, list[dict[str, Any]], dict[str, str]]:
    """Run the NER pipeline on a chunk of segmented docs: entity rows, and an example sentence for
    each unlinked ORG string. The chunk is a DocBin in process, its bytes when it crosses one."""
    data, doc_ids, source = payload
    nlp, kb = model
    docbin = DocBin().from_bytes(data) if isinstance(data, bytes) else data
    docs = list(docbin.get_docs(nlp.vocab))
    for doc, text in zip(docs, docbin_texts(docbin), strict=True):
        remember_text(doc, text)
    rows: list[dict[str, Any]] = []
    examples: dict[str, str] = {}
    for doc, doc_id in zip(nlp.pipe(docs, batch_size=len(docs) or 1), doc_ids, strict=True):
        bounds = sentence_bounds(doc)
        text = doc_text(doc)
        doc_rows = mention_rows(doc, doc_id, source, kb, [s for s, _ in bounds])
        for row in doc_rows:
            if row["label"] == "ORG" and row["company_id"] is None and row["text"] not in examples:
                examples[row["text"]] = sentence_of(doc, row["start_char"], bounds, text)
        rows.extend(doc_rows)
    return len(docs), rows, examples


def _chunks(segmented_dir: str | os.PathLike[str], source: str, size: int,
            in_process: bool) -> Iterator[tuple[DocBin | bytes, list[str], str]]:
    """Chunks of segmented docs for `_ner_chunk`: serialised only when they go to another process
    (a DocBin's bytes are compact and pickle cheaply; in process that copy would be pure cost)."""
    for docbin, ids in iter_docbin_chunks(segmented_dir, size):
        yield (docbin if in_process else docbin.to_bytes()), ids, source


def ner_source(
    name: str,
    segmented_dir: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    unlinked_path: str | os.PathLike[str],
    metrics_path: str | os.PathLike[str],
    model_path: str | os.PathLike[str],
    kb_path: str | os.PathLike[str],
    cues: Iterable[str] = DEFAULT_CUES,
    cue_window: int = 3,
    n_process: int = 1,
    chunk_size: int = CHUNK_DOCS,
    ner_model: str = "lac",
    trained_path: str | os.PathLike[str] = "models/ner_trained",
    execution: ExecutionSettings | None = None,
) -> Tally:
    """NER over one source. The pipeline is built once per process (shared by forked workers, or
    kept by each Dask worker); chunks come back in order, so the output is identical for any process
    count or backend (pipeline.execution)."""
    execution = execution or ExecutionSettings()
    if ner_model != "lac":
        check_model_dir(trained_path)  # here, not in a worker process, so the user sees one message
    spec = NerModel(str(Path(model_path).resolve()), str(Path(kb_path).resolve()), tuple(cues), cue_window,
                    ner_model, str(Path(trained_path).resolve()))
    tally = Tally(name, "ner")
    unlinked: Counter[str] = Counter()
    examples: dict[str, str] = {}
    per_method: Counter[str] = Counter()
    total = count_docs(segmented_dir)
    chunks = _chunks(segmented_dir, name, chunk_size, runs_in_process(execution, n_process))
    results = map_chunks(_ner_chunk, spec, chunks, execution, n_process, chunk_len=lambda c: len(c[1]))
    with ParquetBatchWriter(out_path, ENTITY_SCHEMA) as writer, progress(total, f"ner@{name}") as bar:
        for n_docs, rows, chunk_examples in results:
            for row in rows:
                per_method[row["method"] if row["company_id"] else f"{row['method']}_unlinked_{row['label']}"] += 1
                if row["label"] == "ORG" and row["company_id"] is None:
                    unlinked[row["text"]] += 1
            for text, sentence in chunk_examples.items():
                examples.setdefault(text, sentence)
            writer.write_rows(rows)
            tally.records_in += n_docs
            tally.records_out += n_docs
            bar.update(n_docs)
    if tally.records_in != total:
        raise RuntimeError(f"ner@{name}: processed {tally.records_in} of {total} segmented documents")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["text", "count", "looks_like_company", "example_sentence"])
    for text, count in sorted(unlinked.items(), key=lambda kv: (-kv[1], kv[0])):
        w.writerow([text, count, looks_like_company(text), examples[text]])
    with atomic_open(unlinked_path) as fh:
        fh.write(buf.getvalue())
    metrics = tally.as_metrics()
    metrics["mentions_by_method"] = dict(sorted(per_method.items()))
    write_json(metrics_path, metrics)
    tally.check()
    return tally
