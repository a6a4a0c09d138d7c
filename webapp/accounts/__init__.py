"""Users and their roles: learner, instructor, admin."""
