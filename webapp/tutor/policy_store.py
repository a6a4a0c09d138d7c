"""Policy versions: the ones shipped with Etude, and retraining PPO from the decision logs plus simulation.

``retrain_policy`` fine-tunes the active PPO weights with PPO on simulated learners while an
advantage-weighted regression term pulls the policy towards logged actions that earned more than average
reward. The new version is published (made active) when, on fresh simulated learners, it needs no more than
``ETUDE_TUTOR_PUBLISH_TOLERANCE_PCT`` percent more exercises to mastery than the version it replaces.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from inference.tutor.policies import DEFAULT_MODEL, DEFAULT_WEIGHTS, POLICIES
from webapp.tutor.models import Decision, PolicySource, PolicyVersion

logger = logging.getLogger(__name__)
LEARNED = "ppo"


def ensure_policy_version(name: str) -> PolicyVersion:
    """The active version of policy ``name``; version 1 (shipped) is created on first use."""
    if name not in POLICIES:
        raise ValueError(f"unknown tutor policy {name!r}")
    version = PolicyVersion.objects.filter(name=name, is_active=True).order_by("-version").first()
    if version is not None:
        return version
    defaults: dict[str, Any] = {"is_active": True, "source": PolicySource.SHIPPED}
    if name == LEARNED:
        onnx = DEFAULT_MODEL.read_bytes()
        sidecar = DEFAULT_MODEL.with_suffix(".json")
        defaults |= {"onnx": onnx, "weights": DEFAULT_WEIGHTS.read_bytes(), "sha256": hashlib.sha256(onnx).hexdigest(),
                     "metrics": json.loads(sidecar.read_text()) if sidecar.exists() else {}}
    try:
        with transaction.atomic():
            version, _ = PolicyVersion.objects.get_or_create(name=name, version=1, defaults=defaults)
    except IntegrityError:  # another request made it first
        version = PolicyVersion.objects.get(name=name, version=1)
    return version


def should_publish(new_exercises: float, old_exercises: float, tolerance_pct: int) -> bool:
    """Publish unless the new policy needs more than ``tolerance_pct`` % more exercises to mastery."""
    return new_exercises <= old_exercises * (1.0 + tolerance_pct / 100.0)


def retrain_policy() -> PolicyVersion:
    """Fine-tune PPO from the active version on logs plus simulation; returns the new version (active or not)."""
    import torch

    from inference.tutor.ppo import ActorCritic, PPOConfig, export_onnx, train

    base = ensure_policy_version(LEARNED)
    hidden = int(base.metrics.get("config", {}).get("hidden", PPOConfig.hidden))
    model = ActorCritic(hidden=hidden)
    model.load_state_dict(torch.load(io.BytesIO(bytes(base.weights)), map_location="cpu", weights_only=True))
    number = (PolicyVersion.objects.filter(name=LEARNED).aggregate(Max("version"))["version__max"] or 0) + 1
    cfg = PPOConfig(family=settings.ETUDE_TUTOR_TRAIN_FAMILY, iterations=settings.ETUDE_TUTOR_RETRAIN_ITERATIONS,
                    learners=settings.ETUDE_TUTOR_RETRAIN_LEARNERS, courses=1, hidden=hidden, lr=3e-4, seed=number)
    logged, n_logged = logged_batch()
    model = train(cfg, model=model, logged=logged)
    onnx = export_onnx(model)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    check = compare(onnx, bytes(base.onnx), cfg.family, settings.ETUDE_TUTOR_RETRAIN_EVAL_LEARNERS, number)
    publish = should_publish(check["new"], check["old"], settings.ETUDE_TUTOR_PUBLISH_TOLERANCE_PCT)
    with transaction.atomic():
        version = PolicyVersion.objects.create(
            name=LEARNED, version=number, source=PolicySource.RETRAINED, onnx=onnx, weights=buffer.getvalue(),
            sha256=hashlib.sha256(onnx).hexdigest(),
            metrics={"config": cfg.to_dict(), "base_version": base.version, "logged_decisions": n_logged,
                     "check": check, "published": publish},
        )
        if publish:
            PolicyVersion.objects.filter(name=LEARNED).exclude(pk=version.pk).update(is_active=False)
            version.is_active = True
            version.save(update_fields=["is_active"])
    logger.info("tutor policy %s retrained from %d logged decisions: %s", version, n_logged, check)
    return version


def compare(new_onnx: bytes, old_onnx: bytes, family: str, n_learners: int, seed: int) -> dict[str, Any]:
    """Mean exercises to mastery of two PPO models on the same fresh simulated learners."""
    from inference.tutor.evaluate import run_population
    from inference.tutor.policies import PPOPolicy

    means = {}
    for label, onnx in (("new", new_onnx), ("old", old_onnx)):
        result = run_population(PPOPolicy(onnx, seed=seed), family, n_learners=n_learners, seed=50_000 + seed)
        means[label] = round(float(result.exercises_to_mastery.mean()), 2)
    return {"family": family, "learners": n_learners, **means}


def logged_batch() -> tuple[Any, int]:
    """Followed decisions with a reward, as a batch for advantage-weighted regression (None when there are none)."""
    import torch

    from inference.tutor.ppo import Batch

    rows = list(
        Decision.objects.filter(reward__isnull=False, is_followed=True)
        .order_by("-created_at")
        .values_list("context", "reward")[: settings.ETUDE_TUTOR_RETRAIN_MAX_DECISIONS]
    )
    rows = [(c, r) for c, r in rows if c.get("features") and c.get("action")]
    if not rows:
        return None, 0
    width = max(len(c["features"]) for c, _ in rows)
    n_features = len(rows[0][0]["features"][0])
    features = np.zeros((len(rows), width, n_features), dtype=np.float32)
    mask = np.zeros((len(rows), width), dtype=np.float32)
    help_mask = np.ones((len(rows), len(rows[0][0]["help_mask"][0])), dtype=bool)
    actions = np.array([[c["action"]["exercise"], c["action"]["tempo"], c["action"]["help"]] for c, _ in rows])
    for i, (context, _) in enumerate(rows):
        n = len(context["features"])
        features[i, :n], mask[i, :n] = context["features"], 1.0
        help_mask[i] = context["help_mask"][context["action"]["exercise"]]
    rewards = np.array([r for _, r in rows], dtype=np.float64)
    advantage = (rewards - rewards.mean()) / (rewards.std() + 1e-8) if len(rows) > 1 else np.zeros(1)
    zeros = torch.zeros(len(rows))
    batch = Batch(
        features=torch.from_numpy(features), mask=torch.from_numpy(mask), help_mask=torch.from_numpy(help_mask),
        exercise=torch.from_numpy(actions[:, 0]), tempo=torch.from_numpy(actions[:, 1]),
        help=torch.from_numpy(actions[:, 2]), log_prob=zeros, advantage=torch.from_numpy(advantage).float(),
        returns=zeros,
    )
    return batch, len(rows)
