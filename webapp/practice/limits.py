"""Limits on practice-socket traffic, in one place so the README and the errors quote the same numbers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FrameLimits:
    sample_rate: int = 16_000
    min_frame_ms: int = 2
    max_frame_ms: int = 200
    max_take_s: int = 20 * 60
    burst_s: float = 2.0
    """Audio a client may send ahead of real time when a take starts (network jitter, a tab waking up)."""
    max_speed: float = 1.5
    """Sustained audio seconds accepted per wall-clock second."""
    max_backlog_s: float = 30.0
    """Unused allowance kept for later, up to this many seconds of audio: frames that piled up while the server
    was stalled (or the network held them) arrive all at once, and were sent in real time."""
    max_errors: int = 50
    """Bad messages tolerated in one take before it is saved and closed."""

    @property
    def min_frame_bytes(self) -> int:
        return self.sample_rate * self.min_frame_ms // 1000 * 2

    @property
    def max_frame_bytes(self) -> int:
        return self.sample_rate * self.max_frame_ms // 1000 * 2

    @property
    def max_take_bytes(self) -> int:
        return self.sample_rate * self.max_take_s * 2

    def check_frame(self, frame: bytes) -> str:
        """An empty string for a good frame, else what is wrong with it."""
        if len(frame) % 2:
            return f"Frames are Int16 PCM, so their length must be even; got {len(frame)} bytes."
        if not self.min_frame_bytes <= len(frame) <= self.max_frame_bytes:
            return (
                f"Frames must hold {self.min_frame_ms}-{self.max_frame_ms} ms of audio "
                f"({self.min_frame_bytes}-{self.max_frame_bytes} bytes at {self.sample_rate} Hz); "
                f"got {len(frame)} bytes."
            )
        return ""


@dataclass
class RateLimiter:
    """A token bucket in seconds of audio: starts with ``burst_s``, refills at ``max_speed`` x real time up to
    ``max_backlog_s``. A bucket that stopped filling at ``burst_s`` would refuse the backlog of a server stall
    longer than that: those frames were sent in real time but are read in one go."""

    limits: FrameLimits
    tokens: float = field(init=False)
    updated: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tokens = self.limits.burst_s

    def allow(self, samples: int, now: float) -> bool:
        if self.updated is not None:
            elapsed = max(0.0, now - self.updated)
            self.tokens = min(
                max(self.limits.burst_s, self.limits.max_backlog_s), self.tokens + elapsed * self.limits.max_speed
            )
        self.updated = now
        cost = samples / self.limits.sample_rate
        if cost > self.tokens:
            return False
        self.tokens -= cost
        return True
