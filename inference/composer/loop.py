"""One rating at a time: the human-in-the-loop cycle shared by the web app and the benchmark.

A ``Turn`` is everything between two ratings: the track being rated, the track and action it came from, and
where the session stands. ``rate_turn`` takes the learner's rating, lets the agent learn, and returns the next
turn. Episodes are a fixed number of ratings; each starts from a fresh track drawn from the scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from inference.composer.agents import Edit, EditAgent
from inference.composer.track import Track, TrackParams, random_track

MIN_RATING, MAX_RATING = 1, 10
RATINGS_PER_EPISODE = 12
"""Ratings per episode in Etude. The original's episode had as many steps as the track has notes."""
EXTRA_RATINGS = ("musicality", "novelty", "coherence")
EXTRA_WEIGHT = 0.5
"""Weight of each optional sub-rating against the overall rating (weight 1) in the compound reward."""


class RatingError(ValueError):
    """A rating that cannot be used; the message is shown to the learner."""


@dataclass(frozen=True)
class Turn:
    episode: int
    step: int
    """Ratings already given in this episode."""
    track: Track
    parent: Track | None = None
    edit: Edit | None = None
    """The action(s) that made ``track`` from ``parent``."""
    parent_rating: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "episode": self.episode,
            "step": self.step,
            "track": self.track.to_dict(),
            "parent": self.parent.to_dict() if self.parent else None,
            "edit": [list(a) for a in self.edit] if self.edit else None,
            "parent_rating": self.parent_rating,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Turn:
        edit = data.get("edit")
        return cls(
            episode=int(data["episode"]),
            step=int(data["step"]),
            track=Track.from_dict(data["track"]),
            parent=Track.from_dict(data["parent"]) if data.get("parent") else None,
            edit=tuple((int(a[0]), int(a[1])) for a in edit) if edit else None,
            parent_rating=None if data.get("parent_rating") is None else float(data["parent_rating"]),
        )


@dataclass(frozen=True)
class Outcome:
    """What one rating did: the reward credited, the Q-value after the update, and whether an edit was undone."""

    reward: float | None
    q_value: float | None
    credited: Edit | None
    reverted: bool
    new_episode: bool


def check_rating(value: Any, name: str = "rating") -> int:
    """An integer 1-10 (ints, or strings of digits); raises ``RatingError`` otherwise."""
    if isinstance(value, bool):
        raise RatingError(f"The {name} must be a whole number from {MIN_RATING} to {MAX_RATING}.")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise RatingError(f"The {name} must be a whole number from {MIN_RATING} to {MAX_RATING}, not {value!r}.")
    if not MIN_RATING <= value <= MAX_RATING:
        raise RatingError(f"The {name} must be from {MIN_RATING} to {MAX_RATING}; {value} is out of range.")
    return value


def compound_rating(overall: int, extras: Mapping[str, int] | None = None) -> float:
    """The overall rating, blended with any optional musicality / novelty / coherence ratings given."""
    extras = extras or {}
    unknown = set(extras) - set(EXTRA_RATINGS)
    if unknown:
        raise RatingError(f"Unknown extra rating {sorted(unknown)[0]!r}; use {', '.join(EXTRA_RATINGS)}.")
    total = float(overall) + sum(EXTRA_WEIGHT * v for v in extras.values())
    return total / (1.0 + EXTRA_WEIGHT * len(extras))


def first_turn(params: TrackParams, rng: np.random.Generator, episode: int = 0) -> Turn:
    return Turn(episode=episode, step=0, track=random_track(params, rng))


def rate_turn(
    agent: EditAgent,
    turn: Turn,
    rating: float,
    rng: np.random.Generator,
    *,
    ratings_per_episode: int = RATINGS_PER_EPISODE,
) -> tuple[Turn, Outcome]:
    """Credit ``rating`` (of ``turn.track``), learn, and prepare the next track to rate."""
    if agent.config.credit == "after":
        return _rate_crediting_next_action(agent, turn, rating, rng, ratings_per_episode)
    agent.observe(turn.track, rating)
    reward = q_value = None
    kept, kept_rating, reverted = turn.track, rating, False
    if turn.edit is not None and turn.parent is not None and turn.parent_rating is not None:
        reward = rating - turn.parent_rating if agent.config.reward == "delta" else rating
        if agent.config.keep_better and rating < turn.parent_rating:
            kept, kept_rating, reverted = turn.parent, turn.parent_rating, True
        q_value = agent.learn(turn.parent, turn.edit, reward, kept)
        agent.dream(kept, rng)
    new_episode = turn.step + 1 >= ratings_per_episode
    outcome = Outcome(reward, q_value, turn.edit, reverted, new_episode)
    if new_episode:
        return first_turn(agent.params, rng, turn.episode + 1), outcome
    edit = agent.choose(kept, turn.episode, rng)
    produced = agent.apply_all(kept, edit)
    return Turn(turn.episode, turn.step + 1, produced, kept, edit, kept_rating), outcome


def _rate_crediting_next_action(
    agent: EditAgent, turn: Turn, rating: float, rng: np.random.Generator, ratings_per_episode: int
) -> tuple[Turn, Outcome]:
    """The original's order: listen, choose an action, apply it, and give this rating to that action."""
    agent.observe(turn.track, rating)  # a reward model (if any) still learns which track got the rating
    edit = agent.choose(turn.track, turn.episode, rng)
    produced = agent.apply_all(turn.track, edit)
    q_value = agent.learn(turn.track, edit, rating, produced)
    new_episode = turn.step + 1 >= ratings_per_episode
    outcome = Outcome(rating, q_value, edit, False, new_episode)
    if new_episode:
        return first_turn(agent.params, rng, turn.episode + 1), outcome
    return Turn(turn.episode, turn.step + 1, produced, turn.track, edit, rating), outcome
