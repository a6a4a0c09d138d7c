"""The policy: a small actor-critic that reads the spectrogram and score views side by side.

A small convolutional encoder reads the two-channel similarity map of heard frames against score columns
(``env.similarity_view``), joins the current reading speed, and feeds a policy head (logits over the three
speed changes) and a value head (the critic). About 40 k parameters, well under 1 MB as ONNX.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from inference.following.rl.env import N_ACTIONS, SPEC_FRAMES
from inference.following.rl.features import N_BINS
from inference.following.rl.score_image import IMAGE_ROWS
from inference.following.rl.score_roll import VIEW_COLS

INPUT_NAMES = ("sim", "speed")
IMAGE_INPUT_NAMES = ("spec", "score", "speed")
OUTPUT_NAMES = ("logits", "value")


def _encoder() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(2, 8, 5, stride=2, padding=2),
        nn.ELU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ELU(),
        nn.Conv2d(16, 16, 3, stride=2, padding=1),
        nn.ELU(),
        nn.Flatten(),
    )


class ActorCritic(nn.Module):
    """Symbolic-view policy (``variant = "roll"``): reads the similarity map."""

    variant = "roll"
    input_names = INPUT_NAMES

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.encoder = _encoder()
        with torch.no_grad():
            joint = int(self.encoder(torch.zeros(1, 2, SPEC_FRAMES, VIEW_COLS)).shape[1]) + 1
        self.trunk = nn.Sequential(nn.Linear(joint, hidden), nn.ELU(), nn.Linear(hidden, hidden), nn.ELU())
        self.policy = nn.Linear(hidden, N_ACTIONS)
        self.value = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.policy.weight, gain=0.01)
        nn.init.zeros_(self.policy.bias)

    def forward(self, sim: torch.Tensor, speed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        joint = torch.cat((self.encoder(sim), speed), dim=1)
        hidden = self.trunk(joint)
        return self.policy(hidden), self.value(hidden).squeeze(1)


class ImageActorCritic(nn.Module):
    """Image-view policy (``variant = "image"``), the original game's layout: one encoder for the
    spectrogram excerpt, one for the sheet excerpt (each with its difference frame), joined with the speed."""

    variant = "image"
    input_names = IMAGE_INPUT_NAMES

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.spec_encoder = _encoder()
        self.score_encoder = _encoder()
        with torch.no_grad():
            joint = (
                int(self.spec_encoder(torch.zeros(1, 2, N_BINS, SPEC_FRAMES)).shape[1])
                + int(self.score_encoder(torch.zeros(1, 2, IMAGE_ROWS, VIEW_COLS)).shape[1])
                + 1
            )
        self.trunk = nn.Sequential(nn.Linear(joint, hidden), nn.ELU(), nn.Linear(hidden, hidden), nn.ELU())
        self.policy = nn.Linear(hidden, N_ACTIONS)
        self.value = nn.Linear(hidden, 1)
        nn.init.orthogonal_(self.policy.weight, gain=0.01)
        nn.init.zeros_(self.policy.bias)

    def forward(
        self, spec: torch.Tensor, score: torch.Tensor, speed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        joint = torch.cat((self.spec_encoder(spec), self.score_encoder(score), speed), dim=1)
        hidden = self.trunk(joint)
        return self.policy(hidden), self.value(hidden).squeeze(1)


Policy = ActorCritic | ImageActorCritic


def make_model(variant: str) -> Policy:
    if variant == "roll":
        return ActorCritic()
    if variant == "image":
        return ImageActorCritic()
    raise ValueError(f"variant must be 'roll' or 'image', not {variant!r}")


def _example(model: Policy) -> tuple[torch.Tensor, ...]:
    if isinstance(model, ImageActorCritic):
        return torch.zeros(1, 2, N_BINS, SPEC_FRAMES), torch.zeros(1, 2, IMAGE_ROWS, VIEW_COLS), torch.zeros(1, 1)
    return torch.zeros(1, 2, SPEC_FRAMES, VIEW_COLS), torch.zeros(1, 1)


def export_onnx(model: Policy, path: str | Path) -> None:
    """Write ``model`` as ONNX with a dynamic batch axis (inputs and outputs named as above)."""
    model = model.eval()
    example = _example(model)
    dynamic = {name: {0: "batch"} for name in (*model.input_names, *OUTPUT_NAMES)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but needs no extra package (onnxscript) and suits this net.
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(model, example, path, dynamic)


def _export(model: Policy, example: tuple, path: str | Path, dynamic: dict) -> None:
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=list(model.input_names),
        output_names=list(OUTPUT_NAMES),
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )
