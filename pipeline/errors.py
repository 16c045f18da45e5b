"""Errors that are the user's to fix and say how: the CLI prints their message alone, no traceback.

Kept free of heavy imports (no spaCy), so `pipeline.cli` can catch them without loading a model stack.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's setup (a missing artefact, a switch pointing at nothing), not a bug."""


class TrainedModelMissing(UserError, FileNotFoundError):
    """No usable trained NER model where `ner.model: trained | both` needs one (issue 8). Still a
    FileNotFoundError, so callers that caught that keep working."""
