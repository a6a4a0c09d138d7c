"""Tabular Q-values with visit counts, their JSON form, the Q-learning update and the exploration rules."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

Q_FORMAT_VERSION = 1
MAX_Q_ENTRIES = 20_000
"""Most entries one table keeps; the least recently updated go first. The improved agent's abstract states
need a few hundred; the original's exact-track states add one per rating and would grow without bound."""
MAX_KEY_CHARS = 400


def q_update(q: float, reward: float, max_next: float, alpha: float, gamma: float) -> float:
    """One Q-learning step: Q <- Q + alpha * (r + gamma * max_a' Q(s', a') - Q)."""
    return q + alpha * (reward + gamma * max_next - q)


class QTable:
    """Q-values and visit counts by string key, in least-recently-updated order."""

    def __init__(self, max_entries: int = MAX_Q_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, int]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def get(self, key: str, default: float = 0.0) -> float:
        entry = self._entries.get(key)
        return default if entry is None else entry[0]

    def count(self, key: str) -> int:
        entry = self._entries.get(key)
        return 0 if entry is None else entry[1]

    def set(self, key: str, value: float) -> None:
        """Store ``value`` for ``key``, count one visit, and forget the stalest entries beyond the limit."""
        if len(key) > MAX_KEY_CHARS:
            raise ValueError(f"Q-table keys are limited to {MAX_KEY_CHARS} characters")
        count = self.count(key) + 1
        self._entries.pop(key, None)
        self._entries[key] = (float(value), count)
        while len(self._entries) > self.max_entries:
            del self._entries[next(iter(self._entries))]

    def to_json(self) -> dict[str, Any]:
        """Compact JSON: ``{"version": 1, "q": {key: [value, visits], ...}}`` in update order."""
        return {"version": Q_FORMAT_VERSION, "q": {k: [round(q, 5), n] for k, (q, n) in self._entries.items()}}

    @classmethod
    def from_json(cls, data: Any, max_entries: int = MAX_Q_ENTRIES) -> QTable:
        """Rebuild a table from ``to_json`` output; raises ``ValueError`` on anything else."""
        if not isinstance(data, dict) or data.get("version") != Q_FORMAT_VERSION or not isinstance(data.get("q"), dict):
            raise ValueError(f"not a version-{Q_FORMAT_VERSION} Q-table")
        table = cls(max_entries)
        for key, entry in data["q"].items():
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], int)):
                raise ValueError(f"malformed Q-table entry for {key!r}")
            value = float(entry[0])
            if not math.isfinite(value):
                raise ValueError(f"Q-value for {key!r} is not finite")
            table._entries[str(key)[:MAX_KEY_CHARS]] = (value, entry[1])
        while len(table._entries) > max_entries:
            del table._entries[next(iter(table._entries))]
        return table


def epsilon_for_episode(episode: int, *, initial: float, decay: float, floor: float = 0.0) -> float:
    """Exploration rate in ``episode`` (0-based): ``initial * decay ** episode``, never below ``floor``."""
    return max(floor, initial * decay**episode)


def pick_epsilon_greedy(
    values: Sequence[float], epsilon: float, rng: np.random.Generator, *, first_on_tie: bool = False
) -> int:
    """Random index with probability ``epsilon``, else the best; ``first_on_tie`` copies Python's ``max``."""
    if rng.random() < epsilon:
        return int(rng.integers(len(values)))
    return _argmax(values, rng, first_on_tie=first_on_tie)


def pick_softmax(values: Sequence[float], temperature: float, rng: np.random.Generator) -> int:
    """Boltzmann exploration: index ``i`` with probability proportional to ``exp(values[i] / temperature)``."""
    logits = np.asarray(values, dtype=float) / max(temperature, 1e-9)
    weights = np.exp(logits - logits.max())
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def pick_ucb(values: Sequence[float], counts: Sequence[int], c: float, rng: np.random.Generator) -> int:
    """Upper confidence bound: the best ``value + c * sqrt(ln(1 + total visits) / (1 + visits))``."""
    n = np.asarray(counts, dtype=float)
    bonus = c * np.sqrt(np.log1p(n.sum()) / (1.0 + n))
    return _argmax(np.asarray(values, dtype=float) + bonus, rng, first_on_tie=False)


def _argmax(values: Sequence[float] | np.ndarray, rng: np.random.Generator, *, first_on_tie: bool) -> int:
    array = np.asarray(values, dtype=float)
    best = np.flatnonzero(array >= array.max() - 1e-12)
    return int(best[0]) if first_on_tie else int(rng.choice(best))
