"""State changes of the tutor: choose the next exercise, record a take's outcome, ratings, overrides.

Retraining lives in ``webapp.tutor.training``. Policies come from ``inference.tutor``; this module
turns the database into their inputs (catalogue, observed history) and logs every decision with its action
probabilities, inputs, outcome and reward.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inference.tutor.exercises import HELPS, NO_HELP, TEMPO_FACTORS, Actions, Catalogue
from inference.tutor.history import LearnerHistory, take_score
from inference.tutor.policies import Policy, PPOPolicy, TutorObs, make_policy
from webapp.accounts.models import User
from webapp.courses.models import Course
from webapp.practice.models import Take, TakeStatus
from webapp.practice.services import MAX_TEMPO_FACTOR, MIN_TEMPO_FACTOR
from webapp.tutor import selectors
from webapp.tutor.models import MAX_RATING, MIN_RATING, Decision, LearnerState, PolicyVersion, TakeRating
from webapp.tutor.policy_store import ensure_policy_version

logger = logging.getLogger(__name__)
_policies: dict[int, Policy] = {}
_policies_lock = threading.Lock()


class TutorError(ValueError):
    """A request the tutor cannot honour; ``code`` goes to the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def policy_for(version: PolicyVersion) -> Policy:
    """The policy object of a version (ONNX sessions are built once per process)."""
    with _policies_lock:
        policy = _policies.get(version.pk)
        if policy is None:
            policy = PPOPolicy(bytes(version.onnx)) if version.onnx else make_policy(version.name)
            _policies[version.pk] = policy
    return policy


# -- choosing -----------------------------------------------------------------------------------------------


def choose_next_exercise(learner: User, course: Course) -> Decision:
    """The open recommendation for this learner and course, or a new one from the active policy."""
    if not selectors.can_use_course(learner, course):
        raise PermissionError("You are not enrolled in this course.")
    existing = selectors.open_decision(learner, course)
    if existing is not None:
        return existing
    catalogue = selectors.catalogue_for(learner, course)
    version = ensure_policy_version(settings.ETUDE_TUTOR_POLICY)
    policy = policy_for(version)
    with transaction.atomic():
        state = _locked_state(learner, course)
        history = LearnerHistory.from_state(state.history, catalogue)
        obs = TutorObs.full(catalogue, history)
        with _policies_lock:  # policies keep a random generator; reseeding and acting must not interleave
            policy.reseed([learner.pk, state.takes_observed, Decision.objects.filter(learner=learner).count()])
            actions = policy.act(obs)
        reason = policy.reason(obs, actions, 0)
        # Acting may update the per-learner adaptation; keep what the history does not model.
        state.history = history.to_state(0, catalogue) | {"observed_takes": state.history.get("observed_takes", [])}
        state.save(update_fields=["history", "updated_at"])
        return _log_decision(learner, course, version, catalogue, history, actions, reason)


def _locked_state(learner: User, course: Course) -> LearnerState:
    LearnerState.objects.get_or_create(learner=learner, course=course)
    return LearnerState.objects.select_for_update().get(learner=learner, course=course)


def _log_decision(
    learner: User, course: Course, version: PolicyVersion, catalogue: Catalogue, history: LearnerHistory,
    actions: Actions, reason: str,
) -> Decision:
    j = int(actions.exercise[0])
    exercise = catalogue.exercises[j]
    probabilities: dict[str, Any] = {
        "exercise": {key: round(float(p), 6) for key, p in zip(catalogue.keys, actions.exercise_probs[0], strict=True)}
    }
    if actions.tempo_probs is not None and actions.help_probs is not None:
        probabilities["tempo"] = {str(t): round(float(p), 6) for t, p in zip(TEMPO_FACTORS, actions.tempo_probs[0],
                                                                              strict=True)}
        probabilities["help"] = {h: round(float(p), 6) for h, p in zip(HELPS, actions.help_probs[0], strict=True)}
    context = {
        "keys": list(catalogue.keys),
        "titles": [e.title for e in catalogue.exercises],
        "features": np.round(history.features(catalogue)[0], 4).tolist(),
        "help_mask": catalogue.help_mask.tolist(),
        "action": {"exercise": j, "tempo": int(actions.tempo[0]), "help": int(actions.help[0])},
    }
    return Decision.objects.create(
        learner=learner, course=course, policy_version=version, lesson_id=exercise.meta["lesson_id"],
        exercise_key=exercise.key, exercise_title=exercise.title, from_measure=exercise.meta["from_measure"],
        to_measure=exercise.meta["to_measure"], tempo_factor=TEMPO_FACTORS[int(actions.tempo[0])],
        help=HELPS[int(actions.help[0])], probability=float(actions.probability[0]), probabilities=probabilities,
        context=context, reason=reason[:300],
    )


# -- the learner's answers -----------------------------------------------------------------------------------


def override_decision(
    learner: User, decision: Decision, *, exercise_key: Any, tempo_factor: Any, help_: Any
) -> Decision:
    """The learner picks something else; the policy's recommendation stays logged beside their choice."""
    if decision.learner_id != learner.pk:
        raise LookupError("No such decision.")
    if not decision.is_open:
        raise TutorError("decision_closed", "This recommendation has already been practised.")
    keys = decision.context.get("keys", [])
    if exercise_key not in keys:
        raise TutorError("unknown_exercise", "Choose one of the exercises of this course.")
    try:
        tempo = float(tempo_factor)
    except (TypeError, ValueError):
        raise TutorError("invalid_tempo", "tempo_factor must be a number.") from None
    if not MIN_TEMPO_FACTOR <= tempo <= MAX_TEMPO_FACTOR:
        raise TutorError("invalid_tempo", f"tempo_factor must be between {MIN_TEMPO_FACTOR} and {MAX_TEMPO_FACTOR}.")
    if help_ not in HELPS:
        raise TutorError("invalid_help", f"help must be one of {', '.join(HELPS)}.")
    catalogue = selectors.catalogue_for(learner, decision.course)
    if exercise_key not in catalogue.keys:
        raise TutorError("unknown_exercise", "That exercise is no longer in this course.")
    meta = catalogue.exercises[catalogue.index(exercise_key)].meta
    decision.is_overridden = True
    decision.override = {"exercise_key": exercise_key, "lesson_id": meta["lesson_id"],
                         "from_measure": meta["from_measure"], "to_measure": meta["to_measure"],
                         "tempo_factor": tempo, "help": help_, "at": timezone.now().isoformat()}
    decision.save(update_fields=["is_overridden", "override"])
    return decision


def check_rating(value: Any) -> int:
    """A whole number from 1 to 5 (a numeric string is fine); anything else is refused."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not MIN_RATING <= value <= MAX_RATING:
        raise TutorError("invalid_rating", f"Rate the exercise with a whole number from {MIN_RATING} to {MAX_RATING}.")
    return value


@transaction.atomic
def rate_take(learner: User, take: Take, value: Any) -> TakeRating:
    """Store the learner's rating of a finished take and fold it into that take's decision reward."""
    rating = check_rating(value)
    if take.user_id != learner.pk:
        raise LookupError("No such take.")
    if take.is_open:
        raise TutorError("take_open", "Rate a take once it has finished.")
    saved, _ = TakeRating.objects.update_or_create(take=take, defaults={"learner": learner, "rating": rating})
    for decision in Decision.objects.select_for_update().filter(take=take, outcome__isnull=False):
        decision.outcome = {**decision.outcome, "rating": rating}
        decision.reward = reward_for(decision.outcome)
        decision.save(update_fields=["outcome", "reward"])
        _note_rating(learner, decision.course, decision.outcome.get("exercise_key"), rating)
    return saved


def reward_for(outcome: dict[str, Any]) -> float:
    """Improvement between takes of the exercise, plus a tenth of (rating - 3) when the learner rated it."""
    rating = outcome.get("rating") or 0
    return round(float(outcome.get("improvement", 0.0)) + (0.1 * (rating - 3) if rating else 0.0), 6)


def _note_rating(learner: User, course: Course, key: str | None, rating: int) -> None:
    state = LearnerState.objects.select_for_update().filter(learner=learner, course=course).first()
    if state is None or key is None:
        return
    per_exercise = state.history.get("exercises", {})
    if key in per_exercise:
        per_exercise[key]["last_rating"] = float(rating)
    old = state.history.get("recent_rating")
    state.history["recent_rating"] = float(rating) if old is None else 0.7 * old + 0.3 * rating
    state.save(update_fields=["history", "updated_at"])


# -- outcomes ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TakeObservation:
    accuracy: float
    timing_error_ms: float
    completion: float
    tempo_factor: float


def observe_take(take: Take, from_measure: int | None, to_measure: int | None) -> TakeObservation | None:
    """What the tutor sees of a take, over the exercise's bars only (a passage ends before the piece does)."""
    in_bars = take.lesson.piece.note_ids_between(from_measure, to_measure)
    results = [r for r in take.note_results.all() if r.note_id in in_bars]
    if not results:
        return None
    correct = sum(r.result == "correct" for r in results)
    missed = sum(r.result == "missed" for r in results)
    timings = [abs(r.ms) for r in results if r.ms is not None]
    return TakeObservation(
        accuracy=correct / len(results),
        timing_error_ms=float(np.mean(timings)) if timings else 0.0,
        completion=1.0 - missed / len(results),
        tempo_factor=take.played_bpm / take.lesson.target_bpm,  # the tutor's tempos are relative to the lesson's
    )


OBSERVED_TAKES_KEPT = 200
"""Recent take ids kept in a state, so a take saved again (e.g. re-aligned) is not counted twice."""


def record_outcome(take: Take) -> Decision | None:
    """After a take ends: update the learner's tutor state, and close the decision the take answered."""
    if take.status not in (TakeStatus.FINISHED, TakeStatus.INTERRUPTED) or Decision.objects.filter(take=take).exists():
        return None
    learner = take.user
    decision = (
        Decision.objects.filter(learner=learner, take__isnull=True, outcome__isnull=True, lesson=take.lesson).first()
        or selectors.open_decision(learner, take.lesson.course)
    )
    course = decision.course if decision is not None else take.lesson.course
    if not selectors.can_use_course(learner, course):
        return None
    catalogue = selectors.catalogue_for(learner, course)
    key = selectors.exercise_key_for_take(catalogue, take, decision.exercise_key if decision is not None else None)
    if key is None:
        return None
    meta = catalogue.exercises[catalogue.index(key)].meta
    seen = observe_take(take, meta["from_measure"], meta["to_measure"])
    if seen is None:
        return None  # the engine judged nothing: no evidence about the learner
    with transaction.atomic():
        return _apply_outcome(take, decision, course, catalogue, key, seen)


def _apply_outcome(take: Take, decision: Decision | None, course: Course, catalogue: Catalogue, key: str,
                   seen: TakeObservation) -> Decision | None:
    state = _locked_state(take.user, course)
    observed = list(state.history.get("observed_takes", []))
    if take.pk in observed:
        return None
    history = LearnerHistory.from_state(state.history, catalogue)
    is_followed = decision is not None and not decision.is_overridden and decision.exercise_key == key
    help_index = HELPS.index(decision.help) if decision is not None and is_followed else NO_HELP
    tempo_index = int(np.argmin([abs(t - seen.tempo_factor) for t in TEMPO_FACTORS]))
    j = catalogue.index(key)
    rating_row = TakeRating.objects.filter(take=take).first()
    rating = rating_row.rating if rating_row is not None else 0
    one_hot = np.eye(len(catalogue))[[j]]
    actions = Actions(np.array([j]), np.array([tempo_index]), np.array([help_index]), np.ones(1), one_hot)
    improvement = history.record(
        actions, np.array([seen.accuracy]), np.array([seen.timing_error_ms]),
        np.array([seen.tempo_factor * seen.completion]), np.zeros(1), np.ones(1, dtype=bool),
    )[0]
    if decision is not None and is_followed:
        policy_for(decision.policy_version).learn(TutorObs.full(catalogue, history), actions, np.array([improvement]))
    state.history = history.to_state(0, catalogue) | {"observed_takes": (observed + [take.pk])[-OBSERVED_TAKES_KEPT:]}
    state.takes_observed += 1
    state.save(update_fields=["history", "takes_observed", "updated_at"])
    if rating:
        _note_rating(take.user, course, key, rating)
    if decision is None:
        return None
    score = float(take_score(seen.accuracy, seen.timing_error_ms, seen.completion))
    decision.take, decision.is_followed, decision.outcome_at = take, is_followed, timezone.now()
    decision.outcome = {"exercise_key": key, "accuracy": round(seen.accuracy, 4),
                        "timing_error_ms": round(seen.timing_error_ms, 1), "completion": round(seen.completion, 4),
                        "tempo_reached": round(seen.tempo_factor * seen.completion, 4), "score": round(score, 4),
                        "improvement": round(float(improvement), 6), "rating": rating or None}
    decision.reward = reward_for(decision.outcome)
    decision.save(update_fields=["take", "is_followed", "outcome", "reward", "outcome_at"])
    return decision
