"""The demo course: real pieces from music21's bundled corpus, an assignment, and demo users of each role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from inference.scores import normalise
from webapp.accounts.models import Role, User
from webapp.accounts.services import set_role
from webapp.courses.models import Course, Enrollment, Lesson
from webapp.courses.services import create_lesson, create_piece, save_assignment

DEMO_CLASS_CODE = "DEMO2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str


DEMO_USERS = (
    DemoUser("learner", "practise-etude", Role.LEARNER),
    DemoUser("instructor", "teach-etude", Role.INSTRUCTOR),
    DemoUser("admin", "admin-etude", Role.ADMIN),
)


@dataclass(frozen=True)
class DemoPiece:
    corpus_path: str
    number: int | None
    title: str
    composer: str
    part: int | None = None
    instructions: str = ""


DEMO_PIECES = (
    DemoPiece(
        "essenFolksong/kinder0",
        1,
        "Schlaf, Kindlein, schlaf",
        "German folk song",
        instructions="A short lullaby to warm up: play it smoothly at a steady pulse.",
    ),
    DemoPiece(
        "airdsAirs/book1.abc",
        3,
        "The Lads of the Village",
        "Scottish air (Aird's Airs)",
        instructions="Watch the dotted rhythms and the leap to the high A.",
    ),
    DemoPiece(
        "oneills1850/0731-0731.abc",
        None,
        "The Priest with the Collar",
        "Irish jig (O'Neill's 1850)",
        instructions="A jig in 6/8: feel two beats per bar.",
    ),
    DemoPiece(
        "bach/bwv66.6",
        None,
        "Chorale BWV 66.6, soprano",
        "J. S. Bach",
        part=0,
        instructions="The chorale melody: sustain each note to its full length.",
    ),
)


def ensure_demo_users() -> dict[str, User]:
    users = {}
    for spec in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=spec.username, defaults={"email": f"{spec.username}@example.com"})
        user.set_password(spec.password)
        user.save()
        users[spec.role] = set_role(user, spec.role)
    return users


@transaction.atomic
def ensure_demo_course() -> Course:
    users = ensure_demo_users()
    course, _ = Course.objects.get_or_create(
        class_code=DEMO_CLASS_CODE,
        defaults={
            "title": "Etude demo: folk tunes and a chorale",
            "description": "Short melodies from music21's corpus to try Etude's listening tutor.",
            "instructor": users[Role.INSTRUCTOR],
        },
    )
    Enrollment.objects.get_or_create(course=course, learner=users[Role.LEARNER])
    existing = set(Lesson.objects.filter(course=course).values_list("title", flat=True))
    for spec in DEMO_PIECES:
        if spec.title not in existing:
            create_lesson(
                course, _demo_piece(spec, users[Role.INSTRUCTOR]), title=spec.title, instructions=spec.instructions
            )
    _ensure_demo_assignment(course)
    return course


def _ensure_demo_assignment(course: Course) -> None:
    """The first lesson's opening bars, due in a week: the learner sees it, the instructor grades it."""
    if course.assignments.exists():
        return
    lesson = course.lessons.select_related("piece").first()
    if lesson is None:
        return
    first = lesson.piece.first_measure
    last = min(lesson.piece.measure_count, first + 3)
    save_assignment(
        None,
        course,
        lesson,
        title=f"{lesson.title}: the opening",
        instructions="Play the opening bars cleanly at the lesson tempo.",
        from_measure=first,
        to_measure=last,
        due_at=timezone.now() + timedelta(days=7),
    )


def _demo_piece(spec: DemoPiece, owner: User):  # type: ignore[no-untyped-def]
    from music21 import corpus

    score = corpus.parse(spec.corpus_path, number=spec.number) if spec.number else corpus.parse(spec.corpus_path)
    if spec.part is not None:
        score = score.parts[spec.part]
    parsed = normalise(score, fmt="corpus", fallback_title=spec.title)
    parsed.title, parsed.composer = spec.title, spec.composer
    return create_piece(owner, parsed, source_name=f"music21 corpus: {spec.corpus_path}", source_bytes=None)
