"""CSV exports of the review data: one per kind, streamed a chunk of rows at a time so that a large table
never sits in memory, with cells a spreadsheet would run as formulas defused."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from django.db.models import QuerySet

from inference.types import VerdictResult
from webapp.review import selectors
from webapp.review.selectors import ReviewFilters
from webapp.spreadsheets import defuse

ROWS_PER_CHUNK = 500
"""Rows fetched from the database (a server-side cursor on Postgres) and sent to the client at a time."""
VERDICT_RESULTS: tuple[str, ...] = get_args(VerdictResult)

Row = dict[str, Any]


@dataclass(frozen=True)
class Export:
    """One kind of export: its rows for some filters, its header, and a function from a row to its cells."""

    rows: Callable[[ReviewFilters], QuerySet[Any, Row]]
    header: list[str]
    cells: Callable[[Row], list[Any]]


def _take_cells(row: Row) -> list[Any]:
    summary = row["summary"] if isinstance(row["summary"], dict) else {}
    counts = summary.get("counts") or {}
    return [
        row["id"], _when(row["created_at"]), row["learner"], row["course_id"], row["course_title"],
        row["lesson_id"], row["lesson_title"], row["status"], row["end_reason"], row["follower"],
        row["tempo_factor"], row["from_measure"], row["to_measure"], row["assignment_id"], row["duration_s"],
        row["accuracy"], summary.get("notes_total", ""),
        *(counts.get(result, 0) if counts else "" for result in VERDICT_RESULTS),
        row["verdict_source"], row["tutor_rating_value"],
    ]  # fmt: skip


def _decision_cells(row: Row) -> list[Any]:
    return [
        row["id"], _when(row["created_at"]), row["learner_username"], row["course_id"], row["course_title"],
        row["lesson_id"], row["lesson_title"], row["policy_name"], row["policy_number"], row["exercise_key"],
        row["exercise_title"], row["from_measure"], row["to_measure"], row["tempo_factor"], row["help"],
        row["probability"], row["reason"], row["is_overridden"], _json(row["override"]), row["take_id"],
        row["is_followed"], row["reward"], _when(row["outcome_at"]), _json(row["outcome"]),
        _json(row["probabilities"]), _json(row["context"]),
    ]  # fmt: skip


def _rating_cells(row: Row) -> list[Any]:
    return [
        row["id"], _when(row["created_at"]), row["learner"], row["session_id"], row["variant"], row["scale"],
        row["base_note"], row["episode"], row["step"], row["melody_id"], row["value"], row["reward"],
        row["was_reverted"], _json(row["edit"]), _json(row["extras"]),
    ]  # fmt: skip


def _transcript_cells(row: Row) -> list[Any]:
    return [
        row["id"], _when(row["created_at"]), row["learner"], row["course_id"], row["course_title"],
        row["lesson_id"], row["lesson_title"], row["take_id"], row["source"], row["text"], row["intent"],
        _json(row["slots"]), row["confidence"], row["t"],
    ]  # fmt: skip


EXPORTS: dict[str, Export] = {
    "takes": Export(
        selectors.take_rows,
        [
            "take_id", "created_at", "learner", "course_id", "course", "lesson_id", "lesson", "status",
            "end_reason", "follower", "tempo_factor", "from_measure", "to_measure", "assignment_id", "duration_s",
            "accuracy", "notes_total",
            *VERDICT_RESULTS, "verdict_source", "tutor_rating",
        ],
        _take_cells,
    ),
    "decisions": Export(
        selectors.decision_rows,
        [
            "decision_id", "created_at", "learner", "course_id", "course", "lesson_id", "lesson", "policy",
            "policy_version", "exercise_key", "exercise", "from_measure", "to_measure", "tempo_factor", "help",
            "probability", "reason", "is_overridden", "override", "take_id", "is_followed", "reward",
            "outcome_at", "outcome", "probabilities", "context",
        ],
        _decision_cells,
    ),
    "ratings": Export(
        selectors.composer_rating_rows,
        [
            "rating_id", "created_at", "learner", "session_id", "variant", "scale", "base_note", "episode", "step",
            "melody_id", "rating", "reward", "was_reverted", "edit", "extras",
        ],
        _rating_cells,
    ),
    "transcripts": Export(
        selectors.transcript_rows,
        [
            "command_id", "created_at", "learner", "course_id", "course", "lesson_id", "lesson", "take_id", "source",
            "text", "intent", "slots", "confidence", "t",
        ],
        _transcript_cells,
    ),
}  # fmt: skip
"""The kinds ``/review/export/<kind>.csv`` serves."""


async def csv_chunks(export: Export, filters: ReviewFilters) -> AsyncIterator[str]:
    """The header, then the rows (oldest first) in chunks of ``ROWS_PER_CHUNK`` lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.header)
    written = 0
    async for row in export.rows(filters).aiterator(chunk_size=ROWS_PER_CHUNK):
        writer.writerow([defuse(cell) for cell in export.cells(row)])
        written += 1
        if written % ROWS_PER_CHUNK == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))
