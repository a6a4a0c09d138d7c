"""The practice socket's audio rate limit, on a simulated clock."""

from __future__ import annotations

from webapp.practice.limits import FrameLimits, RateLimiter

FRAME = 320  # 20 ms at 16 kHz


def _accepted(limiter: RateLimiter, arrivals: list[float]) -> int:
    return sum(limiter.allow(FRAME, t) for t in arrivals)


def test_a_backlog_from_a_server_stall_is_accepted_whole() -> None:
    """Frames sent in real time; the server reads nothing for 5 s, then the 250 frames waiting all at once."""
    limits = FrameLimits()
    real_time = [k * 0.02 for k in range(500)]  # 10 s sent
    arrivals = [t if t < 3.0 or t >= 8.0 else 8.0 for t in real_time]
    assert _accepted(RateLimiter(limits), arrivals) == len(arrivals)
    # the old bucket, which stopped filling at the 2 s burst, dropped about 3 s of that backlog
    assert _accepted(RateLimiter(FrameLimits(max_backlog_s=limits.burst_s)), arrivals) < len(arrivals) - 100


def test_audio_faster_than_real_time_is_refused_after_the_burst() -> None:
    limits = FrameLimits()
    limiter = RateLimiter(limits)
    accepted = _accepted(limiter, [0.0] * 1000)  # 20 s of audio at once, at the start of a take
    assert accepted * 0.02 <= limits.burst_s + 1e-9
    # sustained: at most max_speed x real time (plus the burst) over a minute of flooding
    flood = [k * 0.001 for k in range(60_000)]
    total = accepted + _accepted(limiter, flood)
    assert total * 0.02 <= limits.burst_s + 60.0 * limits.max_speed + 0.02
