"""The filters every section and export of the review pages share: a date range, a course, a learner."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from webapp.accounts.models import User
from webapp.courses.models import Course
from webapp.review.selectors import ReviewFilters

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2999, 12, 31)
"""Dates outside this range are refused: they are typing mistakes, and the very last dates have no next day."""


class ReviewFilterForm(forms.Form):
    """GET parameters ``from``, ``to`` (YYYY-MM-DD, inclusive, UTC days), ``course`` (id) and ``learner``
    (username); every one may be left empty."""

    course = forms.ModelChoiceField(
        queryset=Course.objects.order_by("title", "id"), required=False, empty_label="All courses"
    )
    learner = forms.CharField(required=False, max_length=150, label="Learner (username)")

    def __init__(self, data: Any = None) -> None:
        super().__init__(data)
        # "from" is a keyword, so the two date fields cannot be declared as class attributes.
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = forms.DateField(
                required=False,
                label=label,
                widget=forms.DateInput(attrs={"type": "date"}),
                validators=[MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)],
            )
        self.order_fields(["from", "to", "course", "learner"])

    def clean_learner(self) -> User | None:
        username = self.cleaned_data["learner"].strip()
        if not username:
            return None
        user = User.objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"No user is called “{username}”.")
        return user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("from"), cleaned.get("to")
        if start and end and start > end:
            raise forms.ValidationError("The “from” date is after the “to” date.")
        return cleaned

    def filters(self) -> ReviewFilters:
        """The validated filters; call only after ``is_valid()`` returned True."""
        data = self.cleaned_data
        return ReviewFilters(
            date_from=data["from"], date_to=data["to"], course=data["course"], learner=data["learner"]
        )

    def query_string(self) -> str:
        """The validated filters as GET parameters, for links that must keep them (the exports)."""
        f = self.filters()
        params = {
            "from": f.date_from,
            "to": f.date_to,
            "course": f.course.pk if f.course else None,
            "learner": f.learner.username if f.learner else None,
        }
        return urlencode({k: v for k, v in params.items() if v})
