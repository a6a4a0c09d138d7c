from __future__ import annotations

from typing import Any

from django import forms

from inference.scores import FORMATS, MAX_SCORE_BYTES


class CourseForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class JoinForm(forms.Form):
    class_code = forms.CharField(max_length=32, label="Class code")


TRANSPOSITIONS = [
    ("0", "Concert pitch (piano, flute, violin, voice, oboe, …)"),
    ("-2", "B♭ (clarinet, trumpet, soprano saxophone)"),
    ("-9", "E♭ (alto saxophone)"),
    ("-14", "B♭ an octave lower (tenor saxophone, bass clarinet)"),
    ("-21", "E♭ an octave lower (baritone saxophone)"),
    ("-7", "F (horn, cor anglais)"),
    ("-3", "A (A clarinet)"),
    ("-12", "Sounds an octave lower (guitar, double bass)"),
    ("12", "Sounds an octave higher (piccolo, xylophone)"),
]
"""Sounding minus written pitch in semitones, as ``Tolerances.transpose_semitones``."""


def cents_field(help_text: str) -> forms.FloatField:
    """How far off pitch a note may be and still be right (``Tolerances.cents_tolerance``)."""
    return forms.FloatField(
        required=False, min_value=5, max_value=600, label="Pitch tolerance (cents)", help_text=help_text
    )


def timing_field(help_text: str) -> forms.FloatField:
    """How far from the beat a note may be and still be on time (``Tolerances.timing_window_ms``)."""
    return forms.FloatField(
        required=False, min_value=20, max_value=2000, label="Timing window (ms)", help_text=help_text
    )


class LessonSettingsForm(forms.Form):
    """What an instructor may change about a lesson after creating it (everything but the score)."""

    title = forms.CharField(max_length=200, required=False, help_text="Empty: the score's title.")
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tempo_bpm = forms.FloatField(
        required=False,
        min_value=20,
        max_value=300,
        label="Target tempo (quarter notes per minute)",
        help_text="Empty: the written tempo.",
    )
    follower = forms.ChoiceField(
        required=False,
        label="Score follower",
        help_text="Which listening algorithm follows the learner; the default suits most pieces.",
    )

    # How strictly takes are judged (inference.feedback.Tolerances); empty fields keep the defaults.
    cents_tolerance = cents_field("Empty: 50 cents.")
    timing_window_ms = timing_field("Notes further than this from the beat are early or late. Empty: 150 ms.")
    a4_hz = forms.FloatField(
        required=False, min_value=400, max_value=480, label="Reference pitch A4 (Hz)", help_text="Empty: 440 Hz."
    )
    transpose_semitones = forms.TypedChoiceField(
        coerce=float,
        empty_value=0.0,
        required=False,
        choices=TRANSPOSITIONS,
        label="Instrument",
        help_text="For transposing instruments the score is read at written pitch.",
    )

    TOLERANCE_FIELDS = ("cents_tolerance", "timing_window_ms", "a4_hz", "transpose_semitones")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from inference.following import FOLLOWER_LABELS

        super().__init__(*args, **kwargs)
        choices = [("", "Site default")] + [(name, label) for name, label in FOLLOWER_LABELS.items()]
        self.fields["follower"].choices = choices

    def tolerances(self) -> dict[str, float]:
        """The tolerances the instructor filled in (the rest keep their defaults)."""
        values = {name: self.cleaned_data.get(name) for name in self.TOLERANCE_FIELDS}
        return {name: float(value) for name, value in values.items() if value is not None}

    def settings(self) -> dict[str, Any]:
        """The cleaned settings as ``services.create_lesson`` / ``update_lesson`` keyword arguments."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "instructions": data["instructions"],
            "tempo_bpm": data["tempo_bpm"],
            "follower": data["follower"],
            "tolerances": self.tolerances(),
        }

    @classmethod
    def for_lesson(cls, lesson: Any, data: Any = None) -> LessonSettingsForm:
        """The form filled in with ``lesson``'s present settings."""
        initial = {
            "title": lesson.title,
            "instructions": lesson.instructions,
            "tempo_bpm": lesson.tempo_bpm,
            "follower": lesson.follower,
            **{name: lesson.tolerances.get(name) for name in cls.TOLERANCE_FIELDS},
        }
        if initial["transpose_semitones"] is not None:
            initial["transpose_semitones"] = str(int(initial["transpose_semitones"]))
        return cls(data, initial=initial)


class LessonForm(LessonSettingsForm):
    """A new lesson: a score upload and its settings."""

    score = forms.FileField(
        help_text=f"MusicXML (.xml, .musicxml, .mxl), MIDI (.mid) or ABC (.abc), up to {MAX_SCORE_BYTES // 2**20} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(FORMATS))}),
    )
    field_order = ["score"]

    def clean_score(self) -> object:
        upload = self.cleaned_data["score"]
        if upload.size > MAX_SCORE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is {MAX_SCORE_BYTES // 2**20} MB."
            )
        return upload


class AssignmentForm(forms.Form):
    """An assignment: which lesson, which bars, how fast, by when, and what counts as passing."""

    lesson = forms.ModelChoiceField(queryset=None, empty_label=None)
    title = forms.CharField(max_length=200, required=False, help_text="Empty: the lesson's title and the bars.")
    instructions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    from_measure = forms.IntegerField(required=False, min_value=0, label="From bar", help_text="Empty: the start.")
    to_measure = forms.IntegerField(required=False, min_value=0, label="To bar", help_text="Empty: the end.")
    tempo_bpm = forms.FloatField(
        required=False, min_value=20, max_value=300, label="Tempo (quarter notes per minute)",
        help_text="Takes at this tempo or faster count. Empty: the lesson's tempo.",
    )
    due_at = forms.DateTimeField(
        required=False,
        label="Due",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Empty: no due date. Takes after it still count, marked late.",
    )
    pass_percent = forms.IntegerField(min_value=1, max_value=100, initial=80, label="Pass mark (% of notes correct)")
    cents_tolerance = cents_field("Empty: the lesson's.")
    timing_window_ms = timing_field("Empty: the lesson's.")

    TOLERANCE_FIELDS = ("cents_tolerance", "timing_window_ms")

    def __init__(self, course: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["lesson"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = course.lessons.select_related("piece")

    def settings(self) -> dict[str, Any]:
        """The cleaned fields as ``services.save_assignment`` keyword arguments (with ``lesson``)."""
        data = self.cleaned_data
        tolerances = {name: float(data[name]) for name in self.TOLERANCE_FIELDS if data.get(name) is not None}
        return {
            "lesson": data["lesson"],
            "title": data["title"],
            "instructions": data["instructions"],
            "from_measure": data["from_measure"],
            "to_measure": data["to_measure"],
            "tempo_bpm": data["tempo_bpm"],
            "due_at": data["due_at"],
            "pass_mark": data["pass_percent"] / 100,
            "tolerances": tolerances,
        }

    @classmethod
    def for_assignment(cls, assignment: Any, data: Any = None) -> AssignmentForm:
        initial = {
            "lesson": assignment.lesson_id,
            "title": assignment.title,
            "instructions": assignment.instructions,
            "from_measure": assignment.from_measure,
            "to_measure": assignment.to_measure,
            "tempo_bpm": assignment.tempo_bpm,
            "due_at": assignment.due_at,
            "pass_percent": round(100 * assignment.pass_mark),
            **{name: assignment.tolerances.get(name) for name in cls.TOLERANCE_FIELDS},
        }
        return cls(assignment.course, data, initial=initial)
