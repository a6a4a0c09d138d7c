from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from webapp.accounts.models import Role, User


class SignupForm(UserCreationForm):
    """Self sign-up as a learner or an instructor; the admin role is only given by another admin."""

    email = forms.EmailField(required=False, help_text="Used only for password resets.")
    role = forms.ChoiceField(
        choices=[(Role.LEARNER, "Learner"), (Role.INSTRUCTOR, "Instructor")],
        initial=Role.LEARNER,
        widget=forms.RadioSelect,
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "role")
