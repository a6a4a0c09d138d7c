"""Q-learning agents that edit tracks: the original of Justus (2023), its fixed and improved variants, and
the random-edit and hill-climbing baselines, all as configurations of one ``EditAgent``.

The original's state was the whole track, so a state was practically never seen twice and its Q-table could
not generalise. The improved agent keys Q-values by a small context of the edited note described relative to
the base note and its neighbours (is the step toward or away from each neighbour, a step or a leap, does it
approach the tonic at the end, does it widen the range), with back-off from the full context to coarser
ones, so that what one rating teaches applies to every track and key. On top of that, the improved agent
plans: a reward model of the learner's ratings (``reward_model``), starting from a prior fitted on earlier
learners, predicts how each candidate edit changes the rating, and the Q-value of the edit is added to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from inference.composer.features import STEP_SEMITONES, melody_features
from inference.composer.qtable import (
    QTable,
    epsilon_for_episode,
    pick_epsilon_greedy,
    pick_softmax,
    pick_ucb,
    q_update,
)
from inference.composer.reward_model import RewardModel, taste_basis
from inference.composer.track import (
    DENSER,
    DURATIONS,
    ECHO,
    LONGER,
    NARROW,
    PERCUSSION_CHANGE,
    PITCH_DOWN,
    PITCH_UP,
    REMOVE,
    RESOLVE_END,
    SHORTER,
    SMOOTH,
    SPARSER,
    WIDEN,
    Action,
    Track,
    TrackParams,
    apply_action,
    legal_actions,
)

Edit = tuple[Action, ...]
"""What the agent plays next: one action, or a compound of several applied in order."""

ORIGINAL_OPS = (PITCH_UP, PITCH_DOWN, LONGER, SHORTER, PERCUSSION_CHANGE)
ALL_OPS = (*ORIGINAL_OPS, REMOVE, SMOOTH, RESOLVE_END, ECHO, DENSER, SPARSER, NARROW, WIDEN)


@dataclass(frozen=True)
class AgentConfig:
    """How an agent chooses, credits and learns. The defaults are the original as published."""

    name: str = "original"
    ops: tuple[int, ...] = ORIGINAL_OPS
    in_scale: bool = False
    """Flaw 4 when False: pitch steps are semitones and can leave the scale."""
    state: Literal["exact", "relative"] = "exact"
    bootstrap: Literal["current", "next"] = "current"
    """Flaw 1 when "current": the update's max is taken over the state just left, not the next one."""
    credit: Literal["after", "producing"] = "after"
    """Flaw 2 when "after": a rating updates the action chosen after listening, not the one that made the track."""
    exploration: Literal["epsilon", "softmax", "ucb", "random"] = "epsilon"
    epsilon: float = 0.5
    epsilon_decay: float = 0.01
    """Flaw 3: 0.5 * 0.01 ** episode is 0.005 from the second episode on."""
    epsilon_floor: float = 0.0
    explore_first_episode: bool = True
    first_on_tie: bool = True
    """The original's ``max`` returns the first of equal Q-values, i.e. always action (0, 0) in a new state."""
    alpha: float = 0.1
    gamma: float = 0.9
    temperature: float = 0.5
    ucb_c: float = 1.0
    reward: Literal["rating", "delta"] = "rating"
    keep_better: bool = False
    """Undo an edit whose rating fell below its parent's (hill-climbing's acceptance rule)."""
    skip_no_ops: bool = False
    learns: bool = True
    min_visits: int = 1
    """Back-off: use the most specific context seen at least this often."""
    max_edits: int = 1
    """Compound actions: after the chosen edit, add up to ``max_edits - 1`` more whose Q-value is at least
    ``compound_threshold``, so that a confident agent changes enough for the listener to hear it."""
    compound_threshold: float = 0.5
    planner: Literal["none", "model"] = "none"
    """"model": choose edits by the reward model's predicted change of rating plus ``q_weight`` times the
    Q-value (model-based planning); "none": by the Q-values alone."""
    plan_depth: int = 1
    """Edits the planner may chain into one proposal (a beam search over the reward model)."""
    plan_beam: int = 4
    q_weight: float = 0.0
    dyna_updates: int = 0
    """Dyna: simulated Q-updates from the reward model after each real rating."""
    acquisition: Literal["mean", "thompson", "auto"] = "auto"
    """Plan with the posterior mean of the reward model, or with one sample of it (Thompson sampling); "auto"
    samples while the prior is the generic one (no population to say what listeners like) and uses the mean
    once the prior comes from earlier learners."""
    model_forget: float = 1.0


ORIGINAL = AgentConfig()
ORIGINAL_FIXED = replace(
    ORIGINAL,
    name="original_fixed",
    in_scale=True,
    bootstrap="next",
    credit="producing",
    epsilon_decay=0.8,
    epsilon_floor=0.05,
)
IMPROVED_MODEL_FREE = AgentConfig(
    name="improved_model_free",
    ops=ALL_OPS,
    in_scale=True,
    state="relative",
    bootstrap="next",
    credit="producing",
    exploration="ucb",
    epsilon_floor=0.05,
    epsilon_decay=0.8,
    first_on_tie=False,
    alpha=0.3,
    gamma=0.5,
    reward="delta",
    keep_better=True,
    skip_no_ops=True,
)
IMPROVED = replace(IMPROVED_MODEL_FREE, name="improved", planner="model", q_weight=0.25)
"""Model-based: the reward model (with the population prior) plans each edit; the Q-values add what ratings
taught about each kind of edit in its context."""
RANDOM_EDITS = replace(IMPROVED_MODEL_FREE, name="random", exploration="random", keep_better=False, learns=False)
HILL_CLIMB = replace(IMPROVED_MODEL_FREE, name="hillclimb", exploration="random", keep_better=True, learns=False)
PRESETS = {c.name: c for c in (ORIGINAL, ORIGINAL_FIXED, IMPROVED, IMPROVED_MODEL_FREE, RANDOM_EDITS, HILL_CLIMB)}


@dataclass
class EditAgent:
    """Chooses edits and learns from ratings with tabular Q-learning under an ``AgentConfig``."""

    config: AgentConfig
    params: TrackParams
    table: QTable = field(default_factory=QTable)
    model: RewardModel | None = None
    """The learner's reward model (created with the generic prior when the planner needs one and none is given)."""

    def __post_init__(self) -> None:
        if self.config.planner == "model" and self.model is None:
            self.model = RewardModel(forget=self.config.model_forget)

    def candidates(self, track: Track) -> list[Action]:
        if self.config.skip_no_ops:
            return [action for action, _ in self.moves(track)]
        return legal_actions(track, self.config.ops)

    def moves(self, track: Track) -> tuple[tuple[Action, Track], ...]:
        """The changing actions with the tracks they make (every legal action when none changes anything)."""
        return _changing_moves(track, self.params, self.config.ops, self.config.in_scale)

    def apply(self, track: Track, action: Action) -> Track:
        return apply_action(track, action, self.params, in_scale=self.config.in_scale)

    def keys(self, track: Track, action: Action) -> list[str]:
        """Q-table keys for (state, action), most specific first."""
        if self.config.state == "exact":
            return [f"{track.key()}#{action[0]},{action[1]}"]
        return context_keys(track, action, self.params)

    def estimate(self, track: Track, action: Action) -> tuple[float, int]:
        """(Q-value, visits) from the most specific key visited ``min_visits`` times, else the coarsest."""
        keys = self.keys(track, action)
        for key in keys:
            visits = self.table.count(key)
            if visits >= self.config.min_visits:
                return self.table.get(key), visits
        return self.table.get(keys[-1]), self.table.count(keys[-1])

    def max_q(self, track: Track) -> float:
        return max(self.estimate(track, a)[0] for a in self.candidates(track))

    def epsilon(self, episode: int) -> float:
        c = self.config
        return epsilon_for_episode(episode, initial=c.epsilon, decay=c.epsilon_decay, floor=c.epsilon_floor)

    def choose(self, track: Track, episode: int, rng: np.random.Generator) -> Edit:
        """The edit to play next: one action, followed by confident extra actions for compound edits."""
        if self.model is not None and self.config.planner == "model":
            return self._plan(track, self.model, rng)
        first = self._choose_one(track, episode, rng)
        chosen, current = [first], self.apply(track, first)
        while len(chosen) < self.config.max_edits:
            options = [(self.estimate(current, a), a) for a in self.candidates(current) if a[0] not in _ops(chosen)]
            confident = [(q, a) for (q, n), a in options if n > 0 and q >= self.config.compound_threshold]
            if not confident:
                break
            best = max(confident)[1]
            chosen.append(best)
            current = self.apply(current, best)
        return tuple(chosen)

    def apply_all(self, track: Track, edit: Edit) -> Track:
        for action in edit:
            track = self.apply(track, action)
        return track

    def _choose_one(self, track: Track, episode: int, rng: np.random.Generator) -> Action:
        c = self.config
        actions = self.candidates(track)
        if c.exploration == "random" or (c.explore_first_episode and episode < 1 and c.exploration == "epsilon"):
            return actions[int(rng.integers(len(actions)))]
        estimates = [self.estimate(track, a) for a in actions]
        values = [q for q, _ in estimates]
        if c.exploration == "softmax":
            return actions[pick_softmax(values, c.temperature, rng)]
        if c.exploration == "ucb":
            return actions[pick_ucb(values, [n for _, n in estimates], c.ucb_c, rng)]
        return actions[pick_epsilon_greedy(values, self.epsilon(episode), rng, first_on_tie=c.first_on_tie)]

    def observe(self, track: Track, rating: float) -> None:
        """Let the reward model see one rating (every rating counts, also the first of an episode)."""
        if self.model is not None:
            self.model.observe(taste_basis(track, self.params), rating)

    def _plan(self, track: Track, model: RewardModel, rng: np.random.Generator) -> Edit:
        """Model-based choice: the edit (or chain of up to ``plan_depth`` edits, by beam search) whose result
        the reward model rates highest above ``track``, plus ``q_weight`` times the first edit's Q-value."""
        c = self.config
        mean, cov = model.posterior()
        sample = c.acquisition == "thompson" or (c.acquisition == "auto" and model.prior.learners == 0)
        weights = rng.multivariate_normal(mean, cov, method="cholesky") if sample else mean
        start = float(taste_basis(track, self.params) @ weights)
        best: tuple[float, Edit] | None = None
        frontier: list[tuple[Edit, Track]] = [((), track)]
        seen = {track}
        for _ in range(max(1, c.plan_depth)):
            layer = self._expand(frontier, seen)
            if not layer:
                break
            basis = np.stack([taste_basis(child, self.params) for _, child in layer])
            gains = basis @ weights - start
            if c.q_weight:
                gains = gains + c.q_weight * np.array([self.estimate(track, edit[0])[0] for edit, _ in layer])
            order = np.lexsort((rng.random(len(layer)), gains))[::-1]  # best first, ties broken at random
            if best is None or gains[order[0]] > best[0]:
                best = (float(gains[order[0]]), layer[int(order[0])][0])
            frontier = [layer[int(k)] for k in order[: c.plan_beam]]
        return best[1] if best is not None else (self._choose_one(track, 0, rng),)

    def _expand(self, frontier: list[tuple[Edit, Track]], seen: set[Track]) -> list[tuple[Edit, Track]]:
        """Every track one more edit away from the frontier, each reached once."""
        layer = []
        for edit, parent in frontier:
            for action, child in self.moves(parent):
                if child not in seen:
                    seen.add(child)
                    layer.append(((*edit, action), child))
        return layer

    def dream(self, track: Track, rng: np.random.Generator) -> None:
        """Dyna: Q-updates from ``dyna_updates`` edits of ``track`` simulated with the reward model."""
        if self.model is None or not self.config.dyna_updates:
            return
        actions = self.candidates(track)
        start = float(self.model.predict(taste_basis(track, self.params)))
        for k in rng.choice(len(actions), size=min(self.config.dyna_updates, len(actions)), replace=False):
            child = self.apply(track, actions[int(k)])
            reward = float(self.model.predict(taste_basis(child, self.params))) - start
            self.learn(track, (actions[int(k)],), reward, child)

    def learn(self, track: Track, edit: Edit, reward: float, next_track: Track) -> float | None:
        """Update Q(state, action) toward ``reward + gamma * max Q`` for each action of ``edit`` (each in the
        state it was applied to); returns the new value of the first action's most specific key."""
        c = self.config
        if not c.learns:
            return None
        first_value = None
        for action in edit:
            bootstrap_state = next_track if c.bootstrap == "next" else track
            max_next = self.max_q(bootstrap_state)
            for key in self.keys(track, action):
                value = q_update(self.table.get(key), reward, max_next, c.alpha, c.gamma)
                self.table.set(key, value)
                first_value = value if first_value is None else first_value
            track = self.apply(track, action)
        return first_value


@lru_cache(maxsize=4096)
def _changing_moves(
    track: Track, params: TrackParams, ops: tuple[int, ...], in_scale: bool
) -> tuple[tuple[Action, Track], ...]:
    """(action, resulting track) for the actions that change ``track``, or for all of them if none does; cached,
    as the planner and the learner ask about the same tracks many times."""
    moves = tuple((a, apply_action(track, a, params, in_scale=in_scale)) for a in legal_actions(track, ops))
    return tuple(m for m in moves if m[1] != track) or moves


def _ops(actions: list[Action]) -> set[int]:
    return {op for op, _ in actions}


def context_keys(track: Track, action: Action, params: TrackParams) -> list[str]:
    """The improved agent's abstract state-action keys, from the full context down to the action type."""
    op, i = action
    pitches = track.pitches
    if op in (PITCH_UP, PITCH_DOWN):
        direction = 1 if op == PITCH_UP else -1
        prev = _neighbour(pitches[i], pitches[i - 1] if i > 0 else None, direction)
        nxt = _neighbour(pitches[i], pitches[i + 1] if i + 1 < len(pitches) else None, direction)
        end = _ending(pitches[i], direction, params) if i == len(pitches) - 1 else "-"
        edge = _edge(pitches, i, direction)
        return [f"step|{prev}|{nxt}|{end}|{edge}", f"step|{prev}|{nxt}", "step"]
    if op in (LONGER, SHORTER):
        sign = "+" if op == LONGER else "-"
        size = DURATIONS.index(track.beats[i]) if track.beats[i] in DURATIONS else 0
        last = "e" if i == len(pitches) - 1 else "m"
        return [f"len{sign}|{size}|{last}", f"len{sign}|{size}", f"len{sign}"]
    if op in (REMOVE, SMOOTH):
        name = "rm" if op == REMOVE else "smooth"
        leaps = sum(1 for j in (i - 1, i + 1) if 0 <= j < len(pitches) and abs(pitches[j] - pitches[i]) > 2)
        return [f"{name}|{leaps}|{'e' if i == len(pitches) - 1 else 'm'}", f"{name}|{leaps}", name]
    if op == PERCUSSION_CHANGE:
        return ["perc"]
    return _phrase_keys(op, track, params)


def _phrase_keys(op: int, track: Track, params: TrackParams) -> list[str]:
    """Whole-track edits, keyed by a coarse bucket of the feature they change."""
    features = melody_features(track, params)
    if op == RESOLVE_END:
        return [f"resolve|{int(features.tonic_end)}", "resolve"]
    if op == ECHO:
        return [f"echo|{round(features.repetition * 4)}", "echo"]
    if op in (DENSER, SPARSER):
        name = "denser" if op == DENSER else "sparser"
        return [f"{name}|{min(int(features.density * 2), 8)}", name]
    if op in (NARROW, WIDEN):
        name = "narrow" if op == NARROW else "widen"
        return [f"{name}|{min(int(features.range_semitones // 3), 8)}", name]
    raise ValueError(f"unknown action type {op}")


def _neighbour(pitch: int, other: int | None, direction: int) -> str:
    """Where a neighbour lies for a step in ``direction``: toward/away, within a step or a leap; or none/same."""
    if other is None:
        return "n"
    gap = (other - pitch) * direction
    if gap == 0:
        return "="
    return ("t" if gap > 0 else "a") + ("s" if abs(gap) <= STEP_SEMITONES else "L")


def _ending(pitch: int, direction: int, params: TrackParams) -> str:
    """For the last note: on the tonic (T), or is the step toward (t) or away from (a) the nearest tonic."""
    offset = (pitch - params.base_note) % 12
    if offset == 0:
        return "T"
    toward_up = offset >= 6
    return "t" if (direction > 0) == toward_up else "a"


def _edge(pitches: tuple[int, ...], i: int, direction: int) -> str:
    """Does the step widen the range (o), narrow it (i), or neither (-)?"""
    top, bottom = max(pitches), min(pitches)
    outer = top if direction > 0 else bottom
    inner = bottom if direction > 0 else top
    if pitches[i] == outer:
        return "o"
    if pitches[i] == inner and pitches.count(inner) == 1:
        return "i"
    return "-"
