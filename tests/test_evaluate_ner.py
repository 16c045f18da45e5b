"""NER scorer: exact arithmetic on a hand-made set, each reader's format quirks, and the real gold sets when present.

The real sets (../shared/data/...) may not be copied into the repository, so those tests read them in
place and skip when they are absent. The small texts below were written for these tests.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.evaluation.ner import (
    Example,
    Prediction,
    evaluate_ner,
    lac_predictor,
    predict_batched,
    read_cfsc_ner,
    read_cluener,
    read_dataset,
    read_msra,
)
from tests.conftest import REPO

DATA = REPO.parent / "shared" / "data"
CFSC = DATA / "cfsc-ner"
CLUENER = DATA / "cluener2020"
MSRA = DATA / "msra-ner"

# -- hand-made CLUENER-format set (pretty-printed, concatenated, inclusive ends) ------------------------

MINI = [
    # 小米集团 0-3 company, 北京 5-6 address
    {"text": "小米集团在北京发布了新手机。",
     "label": {"company": {"小米集团": [[0, 3]]}, "address": {"北京": [[5, 6]]}}},
    # 张伟 0-1 name, 上海证券交易所 3-9 organization
    {"text": "张伟在上海证券交易所工作。",
     "label": {"name": {"张伟": [[0, 1]]}, "organization": {"上海证券交易所": [[3, 9]]}}},
    # 《远方》 4-7 book: not mapped to any class, so ignored by the scores
    {"text": "他的新书《远方》很受欢迎。", "label": {"book": {"《远方》": [[4, 7]]}}},
    {"text": "今天天气很好。", "label": {}},
]

FIXED = {
    "小米集团在北京发布了新手机。": [Prediction(0, 4, "ORG", True), Prediction(5, 7, "LOC", False)],
    "张伟在上海证券交易所工作。": [
        Prediction(0, 2, "PER", False),
        Prediction(3, 5, "LOC", False),  # 上海: wrong span
        Prediction(3, 10, "ORG", True),  # right ORG, but an exchange, not a company
    ],
    "他的新书《远方》很受欢迎。": [Prediction(5, 7, "ORG", True)],
    "今天天气很好。": [Prediction(0, 2, "PER", False)],
}


def fixed_predict(texts: list[str]) -> list[list[Prediction]]:
    return [FIXED[t] for t in texts]


def _write_cluener(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False, indent=2) + "\n" for r in records), encoding="utf-8")
    return path


def test_scores_are_exact_on_a_hand_made_set(tmp_path: Path) -> None:
    _write_cluener(tmp_path / "dev.json", MINI)
    result = evaluate_ner("cluener", tmp_path, fixed_predict)

    assert result["dataset"] == "cluener" and result["split"] == "dev" and result["sentences"] == 4
    assert result["gold_labels"] == {"address": 1, "book": 1, "company": 1, "name": 1, "organization": 1}
    # company: gold {小米集团}; predicted {小米集团, 上海证券交易所, 远方}
    assert result["company"] == {"precision": 0.3333, "recall": 1.0, "f1": 0.5, "gold": 1, "predicted": 3,
                                 "correct": 1}
    # ORG: gold {小米集团, 上海证券交易所} (company + organization); predicted the same two plus 远方
    assert result["ORG"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "gold": 2, "predicted": 3, "correct": 2}
    assert result["PER"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "gold": 1, "predicted": 2, "correct": 1}
    assert result["LOC"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "gold": 1, "predicted": 2, "correct": 1}
    # micro over ORG/PER/LOC: 4 correct of 7 predicted, 4 gold
    assert result["micro"] == {"precision": 0.5714, "recall": 1.0, "f1": 0.7273, "gold": 4, "predicted": 7,
                               "correct": 4}
    json.dumps(result)  # JSON-able

    assert evaluate_ner("cluener", tmp_path, fixed_predict, limit=1)["micro"]["predicted"] == 2


def test_classes_follow_the_data_set(tmp_path: Path) -> None:
    """CFSC scores companies only; MSRA has no company class; data_dir may be the folder holding the set."""
    cfsc = tmp_path / "cfsc-ner"
    cfsc.mkdir()
    (cfsc / "test.json").write_text(json.dumps([{"text": "小米集团在北京发布了新手机。", "labels": [
        {"text": "小米集团", "Level 1 Aspect": "Corporate", "from": 0, "to": 4}]}], ensure_ascii=False),
        encoding="utf-8")
    result = evaluate_ner("cfsc-ner", tmp_path, fixed_predict)
    assert result["company"]["f1"] == 1.0 and not {"ORG", "PER", "LOC", "micro"} & set(result)

    msra = tmp_path / "msra-ner"
    msra.mkdir()
    (msra / "msra_test_bio.txt").write_text("今\tB-PER\n天\tI-PER\n天\tO\n气\tO\n很\tO\n好\tO\n。\tO\n\n",
                                            encoding="utf-8")
    result = evaluate_ner("msra", msra, fixed_predict)
    assert "company" not in result and result["PER"]["f1"] == 1.0 and result["micro"]["gold"] == 1

    with pytest.raises(ValueError, match="split"):
        evaluate_ner("msra", msra, fixed_predict, split="dev")
    with pytest.raises(ValueError, match="dataset"):
        evaluate_ner("ontonotes", msra, fixed_predict)


def test_predictions_are_batched_and_checked() -> None:
    sizes: list[int] = []

    def predict(texts: list[str]) -> list[list[Prediction]]:
        sizes.append(len(texts))
        return [[] for _ in texts]

    assert predict_batched(predict, ["甲"] * 5, batch_size=2) == [[]] * 5
    assert sizes == [2, 2, 1]
    with pytest.raises(ValueError, match="results"):
        predict_batched(lambda texts: [], ["甲"])
    with pytest.raises(ValueError, match="label"):
        predict_batched(lambda texts: [[Prediction(0, 1, "GPE", False)]], ["甲"])
    with pytest.raises(ValueError, match="outside"):
        predict_batched(lambda texts: [[Prediction(0, 2, "ORG", True)]], ["甲"])


# -- readers -----------------------------------------------------------------------------------------


def test_read_cfsc_ner_bom_crlf_exclusive_ends(tmp_path: Path) -> None:
    records = [
        {"text": "宁德时代股价上涨。", "labels": [
            {"text": "宁德时代", "Level 1 Aspect": "Stock", "from": 0, "to": 4}]},
        {"text": "国家统计局称，华为营收增长。", "labels": [
            {"text": "华为", "Level 1 Aspect": "Corporate", "from": 7, "to": 9},
            {"text": "国家统计局", "Level 1 Aspect": "Economy", "from": 0, "to": 5}]},
        {"text": "无实体。", "labels": []},
    ]
    body = json.dumps(records, ensure_ascii=False, indent=2).replace("\n", "\r\n")
    path = tmp_path / "test.json"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    examples = read_cfsc_ner(path)
    assert examples == [
        Example("宁德时代股价上涨。", [(0, 4, "Stock")]),
        Example("国家统计局称，华为营收增长。", [(0, 5, "Economy"), (7, 9, "Corporate")]),
        Example("无实体。", []),
    ]

    records[0]["labels"][0]["to"] = 3  # offsets that do not match the entity text must not pass silently
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ValueError, match="宁德时代"):
        read_cfsc_ner(path)


def test_read_cluener_concatenated_or_jsonl_inclusive_ends(tmp_path: Path) -> None:
    pretty = _write_cluener(tmp_path / "pretty.json", MINI)
    lines = tmp_path / "lines.json"
    lines.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in MINI) + "\n", encoding="utf-8")
    unlabeled = tmp_path / "test.json"
    unlabeled.write_text(json.dumps({"id": 0, "text": "今天天气很好。"}, ensure_ascii=False) + "\n", encoding="utf-8")

    examples = read_cluener(pretty)
    assert examples == read_cluener(lines)
    assert examples[0] == Example("小米集团在北京发布了新手机。", [(0, 4, "company"), (5, 7, "address")])
    assert examples[1].spans == [(0, 2, "name"), (3, 10, "organization")]
    assert examples[2].text[4:8] == "《远方》" and examples[3].spans == []
    assert read_cluener(unlabeled) == [Example("今天天气很好。", [])]


def test_read_msra_bio_quirks(tmp_path: Path) -> None:
    rows = [
        "李\tB-PER", "明\tI-PER", "到\tO", "北\tB-LOC", "京\tI-LOC", "大\tI-ORG", "学\tI-ORG", "。\tO", "",
        "", "",  # several blank lines between sentences
        "华\tB-ORG", "为\tI-ORG", "中\tB-LOC", "国\tB-LOC", "\u3000\tO", "好\tO",  # no final blank line
    ]
    path = tmp_path / "bio.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode("utf-8"))
    examples = read_msra(path)
    assert examples == [
        # I-ORG after LOC opens a new ORG span (conlleval); B-B makes two spans
        Example("李明到北京大学。", [(0, 2, "PER"), (3, 5, "LOC"), (5, 7, "ORG")]),
        Example("华为中国\u3000好", [(0, 2, "ORG"), (2, 3, "LOC"), (3, 4, "LOC")]),
    ]

    path.write_text("李\tS-PER\n", encoding="utf-8")  # BIOES would lose spans if read as BIO
    with pytest.raises(ValueError, match="BIO"):
        read_msra(path)


# -- real data sets (read in place; never copied) ----------------------------------------------------------


@pytest.fixture(scope="module")
def lac() -> object:
    return lac_predictor()


def _label_counts(examples: list[Example]) -> Counter[str]:
    return Counter(label for ex in examples for _, _, label in ex.spans)


def _sane(result: dict, classes: set[str], dataset: str, split: str) -> None:
    assert result["dataset"] == dataset and result["split"] == split and result["sentences"] == 50
    assert {"task", "gold_labels"} | classes == set(result) - {"dataset", "split", "sentences"}
    for cls in classes:
        scores = result[cls]
        assert set(scores) == {"precision", "recall", "f1", "gold", "predicted", "correct"}
        assert 0 <= scores["correct"] <= min(scores["gold"], scores["predicted"])
        assert 0.0 <= scores["f1"] <= 1.0
    json.dumps(result)


@pytest.mark.skipif(not CFSC.exists(), reason="../shared/data/cfsc-ner is not present on this machine")
def test_real_cfsc_ner(lac: object) -> None:
    # README "Counts (recomputed)"
    expected = {"val": (1067, {"Corporate": 419, "Stock": 989, "Market": 670, "Economy": 743}),
                "test": (1067, {"Corporate": 361, "Stock": 1143, "Market": 677, "Economy": 745})}
    for split, (sentences, labels) in expected.items():
        examples = read_dataset("cfsc-ner", CFSC, split)
        assert len(examples) == sentences and _label_counts(examples) == labels
    result = evaluate_ner("cfsc-ner", CFSC, lac, limit=50)
    _sane(result, {"company"}, "cfsc-ner", "test")
    assert result["company"]["gold"] == result["gold_labels"]["Corporate"]


@pytest.mark.skipif(not CLUENER.exists(), reason="../shared/data/cluener2020 is not present on this machine")
def test_real_cluener(lac: object) -> None:
    names = ["name", "company", "organization", "government", "address", "scene", "position", "book", "game", "movie"]
    expected = {"dev": (1343, 3072, [465, 378, 367, 247, 373, 209, 433, 154, 295, 151]),
                "train": (10748, 23971, [3755, 2980, 3210, 1835, 2891, 1521, 3141, 1139, 2376, 1123])}
    for split, (texts, mentions, counts) in expected.items():
        examples = read_dataset("cluener", CLUENER, split)
        labels = _label_counts(examples)
        assert len(examples) == texts and labels.total() == mentions
        assert labels == dict(zip(names, counts, strict=True))
    result = evaluate_ner("cluener", CLUENER, lac, limit=50)
    _sane(result, {"company", "ORG", "PER", "LOC", "micro"}, "cluener", "dev")
    gold = result["gold_labels"]
    assert result["ORG"]["gold"] == gold["company"] + gold["organization"] + gold["government"]
    assert result["micro"]["f1"] > 0.3  # LAC scores ~0.5 here; near 0 would mean misaligned offsets


@pytest.mark.skipif(not MSRA.exists(), reason="../shared/data/msra-ner is not present on this machine")
def test_real_msra(lac: object) -> None:
    examples = read_dataset("msra", MSRA)
    assert len(examples) == 3442 and sum(len(ex.text) for ex in examples) == 172601
    assert _label_counts(examples) == {"LOC": 2886, "PER": 1973, "ORG": 1331}
    result = evaluate_ner("msra", MSRA, lac, limit=50)
    _sane(result, {"ORG", "PER", "LOC", "micro"}, "msra", "test")
    assert result["micro"]["f1"] > 0.5  # LAC scores ~0.73 here; near 0 would mean misaligned offsets
