"""State changes for accounts."""

from __future__ import annotations

from webapp.accounts.models import Role, User


def create_user(username: str, password: str, *, role: str = Role.LEARNER, email: str = "") -> User:
    """Create a user with ``role``; admins can use Django's admin site."""
    is_admin = role == Role.ADMIN
    return User.objects.create_user(
        username=username, password=password, email=email, role=role, is_staff=is_admin, is_superuser=is_admin
    )


def set_role(user: User, role: str) -> User:
    user.role = role
    user.is_staff = user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff", "is_superuser"])
    return user
