"""The tutor in the product: decisions logged with their probabilities, outcomes and rewards recorded when a
take finishes, overrides, ratings, retraining, and each learner seeing only their own."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from tests.webapp.conftest import client_for
from webapp.practice.models import Take
from webapp.practice.services import create_take, finish_take, start_take
from webapp.tutor.models import Decision, LearnerState, PolicyVersion, TakeRating

pytestmark = pytest.mark.django_db


def _next(client, lesson) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(reverse("tutor:next"), {"lesson": lesson.pk})
    assert response.status_code == 200, response.content
    return response.json()


def _play(learner, lesson, capture, *, correct_share: float, from_measure: int | None = None) -> Take:  # type: ignore[no-untyped-def]
    """A finished take of ``lesson`` with ``correct_share`` of the notes right, spread evenly through it."""
    take = create_take(learner, lesson, from_measure=from_measure)
    start_take(take, tempo_factor=1.0, from_measure=take.from_measure, follower="hmm")
    notes = [n for n in lesson.piece.notes if n["measure"] >= take.from_measure]
    is_right = [int((i + 1) * correct_share) > int(i * correct_share) for i in range(len(notes))]
    verdicts = [{"note_id": n["note_id"], "result": "correct" if ok else "wrong_pitch", "ms": 30}
                for n, ok in zip(notes, is_right, strict=True)]
    with capture(execute=True):
        finish_take(take, verdicts=verdicts, summary={"accuracy": correct_share}, duration_s=12.0, pcm16=b"",
                    sample_rate=16000, reason="stop", is_complete=True)
    take.refresh_from_db()
    return take


def _post_json(client, url: str, body: object):  # type: ignore[no-untyped-def]
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_decision_is_logged_with_its_probabilities_and_inputs(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    shown = _next(client_for(learner), lesson)
    decision = Decision.objects.get(pk=shown["decision_id"])
    exercise_probs = decision.probabilities["exercise"]
    assert set(exercise_probs) == set(decision.context["keys"]) and len(exercise_probs) == 4  # 3 passages + lesson
    assert sum(exercise_probs.values()) == pytest.approx(1.0, abs=1e-4)
    assert 0 < decision.probability <= exercise_probs[decision.exercise_key] + 1e-9
    assert len(decision.context["features"]) == 4 and decision.policy_version.name == "ppo"
    assert shown["reason"] and shown["lesson_url"].startswith(reverse("practice:lesson", args=[lesson.pk]))
    assert _next(client_for(learner), lesson)["decision_id"] == decision.pk  # asked again: the same one


def test_finishing_a_take_records_outcome_reward_and_moves_the_recommendation_on(  # type: ignore[no-untyped-def]
    learner, lesson, django_capture_on_commit_callbacks
) -> None:
    client = client_for(learner)
    first = Decision.objects.get(pk=_next(client, lesson)["decision_id"])
    take = _play(learner, lesson, django_capture_on_commit_callbacks, correct_share=0.5,
                 from_measure=first.from_measure)
    first.refresh_from_db()
    assert first.take_id == take.pk and first.is_followed, (first.exercise_key, take.from_measure, first.outcome)
    assert first.outcome["accuracy"] == pytest.approx(0.5, abs=0.05)
    assert first.reward == pytest.approx(first.outcome["score"] - 0.5, abs=1e-4)  # a first take is compared with 0.5
    state = LearnerState.objects.get(learner=learner, course=lesson.course)
    assert state.takes_observed == 1 and first.exercise_key in state.history["exercises"]
    second = _next(client, lesson)
    assert second["decision_id"] != first.pk
    assert Decision.objects.get(pk=second["decision_id"]).context["features"] != first.context["features"]


def test_a_take_saved_twice_is_observed_once(learner, lesson, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    take = _play(learner, lesson, django_capture_on_commit_callbacks, correct_share=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        take.save()
    assert LearnerState.objects.get(learner=learner, course=lesson.course).takes_observed == 1


def test_the_learner_can_override_the_recommendation(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    shown = _next(client, lesson)
    response = _post_json(client, shown["override_url"],
                          {"exercise": f"lesson:{lesson.pk}", "tempo_factor": 0.7, "help": "metronome"})
    assert response.status_code == 200
    decision = Decision.objects.get(pk=shown["decision_id"])
    assert decision.is_overridden and decision.override["tempo_factor"] == 0.7
    assert decision.probabilities  # the policy's own choice stays logged
    bad = _post_json(client, shown["override_url"], {"exercise": "lesson:999999", "help": "none"})
    assert bad.status_code == 400 and bad.json()["error"] == "unknown_exercise"
    bad = _post_json(client, shown["override_url"], {"exercise": f"lesson:{lesson.pk}", "help": "magic"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_help"


@pytest.mark.parametrize("value", [0, 6, -1, 3.5, "four", None, True, "  "])
def test_ratings_outside_one_to_five_are_refused(learner, lesson, value, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    take = _play(learner, lesson, django_capture_on_commit_callbacks, correct_share=1.0)
    response = _post_json(client_for(learner), reverse("tutor:rate_take", args=[take.pk]), {"rating": value})
    assert response.status_code == 400
    message = "Rate the exercise with a whole number from 1 to 5."
    assert response.json() == {"error": "invalid_rating", "message": message}
    assert not TakeRating.objects.exists()


def test_a_rating_is_stored_and_folded_into_the_reward(learner, lesson, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    decision = Decision.objects.get(pk=_next(client, lesson)["decision_id"])
    take = _play(learner, lesson, django_capture_on_commit_callbacks, correct_share=0.8,
                 from_measure=decision.from_measure)
    decision.refresh_from_db()
    before = decision.reward
    response = client.post(reverse("tutor:rate_take", args=[take.pk]), {"rating": "5"})
    assert response.status_code == 200 and response.json()["rating"] == 5
    decision.refresh_from_db()
    assert decision.outcome["rating"] == 5 and decision.reward == pytest.approx(before + 0.2)


def test_each_learner_sees_only_their_own(  # type: ignore[no-untyped-def]
    learner, outsider, lesson, course, django_capture_on_commit_callbacks
) -> None:
    shown = _next(client_for(learner), lesson)
    take = _play(learner, lesson, django_capture_on_commit_callbacks, correct_share=1.0)
    other = client_for(outsider)
    assert other.get(reverse("tutor:next"), {"lesson": lesson.pk}).status_code == 404  # not enrolled
    assert _post_json(other, shown["override_url"], {"exercise": f"lesson:{lesson.pk}"}).status_code == 404
    assert _post_json(other, reverse("tutor:rate_take", args=[take.pk]), {"rating": 3}).status_code == 404
    course.enrollments.create(learner=outsider)
    theirs = _next(other, lesson)
    assert theirs["decision_id"] != shown["decision_id"]
    assert Decision.objects.get(pk=theirs["decision_id"]).learner == outsider
    anonymous = client_for(learner)
    anonymous.logout()
    assert anonymous.get(reverse("tutor:next"), {"lesson": lesson.pk}).status_code == 302


def test_the_lesson_page_shows_next_up(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    page = client_for(learner).get(reverse("practice:lesson", args=[lesson.pk])).content.decode()
    assert 'id="tutor-next-up"' in page and "tutor/next-up.js" in page


def test_admins_can_review_decisions(admin_user, learner, lesson) -> None:  # type: ignore[no-untyped-def]
    _next(client_for(learner), lesson)
    admin = client_for(admin_user)
    assert admin.get(reverse("admin:tutor_decision_changelist")).status_code == 200
    decision = Decision.objects.get()
    assert admin.get(reverse("admin:tutor_decision_change", args=[decision.pk])).status_code == 200


def test_the_retrain_task_publishes_a_new_version(  # type: ignore[no-untyped-def]
    learner, lesson, settings, django_capture_on_commit_callbacks
) -> None:
    from webapp.tutor.tasks import retrain_tutor_policy

    settings.ETUDE_TUTOR_RETRAIN_ITERATIONS = 1
    settings.ETUDE_TUTOR_RETRAIN_LEARNERS = 8
    settings.ETUDE_TUTOR_RETRAIN_EVAL_LEARNERS = 8
    settings.ETUDE_TUTOR_PUBLISH_TOLERANCE_PCT = 1000
    decision = Decision.objects.get(pk=_next(client_for(learner), lesson)["decision_id"])
    _play(learner, lesson, django_capture_on_commit_callbacks, correct_share=0.7, from_measure=decision.from_measure)
    followed = list(Decision.objects.values_list("pk", "reward", "is_followed", "outcome"))
    result = retrain_tutor_policy.delay().get()
    assert result["version"] == 2 and result["is_active"], followed
    newest = PolicyVersion.objects.get(name="ppo", version=2)
    assert newest.onnx and newest.metrics["logged_decisions"] == 1, followed
    assert list(PolicyVersion.objects.filter(name="ppo", is_active=True)) == [newest]
    assert Decision.objects.get(pk=_next(client_for(learner), lesson)["decision_id"]).policy_version == newest


def test_a_worse_policy_is_not_published() -> None:
    from webapp.tutor.policy_store import should_publish

    assert should_publish(50.0, 50.0, 0) and should_publish(52.0, 50.0, 5)
    assert not should_publish(53.0, 50.0, 5)


def test_a_take_from_bar_one_answers_a_whole_lesson_recommendation(  # type: ignore[no-untyped-def]
    learner, lesson, django_capture_on_commit_callbacks
) -> None:
    """Bar 1 starts both the whole lesson and its first passage: the recommendation decides which was practised."""
    decision = Decision.objects.get(pk=_next(client_for(learner), lesson)["decision_id"])
    Decision.objects.filter(pk=decision.pk).update(
        exercise_key=f"lesson:{lesson.pk}", from_measure=lesson.piece.first_measure
    )
    _play(
        learner, lesson, django_capture_on_commit_callbacks, correct_share=0.8, from_measure=lesson.piece.first_measure
    )
    decision.refresh_from_db()
    assert decision.is_followed and decision.outcome["exercise_key"] == f"lesson:{lesson.pk}"


def test_the_tutor_reads_tempo_relative_to_the_lessons_target(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    """A take's tempo factor is relative to the written tempo; the tutor's tempos are relative to the lesson's."""
    from webapp.tutor.services import observe_take

    lesson.tempo_bpm = lesson.piece.tempo_bpm / 2
    lesson.save()
    take = create_take(learner, lesson, tempo_factor=0.5)  # what the page sends at 100 % of the lesson's tempo
    finish_take(take, verdicts=[{"note_id": lesson.piece.notes[0]["note_id"], "result": "correct"}], summary={},
                duration_s=1.0, pcm16=b"", sample_rate=16000, reason="stop", is_complete=True)
    observed = observe_take(take, None, None)
    assert observed is not None and observed.tempo_factor == pytest.approx(1.0)
    assert take.played_bpm == pytest.approx(lesson.target_bpm)
