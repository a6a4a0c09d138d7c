"""Model loading for ``inference``: onnxruntime sessions on CUDA when present, CPU otherwise.

Every model Etude runs goes through here, so the provider choice and thread counts are made in one place and
heavy imports (onnxruntime, torch) happen on first use, not when the web process starts.

Environment (read once, on first use):
- ``ETUDE_DEVICE``: ``auto`` (default; CUDA when onnxruntime offers it), ``cpu`` or ``cuda``.
- ``ETUDE_ORT_THREADS``: intra-op threads per session (default 1: many small sessions share the cores).
"""

from __future__ import annotations

import os
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime

DEVICES = ("auto", "cpu", "cuda")
_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"
_lock = threading.Lock()
_sessions: dict[tuple[str, int, tuple[str, ...]], onnxruntime.InferenceSession] = {}


class RuntimeSettingError(ValueError):
    """A malformed ``ETUDE_DEVICE`` or ``ETUDE_ORT_THREADS``."""


@cache
def device() -> str:
    """``"cuda"`` or ``"cpu"``: where models run, from ``ETUDE_DEVICE`` and what onnxruntime offers."""
    wanted = os.environ.get("ETUDE_DEVICE", "auto").strip().lower() or "auto"
    if wanted not in DEVICES:
        raise RuntimeSettingError(f"ETUDE_DEVICE must be one of {DEVICES}, not {wanted!r}")
    if wanted == "cpu":
        return "cpu"
    has_cuda = _CUDA in available_providers() and has_cuda_driver()
    if wanted == "cuda" and not has_cuda:
        raise RuntimeSettingError("ETUDE_DEVICE=cuda but there is no CUDA driver or no CUDAExecutionProvider here")
    return "cuda" if has_cuda else "cpu"


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def has_cuda_driver() -> bool:
    """Whether the NVIDIA driver library loads. onnxruntime-gpu lists its CUDA provider even on machines
    without a GPU, and then logs an error for every session it makes; this probe keeps those on the CPU."""
    import ctypes

    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def providers(device_name: str | None = None) -> list[str]:
    """Execution providers in preference order for ``device_name`` (default: the chosen device)."""
    return [_CUDA, _CPU] if (device_name or device()) == "cuda" else [_CPU]


def ort_threads() -> int:
    raw = os.environ.get("ETUDE_ORT_THREADS", "1").strip()
    try:
        value = int(raw)
    except ValueError:
        raise RuntimeSettingError(f"ETUDE_ORT_THREADS must be an integer, not {raw!r}") from None
    if value < 1:
        raise RuntimeSettingError("ETUDE_ORT_THREADS must be at least 1")
    return value


def onnx_session(
    model: str | Path | bytes, *, threads: int | None = None, cpu_only: bool = False
) -> onnxruntime.InferenceSession:
    """An ``InferenceSession`` for a model file (cached per path, thread count and providers) or model bytes
    (not cached). ``cpu_only`` keeps a model on the CPU on a GPU machine: tiny networks run once per audio
    window (the VAD, the re-attack detector) would spend longer copying to and from the GPU than computing.

    Sessions are thread-safe for ``run``; one cached session serves every take in the process.
    """
    import onnxruntime as ort

    n_threads = threads or ort_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = n_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    chosen = providers("cpu" if cpu_only else None)
    if isinstance(model, bytes):
        return ort.InferenceSession(model, sess_options=options, providers=chosen)
    key = (str(Path(model).resolve()), n_threads, tuple(chosen))
    with _lock:
        session = _sessions.get(key)
        if session is None:
            if not Path(model).is_file():
                raise FileNotFoundError(f"model file not found: {model}")
            session = ort.InferenceSession(key[0], sess_options=options, providers=chosen)
            _sessions[key] = session
    return session


def session_device(session: onnxruntime.InferenceSession) -> str:
    """``"cuda"`` when the session really runs on the CUDA provider (it falls back to CPU when the CUDA
    libraries cannot be loaded), else ``"cpu"``."""
    return "cuda" if session.get_providers()[:1] == [_CUDA] else "cpu"


def torch_device() -> Any:
    """The torch device matching ``device()`` (imports torch on first call)."""
    import torch

    return torch.device("cuda" if device() == "cuda" and torch.cuda.is_available() else "cpu")


def describe() -> dict[str, Any]:
    """What the runtime chose, for benchmark JSON and logs."""
    import onnxruntime as ort

    return {
        "device": device(),
        "providers": providers(),
        "onnxruntime": ort.__version__,
        "ort_threads": ort_threads(),
    }
