"""Etude's settings: every value comes from the environment, with defaults that give the embedded setup.

Embedded default (no variables set): SQLite under ``var/``, the in-memory channel layer, eager Celery, and
the listening engine running inside the web process. Production sets at least ``DJANGO_DEBUG=0``,
``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS``, ``DATABASE_URL`` and ``REDIS_URL`` (see README).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from webapp.env import SettingError, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ETUDE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)
_DEV_SECRET = "django-insecure-etude-embedded-default-only-for-local-use"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise SettingError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "webapp.accounts",
    "webapp.courses",
    "webapp.practice",
    "webapp.composer",
    "webapp.tutor",
    "webapp.review",
]

MIDDLEWARE = [
    "webapp.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
ASGI_APPLICATION = "webapp.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "courses:list"
LOGOUT_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "webapp" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'etude.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # SQLite creates the file but not its folder: the embedded default must work on a fresh clone.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("ETUDE_CHANNEL_PREFIX", "etude"),
                "capacity": 500,
                "expiry": 30,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_BEAT_SCHEDULE = {
    "close-stale-takes": {"task": "webapp.practice.tasks.close_stale_takes", "schedule": 15 * 60.0},
}

# The listening engine: "inprocess" runs it in a thread pool of the web process; "worker" sends takes to
# `manage.py inference_worker` processes through the channel layer (needs REDIS_URL).
ETUDE_INFERENCE_MODE = env_choice("ETUDE_INFERENCE_MODE", "inprocess", ("inprocess", "worker"))
if ETUDE_INFERENCE_MODE == "worker" and not REDIS_URL:
    raise SettingError("ETUDE_INFERENCE_MODE=worker needs REDIS_URL for the channel layer.")
ETUDE_INFERENCE_THREADS = env_int("ETUDE_INFERENCE_THREADS", 4, minimum=1)
ETUDE_FOLLOWER = env_choice("ETUDE_FOLLOWER", "auto", ("auto", "hmm", "oltw", "rl"))  # = inference.following.FOLLOWERS
# Backends by issue: each block below belongs to one capability; keep edits inside your own block.
# -- listening engine (pitch, polyphony, followers) --
# Finished takes get final verdicts from the offline alignment of their audio (docs/listening.md).
ETUDE_REALIGN_TAKES = env_bool("ETUDE_REALIGN_TAKES", True)
# With eager Celery, takes up to this long are re-aligned before "saved" is sent; longer ones in a thread.
ETUDE_REALIGN_INLINE_MAX_S = env_int("ETUDE_REALIGN_INLINE_MAX_S", 180, minimum=0)

# -- voice commands (speech) --
# Spoken commands are heard on the take's microphone stream (docs/speech.md). Models load on first use.
ETUDE_VOICE_COMMANDS = env_bool("ETUDE_VOICE_COMMANDS", True)
ETUDE_SPEECH_ENGINE = env_choice(
    "ETUDE_SPEECH_ENGINE",
    "whisper",
    (
        "whisper",
        "whisper-grammar",
        "whisper-nbest",
        "whisper-prompt",
        "whisper-noprompt",
        "whisper-30s",
        "pocketsphinx-jsgf",
        "pocketsphinx-lm",
    ),
)
ETUDE_SPEECH_THREADS = env_int("ETUDE_SPEECH_THREADS", 2, minimum=1)  # read again by inference.speech.whisper

# -- tutor --
# Which teaching policy recommends the next exercise (inference.tutor.policies); see docs/tutor.md.
ETUDE_TUTOR_POLICY = env_choice("ETUDE_TUTOR_POLICY", "ppo", ("ppo", "bandit", "mastery", "fixed"))
# Retraining (Celery task webapp.tutor.tasks.retrain_tutor_policy): PPO iterations, simulated learners per
# iteration and learner family, learners in the publish check, logged decisions used, and how much worse
# (in % more exercises to mastery) a new version may be and still be published.
ETUDE_TUTOR_TRAIN_FAMILY = env_choice("ETUDE_TUTOR_TRAIN_FAMILY", "skills", ("bkt", "skills", "practice"))
ETUDE_TUTOR_RETRAIN_ITERATIONS = env_int("ETUDE_TUTOR_RETRAIN_ITERATIONS", 30, minimum=1)
ETUDE_TUTOR_RETRAIN_LEARNERS = env_int("ETUDE_TUTOR_RETRAIN_LEARNERS", 128, minimum=4)
ETUDE_TUTOR_RETRAIN_EVAL_LEARNERS = env_int("ETUDE_TUTOR_RETRAIN_EVAL_LEARNERS", 300, minimum=4)
ETUDE_TUTOR_RETRAIN_MAX_DECISIONS = env_int("ETUDE_TUTOR_RETRAIN_MAX_DECISIONS", 5000, minimum=1)
ETUDE_TUTOR_PUBLISH_TOLERANCE_PCT = env_int("ETUDE_TUTOR_PUBLISH_TOLERANCE_PCT", 5, minimum=0)
ETUDE_TUTOR_RETRAIN_HOURS = env_int("ETUDE_TUTOR_RETRAIN_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["tutor-retrain"] = {
    "task": "webapp.tutor.tasks.retrain_tutor_policy",
    "schedule": ETUDE_TUTOR_RETRAIN_HOURS * 3600.0,
}

# -- composer --
# Ratings per episode (each episode starts from a fresh track) and the most Q-table entries kept per learner.
ETUDE_COMPOSER_RATINGS_PER_EPISODE = env_int("ETUDE_COMPOSER_RATINGS_PER_EPISODE", 12, minimum=2)
ETUDE_COMPOSER_MAX_Q_ENTRIES = env_int("ETUDE_COMPOSER_MAX_Q_ENTRIES", 20_000, minimum=100)
# -1 draws tracks and exploration from OS entropy; a seed >= 0 makes them reproducible (tests, demos).
ETUDE_COMPOSER_SEED = env_int("ETUDE_COMPOSER_SEED", -1, minimum=-1)

ETUDE_ALLOWED_WS_ORIGINS = env_list("ETUDE_ALLOWED_WS_ORIGINS", [])
"""Extra origins allowed to open practice sockets; hosts in ALLOWED_HOSTS are always allowed."""

ETUDE_MAX_REQUEST_BYTES = env_int("ETUDE_MAX_REQUEST_BYTES", 10 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "frontend"]
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("ETUDE_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "etude@localhost")

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("ETUDE_LOG_LEVEL", "INFO")},
}
