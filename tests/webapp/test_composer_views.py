"""The composer in the web app: sessions, ratings (and refusals that change nothing), resuming, exports and
"practise this"."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from inference.composer.features import melody_features
from inference.composer.qtable import QTable
from inference.composer.reward_model import RewardModel, taste_basis
from inference.composer.track import Track, TrackParams, random_track
from tests.webapp.conftest import client_for
from webapp.composer.models import AgentState, ComposerSession, Episode, Melody, Rating
from webapp.composer.services import POPULATION_MIN_RATINGS
from webapp.courses.selectors import courses_for
from webapp.courses.services import JoinError, join_course

pytestmark = pytest.mark.django_db
PARAMS = {"base_note": 62, "scale": "dorian", "length": 6, "tempo_bpm": 100}


@pytest.fixture(autouse=True)
def _fast_and_seeded(settings) -> None:  # type: ignore[no-untyped-def]
    """Seeded melodies; and the user fixtures hash passwords, which PBKDF2 would make the slowest part."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ETUDE_COMPOSER_SEED = 2026


def _start(client: Client, **overrides: Any) -> dict[str, Any]:
    response = client.post(
        reverse("composer:session_create"), json.dumps(PARAMS | overrides), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def _rate(client: Client, melody_id: int, rating: Any, **extras: Any):  # type: ignore[no-untyped-def]
    body = {"rating": rating, "extras": extras} if extras else {"rating": rating}
    return client.post(reverse("composer:rate", args=[melody_id]), json.dumps(body), content_type="application/json")


def _snapshot(user) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    agent = AgentState.objects.filter(user=user).values_list("q_table", "reward_model", "ratings_count").first()
    turns = list(ComposerSession.objects.filter(user=user).values_list("turn", flat=True))
    return Rating.objects.count(), Melody.objects.count(), Episode.objects.count(), agent, turns


def test_anonymous_visitors_are_sent_to_login() -> None:
    response = Client().get(reverse("composer:page"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_page_offers_the_parameters_and_the_nav_links_to_it(learner) -> None:  # type: ignore[no-untyped-def]
    content = client_for(learner).get(reverse("composer:page")).content.decode()
    assert 'id="composer-params"' in content and 'value="diminished"' in content and 'value="dorian"' in content
    assert f'href="{reverse("composer:page")}"' in content
    assert 'id="composer-state"' in content


def test_a_session_starts_with_an_engraved_melody_in_the_chosen_scale(learner) -> None:  # type: ignore[no-untyped-def]
    state = _start(client_for(learner))
    melody = state["melody"]
    assert state["session"]["params"] == PARAMS and len(melody["track"]["pitches"]) == 6
    assert all((p - 62) % 12 in (0, 2, 3, 5, 7, 9, 10) for p in melody["track"]["pitches"])
    assert all(f'id="{n["note_id"]}"' in melody["svg"] for n in melody["notes"])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"base_note": 5}, "base_note must be between"), ({"scale": "nope"}, "Unknown scale"),
     ({"length": "many"}, "length must be a whole number"), ({"tempo_bpm": 999}, "tempo_bpm must be between"),
     ({"variant": "magic"}, "Unknown agent")],
)  # fmt: skip
def test_invalid_parameters_are_refused_and_start_nothing(learner, overrides, message) -> None:  # type: ignore[no-untyped-def]
    response = client_for(learner).post(
        reverse("composer:session_create"), json.dumps(PARAMS | overrides), content_type="application/json"
    )
    assert response.status_code == 400 and message in response.json()["message"]
    assert not ComposerSession.objects.exists()


def test_rating_teaches_the_agent_and_brings_the_next_melody(learner) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    first = _start(client)["melody"]["id"]
    second = _rate(client, first, 4).json()["melody"]
    assert second["id"] != first and second["edit"]
    state = _rate(client, second["id"], 8, musicality=9).json()
    assert [h["rating"] for h in state["history"]] == [4, 8]
    assert state["episodes"] == [{"episode": 0, "mean": 6.0, "count": 2}]
    rating = Rating.objects.get(melody_id=second["id"])
    assert rating.extras == {"musicality": 9} and rating.reward == pytest.approx((8 + 4.5) / 1.5 - 4)
    agent = AgentState.objects.get(user=learner, variant="improved")
    assert agent.ratings_count == 2 and len(QTable.from_json(agent.q_table)) > 0
    model = RewardModel.from_json(agent.reward_model)  # the reward model learnt from both ratings
    assert model.stats.n == 2 and model.stats.xy[0] == pytest.approx(4 + (8 + 4.5) / 1.5)


def _seasoned_learner(name: str, ratings: int, preferred_stepwise: float) -> None:
    """Another learner whose reward model has seen ``ratings`` ratings from a taste for stepwise motion."""
    from webapp.accounts.models import User

    user = User.objects.create_user(username=name, password="x")
    rng, model = np.random.default_rng(len(name)), RewardModel()
    params = TrackParams(base_note=60, scale="major", length=8)
    for _ in range(ratings):
        track = random_track(params, rng)
        stepwise = melody_features(track, params).stepwise
        model.observe(taste_basis(track, params), 9.0 - 8.0 * abs(stepwise - preferred_stepwise))
    AgentState.objects.create(user=user, variant="improved", reward_model=model.to_json(), ratings_count=ratings)


def test_a_new_learner_starts_from_the_prior_of_learners_before_them(learner) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        _seasoned_learner(f"earlier{i}", 24, preferred_stepwise=1.0)
    _seasoned_learner("newcomer", POPULATION_MIN_RATINGS - 1, preferred_stepwise=0.0)  # too few ratings to count
    _start(client_for(learner))
    prior = RewardModel.from_json(AgentState.objects.get(user=learner).reward_model).prior
    assert prior.learners == 3
    smooth, jumpy = (Track((60, 62, 64, 65, 67, 65, 64, 62), (0.5,) * 8, (38,) * 16),
                     Track((60, 69, 62, 71, 60, 67, 62, 72), (0.5,) * 8, (38,) * 16))  # fmt: skip
    params = TrackParams(base_note=60, scale="major", length=8)
    assert taste_basis(smooth, params) @ prior.mean > taste_basis(jumpy, params) @ prior.mean + 2


def test_the_first_learner_starts_from_the_generic_prior_and_keeps_their_ratings_when_it_is_refit(learner) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    state = _start(client)
    assert RewardModel.from_json(AgentState.objects.get(user=learner).reward_model).prior.learners == 0
    _rate(client, state["melody"]["id"], 6)
    _seasoned_learner("later", 30, preferred_stepwise=0.8)
    _start(client)  # a new session refits the prior on the population as it is now
    model = RewardModel.from_json(AgentState.objects.get(user=learner).reward_model)
    assert model.prior.learners == 1 and model.stats.n == 1 and model.stats.xy[0] == 6.0


@pytest.mark.parametrize("bad", [0, 11, -3, 7.5, "seven", True, None, [7]])
def test_out_of_range_or_non_integer_ratings_are_refused_and_change_nothing(learner, bad) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    melody_id = _start(client)["melody"]["id"]
    _rate(client, melody_id, 5)
    melody_id = Melody.objects.latest("id").pk
    before = _snapshot(learner)
    response = _rate(client, melody_id, bad)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_rating" and "1 to 10" in response.json()["message"]
    assert _snapshot(learner) == before


def test_a_bad_sub_rating_is_refused_too(learner) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    melody_id = _start(client)["melody"]["id"]
    before = _snapshot(learner)
    response = _rate(client, melody_id, 6, novelty=12)
    assert response.status_code == 400 and "novelty" in response.json()["message"]
    assert _snapshot(learner) == before


def test_rating_someone_elses_melody_is_refused_and_changes_nothing(learner, outsider) -> None:  # type: ignore[no-untyped-def]
    theirs = _start(client_for(learner))["melody"]["id"]
    _start(client_for(outsider))
    before = _snapshot(learner), _snapshot(outsider)
    response = _rate(client_for(outsider), theirs, 7)
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert (_snapshot(learner), _snapshot(outsider)) == before
    assert client_for(outsider).get(reverse("composer:midi", args=[theirs])).status_code == 404
    assert client_for(outsider).post(reverse("composer:practise", args=[theirs])).status_code == 404


def test_a_melody_is_rated_once_and_only_while_it_is_the_newest(learner) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    first = _start(client)["melody"]["id"]
    assert _rate(client, first, 6).status_code == 200
    before = _snapshot(learner)
    again = _rate(client, first, 9)
    assert again.status_code == 409 and again.json()["error"] == "already_rated"
    assert _snapshot(learner) == before
    newest = Melody.objects.latest("id").pk
    _start(client)  # a new session closes the old one
    stale = _rate(client, newest, 5)
    assert stale.status_code == 409 and stale.json()["error"] == "not_current"


def test_a_learner_resumes_on_another_device_where_they_stopped(learner) -> None:  # type: ignore[no-untyped-def]
    laptop = client_for(learner)
    melody_id = _start(laptop)["melody"]["id"]
    after = _rate(laptop, melody_id, 3).json()
    phone = client_for(learner)  # a separate session cookie: nothing is kept in the web session
    resumed = phone.get(reverse("composer:state")).json()
    assert resumed["melody"]["id"] == after["melody"]["id"] and resumed["history"] == after["history"]
    page = phone.get(reverse("composer:page")).content.decode()
    assert f'"id": {after["melody"]["id"]}' in page
    assert _rate(phone, resumed["melody"]["id"], 6).status_code == 200


def test_episodes_end_after_the_configured_number_of_ratings(learner, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ETUDE_COMPOSER_RATINGS_PER_EPISODE = 3
    client = client_for(learner)
    state = _start(client)
    for value in (4, 5, 6):
        state = _rate(client, state["melody"]["id"], value).json()
    assert (state["melody"]["episode"], state["melody"]["step"]) == (1, 0)
    assert not state["melody"]["edit"]
    assert Episode.objects.get(number=0).finished_at is not None


def test_the_q_table_persists_across_sessions(learner) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    state = _start(client)
    for value in (5, 7):
        state = _rate(client, state["melody"]["id"], value).json()
    table = AgentState.objects.get(user=learner).q_table
    state = _start(client, scale="minor")
    _rate(client, state["melody"]["id"], 6)
    agent = AgentState.objects.get(user=learner)
    assert agent.ratings_count == 3 and set(table["q"]) <= set(agent.q_table["q"])


def test_exports_are_a_valid_midi_file_and_musicxml_that_music21_reads(learner) -> None:  # type: ignore[no-untyped-def]
    from music21 import converter, midi

    client = client_for(learner)
    state = _start(client)
    melody = state["melody"]
    response = client.get(reverse("composer:midi", args=[melody["id"]]))
    assert response.status_code == 200 and response["Content-Type"] == "audio/midi"
    midi_file = midi.MidiFile()
    midi_file.readstr(response.content)
    note_ons = [e for t in midi_file.tracks for e in t.events if e.type == midi.ChannelVoiceMessages.NOTE_ON]
    melody_notes = [e.pitch for e in note_ons if e.channel == 1 and e.velocity > 0]
    assert melody_notes == melody["track"]["pitches"]
    assert any(e.channel == 10 for e in note_ons)  # the drums
    xml = client.get(reverse("composer:musicxml", args=[melody["id"]]))
    assert xml.status_code == 200
    score = converter.parseData(xml.content.decode(), format="musicxml")
    heads = [n for n in score.flatten().notes if n.tie is None or n.tie.type == "start"]  # notes split at barlines
    assert [n.pitch.midi for n in heads] == melody["track"]["pitches"]
    assert io.BytesIO(xml.content).read(5) == b"<?xml"


def test_practise_this_makes_a_lesson_the_learner_can_open_and_others_cannot(learner, outsider) -> None:  # type: ignore[no-untyped-def]
    client = client_for(learner)
    melody_id = _start(client)["melody"]["id"]
    response = client.post(reverse("composer:practise", args=[melody_id]))
    assert response.status_code == 302
    lesson_page = client.get(response["Location"])
    assert lesson_page.status_code == 200 and 'class="score-page"' in lesson_page.content.decode()
    melody = Melody.objects.get(pk=melody_id)
    lesson = melody.lesson
    assert lesson is not None and [n["midi"] for n in lesson.piece.notes] == melody.track["pitches"]
    assert client.post(reverse("composer:practise", args=[melody_id]))["Location"] == response["Location"]
    assert client_for(outsider).get(response["Location"]).status_code == 404
    assert courses_for(learner).filter(pk=lesson.course_id).exists()
    with pytest.raises(JoinError):  # the personal course cannot be joined by its code
        join_course(outsider, lesson.course.class_code)
