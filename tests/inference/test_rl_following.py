"""The score-following game: its rules, its alignment of audio and score, learning, export and the follower."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inference.following.rl.env import NOMINAL_SPEED, THETA, FollowingGame, Track, similarity_view, spec_window_at
from inference.following.rl.evaluation import constant_speed_policy, onnx_policy, play, summarise, torch_policy
from inference.following.rl.features import FRAME_HOP, N_BINS, StreamingSpectrogram, spectrogram
from inference.following.rl.model import ActorCritic, export_onnx
from inference.following.rl.performances import Performance
from inference.following.rl.score_roll import VIEW_COLS, ScoreRoll
from inference.following.rl.training import TrainConfig, train
from inference.synth import make_melody, render_notes
from inference.types import HOP_SAMPLES, SAMPLE_RATE

SCALE = [60, 62, 64, 65, 67, 69, 71, 72, 71, 69, 67, 65, 64, 62, 60, 62, 64, 67, 72, 67, 64, 60]


def _track(tempo_factor: float = 1.0, seed: int = 0) -> Track:
    notes = make_melody(SCALE, [0.5] * len(SCALE), bpm=120)
    audio, onsets = render_notes(notes, tempo_factor=tempo_factor, seed=seed, lead_in_s=0.5)
    return Track.from_performance(Performance("scale", notes, spectrogram(audio), np.array(onsets)))


def test_a440_sine_lands_in_the_a4_band() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    frames = spectrogram(0.3 * np.sin(2 * np.pi * 440.0 * t))
    assert frames.shape == (SAMPLE_RATE // FRAME_HOP, N_BINS)
    assert int(np.argmax(frames[-1])) == 69 - 33


def test_streaming_frames_equal_the_offline_spectrogram() -> None:
    audio = np.random.default_rng(0).standard_normal(SAMPLE_RATE).astype(np.float32) * 0.1
    offline = spectrogram(audio)
    stream = StreamingSpectrogram()
    pushed = (stream.push(audio[i : i + HOP_SAMPLES]) for i in range(0, len(audio), HOP_SAMPLES))
    online = [frame for frame in pushed if frame is not None]
    np.testing.assert_allclose(np.array(online), offline, rtol=1e-4, atol=1e-4)


def test_reward_is_one_on_target_and_zero_at_theta() -> None:
    game = FollowingGame([_track()], 1, np.random.default_rng(0), random_starts=False)
    game.speed[:] = 0.0
    truth = game.track[0].true_cols[game.frame[0] + 1]
    game.pos[:] = truth - game.speed  # the next step lands exactly on the truth
    reward, done, error = game.step(np.array([1]), auto_reset=False)
    assert reward[0] == pytest.approx(1.0) and abs(error[0]) < 1e-9 and not done[0]
    game.pos[:] = game.track[0].true_cols[game.frame[0] + 1] + THETA
    reward, done, _ = game.step(np.array([1]), auto_reset=False)
    assert reward[0] == pytest.approx(0.0, abs=1e-9) and not done[0]


def test_episode_ends_when_the_target_is_lost() -> None:
    game = FollowingGame([_track()], 1, np.random.default_rng(0), random_starts=False)
    game.pos[:] += THETA + 1
    _, done, error = game.step(np.array([1]), auto_reset=False)
    assert done[0] and abs(error[0]) > THETA


def test_episode_ends_at_the_last_onset() -> None:
    track = _track()
    game = FollowingGame([track], 1, np.random.default_rng(0), random_starts=False)
    steps = 0
    done = np.array([False])
    while not done[0]:
        game.pos[:] = track.true_cols[game.frame[0] + 1] - game.speed  # an oracle that never loses
        _, done, _ = game.step(np.array([1]), auto_reset=False)
        steps += 1
    assert game.frame[0] == track.last_frame and steps == track.last_frame - track.first_frame


def test_audio_and_score_line_up_at_the_true_position() -> None:
    """On a rendered piece, the heard frame matches the score under the true position, not a note away."""
    track = _track()
    centre = VIEW_COLS // 2
    on_target, off_target = [], []
    for frame in range(track.first_frame + 5, track.last_frame, 3):
        window = spec_window_at(track.performance.spec, frame)
        truth = track.true_cols[frame]
        on_target.append(similarity_view(window, track.view.window(truth))[0, -1, centre])
        off_target.append(similarity_view(window, track.view.window(truth + 40))[0, -1, centre])
    assert np.median(on_target) > 0.6
    assert np.mean(on_target) > np.mean(off_target) + 0.3


def test_constant_speed_loses_a_slower_performance() -> None:
    result = summarise(play(constant_speed_policy, [_track(tempo_factor=0.7)]))
    assert result["tracked_to_end"] == 0.0 and result["tracking_ratio"] < 0.8


@pytest.fixture
def one_torch_thread():  # type: ignore[no-untyped-def]
    """Small networks train fastest single-threaded; two threads on a busy 2-core machine thrash."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.usefixtures("one_torch_thread")
def test_ppo_learns_to_follow_a_slower_performance() -> None:
    torch.manual_seed(0)
    tracks = [_track(tempo_factor=0.75, seed=s) for s in range(2)]
    before = summarise(play(torch_policy(ActorCritic()), tracks))["tracking_ratio"]
    config = TrainConfig(steps=8 * 64 * 24, n_envs=8, rollout=64, minibatch=256, epochs=3, lr=2e-3, seed=0)
    model, log = train(tracks, config, log_every=1000)
    after = summarise(play(torch_policy(model.eval()), tracks))
    assert log.updates[-1]["mean_reward"] > log.updates[0]["mean_reward"]
    assert after["tracking_ratio"] > max(before, 0.8)


def test_onnx_export_matches_torch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from inference.runtime import onnx_session

    model = ActorCritic().eval()
    path = tmp_path / "policy.onnx"
    export_onnx(model, path)
    game = FollowingGame([_track()], 4, np.random.default_rng(1))
    obs = game.observe()
    expected = torch_policy(model)(obs)
    got = onnx_policy(onnx_session(path))(obs)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_score_roll_paints_each_note_at_its_onset() -> None:
    notes = make_melody([60, 64, 67], [1, 1, 1], bpm=60)
    roll = ScoreRoll(notes)
    assert list(roll.onset_cols) == [0.0, 100.0, 200.0]
    view = roll.window(100.0)
    assert view[64 - 33, VIEW_COLS // 2] == pytest.approx(1.0)
    assert roll.group_at(150.0) == 1 and roll.group_at(-5.0) == -1
    assert NOMINAL_SPEED == pytest.approx(4.0)


def test_a_rest_is_drawn_as_the_previous_note_fading_until_the_next_onset() -> None:
    """In a rest the agent hears the last chord ringing on; an empty rest made it stop there (K331, bar 8)."""
    import dataclasses

    from inference.following.rl.score_roll import REST_LEVEL

    first, second = make_melody([60, 64], [1, 1], bpm=60)
    roll = ScoreRoll([dataclasses.replace(first, duration_s=0.5), second])  # a half-second rest at 0.5-1.0 s
    c4 = roll.image[60 - 33, roll._pad :]
    assert c4[30] == pytest.approx(0.5) and c4[75] == pytest.approx(REST_LEVEL)
    assert c4[99] == 0.0 and roll.image[64 - 33, roll._pad + 100] == pytest.approx(1.0)  # the onset still rises
    assert c4[120] == 0.0


def _image_track() -> Track:
    from inference.following.rl.score_image import ScoreImage
    from inference.scores import load_score

    parsed = load_score(b"X:1\nT:Scale\nM:4/4\nL:1/8\nQ:1/4=120\nK:C\nCDEF GABc | BAGF EDC2 |]\n", "scale.abc")
    audio, onsets = render_notes(parsed.notes, seed=3, lead_in_s=0.5)
    view = ScoreImage(parsed.notes, parsed.musicxml)
    return Track.from_performance(Performance("scale", parsed.notes, spectrogram(audio), np.array(onsets)), view)


def test_the_engraved_image_has_a_notehead_at_every_onset_column() -> None:
    """Image/audio alignment: the pixel truth of each onset is where the engraving put its notehead."""
    from inference.following.rl.score_image import IMAGE_ROWS

    track = _image_track()
    view = track.view
    assert view.image.shape[0] == IMAGE_ROWS and np.all(np.diff(view.onset_cols) > 0)
    pad = (view.image.shape[1] - view.n_cols) // 2
    ink = view.image[:, pad:].sum(axis=0)
    for col in view.onset_cols:
        c = int(col)
        assert ink[c : c + 10].max() > 2 * np.median(ink), f"no notehead near column {c}"
    # The audio's truth is anchored on those columns: at each performed onset the true position is its column.
    np.testing.assert_allclose(track.true_cols[track.onset_frames], view.onset_cols, atol=3 * NOMINAL_SPEED)


def test_the_image_game_observes_spectrogram_and_sheet_excerpts() -> None:
    from inference.following.rl.model import ImageActorCritic

    game = FollowingGame([_image_track()], 2, np.random.default_rng(0))
    obs = game.observe()
    assert set(obs.inputs) == {"spec", "score", "speed"}
    assert obs.inputs["spec"].shape == (2, 2, N_BINS, 40) and obs.inputs["score"].shape[:2] == (2, 2)
    logits, value = ImageActorCritic()(**{k: torch.from_numpy(v) for k, v in obs.inputs.items()})
    assert logits.shape == (2, 3) and value.shape == (2,)


def test_a_told_tempo_stretches_the_score_roll() -> None:
    """Told to expect half the written tempo, the agent reads a roll twice as long at its nominal speed."""
    notes = make_melody([60, 64, 67], [1, 1, 1], bpm=60)
    assert list(ScoreRoll(notes, tempo_factor=0.5).onset_cols) == [0.0, 200.0, 400.0]
    with pytest.raises(ValueError):
        ScoreRoll(notes, tempo_factor=0.0)


def _local_tempi(rubato: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(performed over written inter-onset intervals, relative to the whole take's; performed onsets)."""
    from inference.following.rl.performances import perform, random_curve

    notes = make_melody(SCALE * 4, [0.5] * (4 * len(SCALE)), bpm=120)
    rng = np.random.default_rng(seed)
    _, times = perform(notes, random_curve(rng, rubato=rubato, score_s=notes[-1].onset_s), rng)
    written = np.array([n.onset_s for n in notes])
    ratios = np.diff(times) / np.diff(written)
    return ratios / np.median(ratios), times


def test_wide_rubato_wanders_further_and_pauses() -> None:
    mild = np.concatenate([_local_tempi("mild", s)[0] for s in range(20)])
    wide = np.concatenate([_local_tempi("wide", s)[0] for s in range(20)])
    assert np.percentile(wide, 95) - np.percentile(wide, 5) > 2 * (np.percentile(mild, 95) - np.percentile(mild, 5))
    assert wide.max() > 2.0 > mild.max()  # a held note or a breath: an interval at least twice as long
    assert all(np.all(np.diff(_local_tempi("wide", s)[1]) > 0) for s in range(20))


def test_a_shipped_agent_can_be_fine_tuned_from_its_onnx(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from inference.following.rl.training import load_checkpoint

    torch.manual_seed(3)
    model = ActorCritic().eval()
    export_onnx(model, tmp_path / "agent.onnx")
    rebuilt = load_checkpoint(tmp_path / "agent.onnx").eval()
    obs = FollowingGame([_track()], 3, np.random.default_rng(2)).observe()
    np.testing.assert_allclose(torch_policy(rebuilt)(obs), torch_policy(model)(obs), rtol=1e-6, atol=1e-6)


def test_the_rl_follower_told_a_slow_tempo_follows_a_slow_take() -> None:
    from inference.following.offline_run import follow_audio

    notes = make_melody(SCALE, [0.5] * len(SCALE), bpm=120)
    audio, onsets = render_notes(notes, tempo_factor=0.6, seed=4, lead_in_s=0.5, tail_s=1.0)
    run = follow_audio(notes, audio, "rl", tempo_factor=0.6)
    reached = [r for r in run.group_reached_s[1:] if r is not None]
    errors = np.abs(np.array(reached) - np.array(onsets[1 : 1 + len(reached)]))
    assert len(reached) == len(notes) - 1 and np.median(errors) < 0.15
