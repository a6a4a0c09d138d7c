from __future__ import annotations

from typing import Any

from django import forms

from inference.scores import FORMATS, MAX_SCORE_BYTES


class CourseForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class JoinForm(forms.Form):
    class_code = forms.CharField(max_length=32, label="Class code")


class LessonForm(forms.Form):
    score = forms.FileField(
        help_text=f"MusicXML (.xml, .musicxml, .mxl), MIDI (.mid) or ABC (.abc), up to {MAX_SCORE_BYTES // 2**20} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(FORMATS))}),
    )
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from inference.following import FOLLOWER_LABELS

        super().__init__(*args, **kwargs)
        choices = [("", "Site default")] + [(name, label) for name, label in FOLLOWER_LABELS.items()]
        self.fields["follower"].choices = choices

    def clean_score(self) -> object:
        upload = self.cleaned_data["score"]
        if upload.size > MAX_SCORE_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the limit is {MAX_SCORE_BYTES // 2**20} MB."
            )
        return upload
