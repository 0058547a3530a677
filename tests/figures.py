"""Counters the reliability tests fill; conftest writes them to docs/reliability.md."""

from collections import Counter

FIGURES: Counter[str] = Counter()
