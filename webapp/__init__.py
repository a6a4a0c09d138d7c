"""Etude's Django project: accounts, courses, practice; the web pages, the sockets, the database, the jobs."""

from webapp.celery import app as celery_app

__all__ = ["celery_app"]
