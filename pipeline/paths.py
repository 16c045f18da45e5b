"""Where each stage's artefacts live. dvc.yaml spells the same paths; keep the two in step."""

from __future__ import annotations

from pathlib import Path


def ingested(source: str) -> Path:
    return Path("data/ingested") / f"{source}.parquet"


def ingest_rejects(source: str) -> Path:
    return Path("data/ingested") / f"{source}.rejects.jsonl"


def normalised(source: str) -> Path:
    return Path("data/normalised") / f"{source}.parquet"


def normalise_rejects(source: str) -> Path:
    return Path("data/normalised") / f"{source}.rejects.jsonl"


def stage_metrics(stage: str, source: str) -> Path:
    return Path("metrics") / stage / f"{source}.json"


def segmented(source: str) -> Path:
    return Path("data/segmented") / source


def segment_rejects(source: str) -> Path:
    return Path("data/segmented") / f"{source}.rejects.jsonl"


MODEL_DIR = Path("models/zh_pipeline")


def entities(source: str) -> Path:
    return Path("data/entities") / f"{source}.parquet"


def unlinked(source: str) -> Path:
    return Path("data/entities") / f"{source}.unlinked.csv"


def sentiment(source: str) -> Path:
    return Path("data/sentiment") / f"{source}.parquet"


def fingerprints(source: str) -> Path:
    return Path("data/fingerprints") / f"{source}.parquet"
