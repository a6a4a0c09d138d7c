"""Courses, enrolments, pieces (uploaded scores) and lessons."""
