"""Admins review the feedback data: a dashboard (takes, tutor decisions, ratings, voice-command transcripts)
and CSV exports, both under the same filters; nobody else may see either."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections
from django.test import AsyncClient, Client
from django.urls import reverse

from inference.types import ScoreNote
from tests.webapp.conftest import client_for
from webapp.accounts.models import Role, User
from webapp.accounts.services import create_user
from webapp.composer.models import ComposerSession, Episode, Melody, Rating
from webapp.courses.models import Course, Enrollment, Lesson, Piece
from webapp.courses.services import create_course
from webapp.practice.models import Take, TakeStatus, VoiceCommand
from webapp.practice.services import record_command
from webapp.spreadsheets import defuse
from webapp.tutor.models import Decision, PolicyVersion, TakeRating

PASSWORD = "a-long-test-password"
MONDAY = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 3, 18, 30, tzinfo=UTC)
KINDS = ["takes", "decisions", "ratings", "transcripts"]
PAGES = [("review:dashboard", []), *(("review:export", [kind]) for kind in KINDS)]


# -- building the feedback data ----------------------------------------------------------------------------


def _lesson(course: Course, title: str) -> Lesson:
    """A lesson on a tiny hand-made piece: the review pages never look at the score itself."""
    notes = [ScoreNote("n1", onset_q=0.0, onset_s=0.0, duration_q=1.0, duration_s=0.6, midi=60, measure=1, beat=1.0)]
    piece = Piece.objects.create(
        title=title, owner=course.instructor, source_name="tiny.abc", format="abc", musicxml="<score/>", svg="",
        notes=[n.to_dict() for n in notes], tempo_bpm=100.0, measure_count=1, note_count=1,
    )  # fmt: skip
    return Lesson.objects.create(course=course, piece=piece, title=title)


def _take(user: User, lesson: Lesson, when: datetime, **fields: Any) -> Take:
    values: dict[str, Any] = {
        "status": TakeStatus.FINISHED, "accuracy": 0.8, "duration_s": 90.0, "end_reason": "stopped",
        "follower": "hmm", "summary": {"notes_total": 10, "counts": {"correct": 8, "missed": 2}, "accuracy": 0.8},
    }  # fmt: skip
    take = Take.objects.create(user=user, lesson=lesson, **(values | fields))
    Take.objects.filter(pk=take.pk).update(created_at=when)  # auto_now_add ignores a value given at creation
    take.refresh_from_db()
    return take


def _policy(name: str = "bandit", version: int = 1) -> PolicyVersion:
    return PolicyVersion.objects.create(name=name, version=version, is_active=True)


def _decision(take: Take, policy: PolicyVersion, *, reward: float, help_: str = "none", **fields: Any) -> Decision:
    """A closed decision: the take answered it and its outcome is in (so the tutor's take hook leaves it)."""
    decision = Decision.objects.create(
        learner=take.user, course=take.lesson.course, lesson=take.lesson, policy_version=policy,
        exercise_key=f"lesson:{take.lesson_id}", exercise_title=take.lesson.title, tempo_factor=1.0, help=help_,
        probability=0.25, probabilities={"exercise": [0.25, 0.75]}, context={"keys": [f"lesson:{take.lesson_id}"]},
        reason="weakest passage", take=take, is_followed=True, outcome={"accuracy": take.accuracy},
        reward=reward, outcome_at=take.created_at, **fields,
    )  # fmt: skip
    Decision.objects.filter(pk=decision.pk).update(created_at=take.created_at)
    decision.refresh_from_db()
    return decision


def _composer_ratings(user: User, values: list[int], when: datetime) -> ComposerSession:
    """One composer session of ``user`` with a melody rated each of ``values``."""
    session = ComposerSession.objects.create(
        user=user, base_note=62, scale="dorian", length=6, tempo_bpm=100, ratings_per_episode=5, turn={}
    )
    episode = Episode.objects.create(session=session, number=0)
    for step, value in enumerate(values):
        melody = Melody.objects.create(episode=episode, step=step, track={"notes": [62, 64]}, edit=[[1, 0]])
        rating = Rating.objects.create(melody=melody, value=value, reward=(value - 5.5) / 4.5)
        Rating.objects.filter(pk=rating.pk).update(created_at=when)
    return session


def _command(
    user: User, lesson: Lesson, when: datetime, text: str, intent: dict[str, Any], take: Take | None = None,
    **event: Any,
) -> None:
    """A voice command as the practice socket or the between-takes endpoint stores it."""
    command = record_command(user, lesson, {"text": text, "intent": intent, **event}, take=take)
    VoiceCommand.objects.filter(pk=command.pk).update(created_at=when)


@pytest.fixture
def data(instructor: User, learner: User, course: Course) -> dict[str, Any]:
    """Two courses, two learners, two days: the learner practises the fiddle course on Monday, a second
    learner the piano course on Tuesday; each has a tutor decision, a take rating and composer ratings."""
    piano = create_course(instructor, "Piano basics")
    other = create_user("second", PASSWORD, role=Role.LEARNER)
    Enrollment.objects.create(course=piano, learner=other)
    reel, scales = _lesson(course, "Reel"), _lesson(piano, "Scales")
    monday_takes = [
        _take(learner, reel, MONDAY),
        _take(learner, reel, MONDAY, status=TakeStatus.INTERRUPTED, accuracy=0.1, duration_s=30.0,
              end_reason="disconnected (1006)"),
    ]  # fmt: skip
    tuesday_take = _take(other, scales, TUESDAY, accuracy=0.6, duration_s=150.0, follower="oltw")
    policy = _policy()
    _decision(monday_takes[0], policy, reward=0.5)
    _decision(tuesday_take, policy, reward=-0.25, help_="metronome")
    TakeRating.objects.create(take=monday_takes[0], learner=learner, rating=4)
    TakeRating.objects.create(take=tuesday_take, learner=other, rating=2)
    _composer_ratings(learner, [7, 9], MONDAY)
    _composer_ratings(other, [3], TUESDAY)
    _command(learner, reel, MONDAY, "again from bar twelve", {"name": "seek", "measure": 12}, confidence=0.9,
             take=monday_takes[0], t=4.5)
    _command(learner, reel, MONDAY, "play it like a dolphin", {"name": "unknown"}, confidence=0.2, source="clip")
    _command(other, scales, TUESDAY, "tempo eighty", {"name": "tempo", "bpm": 80}, confidence=0.8,
             source="push_to_talk")
    return {"piano": piano, "fiddle": course, "other": other, "reel": reel, "scales": scales}


def _dashboard(user: User, **params: Any) -> Any:
    return client_for(user).get(reverse("review:dashboard"), params)


async def _export(user: User, kind: str, **params: Any) -> tuple[int, list[list[str]]]:
    """The status and the parsed rows of an export, read through the ASGI handler as daphne serves it."""
    client = AsyncClient()
    # Channels' wrapper closes the worker thread's connection afterwards (aforce_login would leave it open).
    await database_sync_to_async(client.force_login)(user)
    response = await client.get(reverse("review:export", args=[kind]), params)
    if response.status_code != 200:
        return response.status_code, []
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="etude-{kind}-')
    body = b"".join([chunk async for chunk in response.streaming_content]).decode()
    # A server closes the connection the rows were read on when the response ends; the test client does not.
    await sync_to_async(connections.close_all)()
    return response.status_code, list(csv.reader(io.StringIO(body)))


# -- who may review ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_visitors_are_sent_to_login(name: str, args: list[str]) -> None:
    response = Client().get(reverse(name, args=args))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ["learner", "instructor"])
@pytest.mark.parametrize(("name", "args"), PAGES)
def test_learners_and_instructors_may_not_review(request, role: str, name: str, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    user = request.getfixturevalue(role)
    assert client_for(user).get(reverse(name, args=args)).status_code == 403


def test_only_admins_see_the_review_link(admin_user: User, instructor: User) -> None:
    link = f'href="{reverse("review:dashboard")}"'
    assert link in client_for(admin_user).get(reverse("courses:list")).content.decode()
    assert link not in client_for(instructor).get(reverse("courses:list")).content.decode()


# -- the dashboard -----------------------------------------------------------------------------------------


def test_with_no_data_every_section_says_so(admin_user: User) -> None:
    response = _dashboard(admin_user)
    assert response.status_code == 200
    content = response.content.decode()
    for kind in ("takes", "tutor decisions", "take ratings", "composer ratings", "voice commands"):
        assert f"No {kind} match these filters." in content


def test_the_dashboard_counts_takes_decisions_and_ratings(admin_user: User, data: dict[str, Any]) -> None:
    response = _dashboard(admin_user)
    assert response.status_code == 200
    takes, tutor, composer = response.context["takes"], response.context["tutor"], response.context["composer"]
    assert takes["totals"]["takes"] == 3
    assert (takes["totals"]["finished"], takes["totals"]["interrupted"]) == (2, 1)
    assert takes["totals"]["minutes"] == pytest.approx((90 + 30 + 150) / 60)
    assert takes["totals"]["mean_accuracy"] == pytest.approx((0.8 + 0.6) / 2)  # the interrupted take is left out
    assert [(str(r["day"]), r["takes"]) for r in takes["per_day"]] == [("2026-11-03", 1), ("2026-11-02", 2)]
    assert [(r["course_title"], r["takes"]) for r in takes["per_course"]] == [("Folk fiddle", 2), ("Piano basics", 1)]
    assert {r["end_reason"]: r["takes"] for r in takes["end_reasons"]} == {"stopped": 2, "disconnected (1006)": 1}
    assert {r["follower"]: r["takes"] for r in takes["followers"]} == {"hmm": 2, "oltw": 1}
    assert tutor["totals"]["decisions"] == 2 and tutor["totals"]["mean_reward"] == pytest.approx(0.125)
    assert {r["help"]: r["decisions"] for r in tutor["per_help"]} == {"none": 1, "metronome": 1}
    assert [r["count"] for r in tutor["rating_distribution"]] == [0, 1, 0, 1, 0]
    assert composer["totals"]["count"] == 3 and composer["totals"]["mean"] == pytest.approx(19 / 3)
    assert [r["value"] for r in composer["distribution"]] == list(range(1, 11))
    assert {r["learner"]: r["mean"] for r in composer["per_learner"]} == {"pupil": 8.0, "second": 3.0}
    transcripts = response.context["transcripts"]
    totals = transcripts["totals"]
    assert (totals["count"], totals["unknown"], totals["in_takes"], totals["learners"]) == (3, 1, 1, 2)
    assert {r["intent"]: r["count"] for r in transcripts["per_intent"]} == {"seek": 1, "unknown": 1, "tempo": 1}
    assert {r["source"]: r["count"] for r in transcripts["per_source"]} == {"voice": 1, "clip": 1, "push_to_talk": 1}
    assert [r["text"] for r in transcripts["not_understood"]] == ["play it like a dolphin"]
    assert transcripts["latest"][0]["text"] == "tempo eighty"  # newest first
    content = response.content.decode()
    assert "Reel" in content and "Scales" in content and "bandit v1" in content and "again from bar twelve" in content


@pytest.mark.parametrize(
    ("params", "takes", "decisions", "composer_ratings", "commands"),
    [
        ({"from": "2026-11-03"}, 1, 1, 1, 1),
        ({"to": "2026-11-02"}, 2, 1, 2, 2),
        ({"from": "2026-11-02", "to": "2026-11-02"}, 2, 1, 2, 2),
        ({"from": "2026-11-04"}, 0, 0, 0, 0),
        ({"learner": "second"}, 1, 1, 1, 1),
        ({"learner": "pupil", "from": "2026-11-03"}, 0, 0, 0, 0),
    ],
)
def test_filters_narrow_every_section(  # type: ignore[no-untyped-def]
    admin_user, data, params, takes, decisions, composer_ratings, commands
) -> None:
    response = _dashboard(admin_user, **params)
    assert response.status_code == 200
    assert response.context["takes"]["totals"]["takes"] == takes
    assert response.context["tutor"]["totals"]["decisions"] == decisions
    assert response.context["composer"]["totals"]["count"] == composer_ratings
    assert response.context["transcripts"]["totals"]["count"] == commands


def test_a_course_filter_keeps_its_takes_and_the_composer_ratings_of_its_learners(admin_user, data) -> None:  # type: ignore[no-untyped-def]
    response = _dashboard(admin_user, course=data["piano"].pk)
    assert response.status_code == 200
    assert [r["lesson_title"] for r in response.context["takes"]["per_lesson"]] == ["Scales"]
    assert response.context["tutor"]["totals"]["decisions"] == 1
    assert response.context["tutor"]["ratings"]["count"] == 1
    assert [r["learner"] for r in response.context["composer"]["per_learner"]] == ["second"]
    assert [r["text"] for r in response.context["transcripts"]["latest"]] == ["tempo eighty"]
    export_links = f'{reverse("review:export", args=["takes"])}?course={data["piano"].pk}'
    assert export_links in response.content.decode()  # the exports keep the filters


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday"}, "Enter a valid date."),
        ({"to": "2026-02-30"}, "Enter a valid date."),
        ({"from": "9999-12-31"}, "less than or equal to"),
        ({"from": "2026-11-05", "to": "2026-11-01"}, "is after the"),
        ({"course": "999999"}, "Select a valid choice"),
        ({"course": "fiddle"}, "Select a valid choice"),
        ({"learner": "nobody"}, "No user is called"),
    ],
)
def test_bad_filters_are_refused_with_the_reason(admin_user, data, params, message) -> None:  # type: ignore[no-untyped-def]
    response = _dashboard(admin_user, **params)
    assert response.status_code == 400
    content = response.content.decode()
    assert message in content.replace("&quot;", '"').replace("&#x27;", "'")
    assert "No takes match" not in content and "takes-per-day" not in content
    export = client_for(admin_user).get(reverse("review:export", args=["takes"]), params)
    assert export.status_code == 400 and export.content.startswith(b"Bad filters.")


def test_an_unknown_export_is_not_found(admin_user: User) -> None:
    assert client_for(admin_user).get(reverse("review:export", args=["passwords"])).status_code == 404


# -- the exports (streamed: read through the ASGI handler, with committed data) ---------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_takes_export_has_a_row_per_take_oldest_first(admin_user, data) -> None:  # type: ignore[no-untyped-def]
    status, rows = await _export(admin_user, "takes")
    assert status == 200
    header, body = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert header[:3] == ["take_id", "created_at", "learner"] and "tutor_rating" in header
    assert [(r["learner"], r["lesson"], r["status"]) for r in body] == [
        ("pupil", "Reel", "finished"), ("pupil", "Reel", "interrupted"), ("second", "Scales", "finished"),
    ]  # fmt: skip
    first = body[0]
    assert first["created_at"] == MONDAY.isoformat() and first["course"] == "Folk fiddle"
    assert (first["notes_total"], first["correct"], first["missed"], first["extra"]) == ("10", "8", "2", "0")
    assert (first["accuracy"], first["duration_s"], first["tutor_rating"]) == ("0.8", "90.0", "4")
    assert body[1]["tutor_rating"] == "" and body[1]["end_reason"] == "disconnected (1006)"
    assert (first["assignment_id"], first["to_measure"], first["from_measure"]) == ("", "", "1")


@pytest.mark.django_db(transaction=True)
async def test_the_decisions_export_keeps_probabilities_context_and_reward(admin_user, data) -> None:  # type: ignore[no-untyped-def]
    status, rows = await _export(admin_user, "decisions", learner="second")
    assert status == 200
    assert rows[0][:4] == ["decision_id", "created_at", "learner", "course_id"]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == 1
    row = body[0]
    assert (row["learner"], row["course"], row["lesson"], row["policy"], row["policy_version"]) == (
        "second", "Piano basics", "Scales", "bandit", "1",
    )  # fmt: skip
    assert (row["help"], row["probability"], row["is_followed"]) == ("metronome", "0.25", "True")
    assert row["reward"] == "-0.25"  # a negative number is a number, not a formula
    assert row["probabilities"] == '{"exercise":[0.25,0.75]}' and row["outcome"] == '{"accuracy":0.6}'


@pytest.mark.django_db(transaction=True)
async def test_the_ratings_export_has_every_composer_rating(admin_user, data) -> None:  # type: ignore[no-untyped-def]
    status, rows = await _export(admin_user, "ratings", to="2026-11-02")
    assert status == 200
    assert rows[0] == [
        "rating_id", "created_at", "learner", "session_id", "variant", "scale", "base_note", "episode", "step",
        "melody_id", "rating", "reward", "was_reverted", "edit", "extras",
    ]  # fmt: skip
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["learner"], r["rating"], r["step"]) for r in body] == [("pupil", "7", "0"), ("pupil", "9", "1")]
    assert body[0]["scale"] == "dorian" and body[0]["edit"] == "[[1,0]]"


@pytest.mark.django_db(transaction=True)
async def test_the_transcripts_export_has_every_command_heard(admin_user, data) -> None:  # type: ignore[no-untyped-def]
    status, rows = await _export(admin_user, "transcripts", course=data["fiddle"].pk)
    assert status == 200
    assert rows[0][:3] == ["command_id", "created_at", "learner"]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["text"], r["intent"], r["slots"], r["source"]) for r in body] == [
        ("again from bar twelve", "seek", '{"measure":12}', "voice"),
        ("play it like a dolphin", "unknown", "{}", "clip"),
    ]  # fmt: skip
    assert (body[0]["lesson"], body[0]["confidence"], body[0]["t"]) == ("Reel", "0.9", "4.5")
    assert body[0]["take_id"] != "" and body[1]["take_id"] == ""


@pytest.mark.django_db(transaction=True)
async def test_an_export_with_nothing_to_show_is_its_header(admin_user) -> None:  # type: ignore[no-untyped-def]
    for kind in KINDS:
        status, rows = await _export(admin_user, kind)
        assert status == 200 and len(rows) == 1 and rows[0]


@pytest.mark.django_db(transaction=True)
async def test_cells_a_spreadsheet_would_run_are_defused(admin_user, instructor) -> None:  # type: ignore[no-untyped-def]
    course = await database_sync_to_async(create_course)(instructor, "+SUM(A1:A9)")
    learner = await database_sync_to_async(create_user)("@evil", PASSWORD)
    lesson = await database_sync_to_async(_lesson)(course, '=HYPERLINK("http://x.example","click")')
    await database_sync_to_async(_take)(learner, lesson, MONDAY, end_reason="-2+3")
    await database_sync_to_async(_command)(learner, lesson, MONDAY, "=cmd|' /C calc'!A0", {"name": "unknown"})
    status, rows = await _export(admin_user, "takes")
    assert status == 200
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["course"] == "'+SUM(A1:A9)"
    assert row["lesson"] == "'=HYPERLINK(\"http://x.example\",\"click\")"
    assert row["learner"] == "'@evil" and row["end_reason"] == "'-2+3"
    status, rows = await _export(admin_user, "transcripts")
    assert dict(zip(rows[0], rows[1], strict=True))["text"] == "'=cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "written"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("plain", "plain"),
     ("a=b", "a=b"), (-0.5, -0.5), (None, ""), (True, True)],
)  # fmt: skip
def test_defuse_quotes_only_text_that_starts_like_a_formula(cell: Any, written: Any) -> None:
    assert defuse(cell) == written
