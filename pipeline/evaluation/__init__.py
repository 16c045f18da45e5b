"""Evaluation against public gold sets, read by path (their terms forbid copying them)."""
