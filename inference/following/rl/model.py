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
from inference.following.rl.score_roll import VIEW_COLS

INPUT_NAMES = ("sim", "speed")
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


def export_onnx(model: ActorCritic, path: str | Path) -> None:
    """Write ``model`` as ONNX with a dynamic batch axis (inputs and outputs named as above)."""
    model = model.eval()
    example = (torch.zeros(1, 2, SPEC_FRAMES, VIEW_COLS), torch.zeros(1, 1))
    dynamic = {name: {0: "batch"} for name in (*INPUT_NAMES, *OUTPUT_NAMES)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter is deprecated but needs no extra package (onnxscript) and suits this net.
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(model, example, path, dynamic)


def _export(model: ActorCritic, example: tuple, path: str | Path, dynamic: dict) -> None:
    torch.onnx.export(
        model,
        example,
        str(path),
        input_names=list(INPUT_NAMES),
        output_names=list(OUTPUT_NAMES),
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )
