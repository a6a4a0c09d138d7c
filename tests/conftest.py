"""Fixtures shared across the suite: real data locations, parsed corpus pieces, users and a course."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
ARTIFACTS = ROOT / "test-artifacts"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data; the calling test skips with a reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real music data not found at {path} (see ../shared/data/README.md)")
    return path


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"'{name}' is not installed (make system-deps installs it)")
    return path


@functools.cache
def corpus_score(path: str, number: int | None = None, part: int | None = None):  # type: ignore[no-untyped-def]
    """A music21 corpus piece, normalised by ``inference.scores`` (cached: parsing takes ~0.1-1 s)."""
    from music21 import corpus

    from inference.scores import normalise

    score = corpus.parse(path, number=number) if number else corpus.parse(path)
    if part is not None:
        score = score.parts[part]
    return normalise(score, fmt="corpus", fallback_title=path)


@pytest.fixture
def lullaby():  # type: ignore[no-untyped-def]
    """'Schlaf, Kindlein, schlaf': 30 notes, one part, the shortest demo piece."""
    return corpus_score("essenFolksong/kinder0", 1)
