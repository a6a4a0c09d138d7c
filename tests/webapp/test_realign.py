"""The saved take gets final verdicts: the offline alignment of its stored audio replaces the live ones."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.management import call_command
from django.core.management.base import CommandError

from inference.audio import float_to_pcm16, resample
from inference.synth import render_notes
from tests.webapp.channels_helpers import connect, drain, performance_pcm, start, stream
from tests.webapp.conftest import client_for
from webapp.practice.consumers import PracticeConsumer
from webapp.practice.limits import FrameLimits
from webapp.practice.models import NoteResult, Take, VerdictSource
from webapp.practice.services import TakeError, create_take, finish_take, realign_take


def _finished_take(learner, lesson, pcm: bytes, *, tolerances=None) -> Take:  # type: ignore[no-untyped-def]
    take = create_take(learner, lesson, tolerances=tolerances)
    return finish_take(
        take,
        verdicts=[],
        summary={"notes_total": 0, "counts": {}, "accuracy": 0.0},
        duration_s=len(pcm) / 32000,
        pcm16=pcm,
        sample_rate=16000,
        reason="stopped",
        is_complete=True,
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_take_played_through_the_socket_is_saved_with_final_verdicts(learner, lesson, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(PracticeConsumer, "limits", FrameLimits(burst_s=10_000, max_speed=10_000))
    notes = lesson.piece.score_notes()
    take = await database_sync_to_async(create_take)(learner, lesson)
    communicator = await connect(take.pk, learner)
    await start(communicator)
    pcm, _ = performance_pcm(notes)
    await stream(communicator, pcm)
    await communicator.send_json_to({"type": "stop"})
    events = await drain(communicator)
    assert events[-1]["type"] == "saved"
    saved = await database_sync_to_async(Take.objects.get)(pk=take.pk)
    assert saved.verdict_source == VerdictSource.FINAL and saved.realigned_at is not None
    results = await database_sync_to_async(list)(NoteResult.objects.filter(take=take))
    assert {r.note_id for r in results} == {n.note_id for n in notes}
    assert sum(r.result == "correct" for r in results) >= 28
    assert saved.summary["notes_total"] == len(notes) and saved.accuracy >= 28 / 30


@pytest.mark.django_db
def test_planted_mistakes_get_their_final_verdicts(learner, lesson, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    notes = lesson.piece.score_notes()
    played = [n for n in notes if n.note_id != notes[8].note_id]  # one note left out
    wrong = notes[4]
    played = [n if n is not wrong else type(n)(**{**n.to_dict(), "midi": n.midi + 2}) for n in played]
    audio, _ = render_notes(played, timbre="string", seed=3)
    with django_capture_on_commit_callbacks(execute=True):
        take = _finished_take(learner, lesson, float_to_pcm16(audio))
    take.refresh_from_db()
    assert take.verdict_source == VerdictSource.FINAL
    results = {r.note_id: r for r in take.note_results.exclude(result="extra")}
    assert results[wrong.note_id].result == "wrong_pitch" and abs(results[wrong.note_id].cents - 200) <= 15
    assert results[notes[8].note_id].result == "missed"
    assert sum(r.result == "correct" for r in results.values()) >= len(notes) - 4


@pytest.mark.django_db
@pytest.mark.parametrize(("tolerances", "expected"), [({}, "wrong_pitch"), ({"a4_hz": 451.0}, "correct")])
def test_the_takes_tolerances_are_used(learner, lesson, tolerances, expected) -> None:  # type: ignore[no-untyped-def]
    notes = lesson.piece.score_notes()
    audio, _ = render_notes(notes, timbre="flute", seed=1)
    sharp = resample(audio, 16_000, int(16_000 / 2 ** (43 / 1200)))  # played back faster: 43 cents sharp
    take = _finished_take(learner, lesson, float_to_pcm16(sharp), tolerances={"cents_tolerance": 30, **tolerances})
    take = realign_take(take)
    results = [r.result for r in take.note_results.all()]
    assert results.count(expected) >= len(notes) - 2


@pytest.mark.django_db
def test_realign_command_and_take_page(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    audio, _ = render_notes(lesson.piece.score_notes(), timbre="flute", seed=2)
    take = _finished_take(learner, lesson, float_to_pcm16(audio))
    page = client_for(learner).get(f"/practice/takes/{take.pk}/")
    assert "Live verdicts" in page.content.decode()
    call_command("realign_take", str(take.pk))
    take.refresh_from_db()
    assert take.verdict_source == VerdictSource.FINAL
    assert "Final verdicts" in client_for(learner).get(f"/practice/takes/{take.pk}/").content.decode()
    silent = create_take(learner, lesson)
    with pytest.raises(TakeError, match="still being recorded"):
        realign_take(Take.objects.get(pk=silent.pk))
    with pytest.raises(CommandError):
        call_command("realign_take", "999999")


@pytest.mark.django_db
def test_bad_tolerances_are_refused(learner, lesson) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TakeError, match="a4_hz"):
        create_take(learner, lesson, tolerances={"a4_hz": 1000})
    with pytest.raises(TakeError, match="unknown"):
        create_take(learner, lesson, tolerances={"loudness": 3})
