"""The SIGHAN scorer: exact on a tiny hand-made corpus, and sane on the real one when it is present."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.evaluation.segmentation import evaluate_segmentation
from tests.conftest import REPO

SIGHAN = REPO.parent / "shared" / "data" / "sighan2005-icwb2"


def _corpus(root: Path) -> Path:
    gold = root / "gold"
    gold.mkdir(parents=True)
    # CityU-style: BOM, CRLF, one space; Traditional text scored on original characters.
    (gold / "cityu_test_gold.utf8").write_bytes("\ufeff騰訊 股價 上升\r\n阿里巴巴 開放 平臺\r\n".encode())
    (gold / "cityu_training_words.utf8").write_text("騰訊\n股價\n上升\n開放\n", encoding="utf-8")
    return root


def test_scores_on_original_characters(tmp_path: Path) -> None:
    root = _corpus(tmp_path)

    def cut(text: str) -> list[str]:
        # a fixed "segmenter" over the Simplified text: 腾讯股价/上升 and 阿里巴巴/开放/平台
        assert ("騰" not in text and "平台" in text) or "腾讯" in text
        return {"腾讯股价上升": ["腾讯股价", "上升"], "阿里巴巴开放平台": ["阿里巴巴", "开放", "平台"]}[text]

    result = evaluate_segmentation("cityu", root, cut)
    # gold 6 words; predicted 5; correct: 上升, 阿里巴巴, 开放, 平台 = 4
    assert result["gold_words"] == 6
    assert result["precision"] == 0.8 and result["recall"] == round(4 / 6, 4)
    assert result["oov_rate"] == round(2 / 6, 4)  # 阿里巴巴 and 平臺 are not training words
    assert result["oov_recall"] == 1.0
    assert result["opencc"] == "hk2s"


@pytest.mark.skipif(not SIGHAN.exists(), reason="../shared/data/sighan2005-icwb2 is not present on this machine")
def test_cli_on_real_pku_prints_one_json_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "evaluate", "segmentation", "--corpus", "pku", "--data-dir", str(SIGHAN),
         "--limit", "150"], cwd=REPO, capture_output=True, text=True, check=True)
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert {"precision", "recall", "f1", "oov_recall"} <= set(result)
    assert result["f1"] > 0.9
