"""Model loading: the device is chosen from ETUDE_DEVICE and what the machine has; sessions are cached."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from inference import runtime
from inference.pitch.crepe import model_path


@pytest.fixture(autouse=True)
def fresh_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test reads the environment afresh (the choice is cached for the process otherwise)."""
    monkeypatch.delenv("ETUDE_DEVICE", raising=False)
    monkeypatch.delenv("ETUDE_ORT_THREADS", raising=False)
    runtime.device.cache_clear()
    yield
    runtime.device.cache_clear()


def test_cpu_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETUDE_DEVICE", "cpu")
    assert runtime.device() == "cpu"
    assert runtime.providers() == ["CPUExecutionProvider"]


def test_auto_picks_cuda_only_with_a_driver_and_the_provider() -> None:
    expected = (
        "cuda" if runtime.has_cuda_driver() and "CUDAExecutionProvider" in runtime.available_providers() else "cpu"
    )
    assert runtime.device() == expected
    assert runtime.providers()[-1] == "CPUExecutionProvider"


def test_asking_for_cuda_without_it_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    if runtime.has_cuda_driver():
        pytest.skip("this machine has a CUDA driver")
    monkeypatch.setenv("ETUDE_DEVICE", "cuda")
    with pytest.raises(runtime.RuntimeSettingError, match="CUDA"):
        runtime.device()


@pytest.mark.parametrize(
    ("name", "value"), [("ETUDE_DEVICE", "tpu"), ("ETUDE_ORT_THREADS", "two"), ("ETUDE_ORT_THREADS", "0")]
)
def test_malformed_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(runtime.RuntimeSettingError, match=name):
        runtime.device() if name == "ETUDE_DEVICE" else runtime.ort_threads()


def test_providers_follow_the_device_unless_a_model_must_stay_on_the_cpu() -> None:
    assert runtime.providers("cuda") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert runtime.providers("cpu") == ["CPUExecutionProvider"]
    assert runtime.onnx_session(model_path("tiny"), cpu_only=True).get_providers() == ["CPUExecutionProvider"]


def test_sessions_are_cached_per_model_and_thread_count() -> None:
    path = model_path("tiny")
    first = runtime.onnx_session(path)
    assert runtime.onnx_session(str(path)) is first
    assert runtime.onnx_session(path, threads=2) is not first


def test_a_session_runs_and_reports_where() -> None:
    session = runtime.onnx_session(model_path("tiny"))
    probabilities = session.run(None, {"frames": np.zeros((2, 1024), dtype=np.float32)})[0]
    assert probabilities.shape == (2, 360)
    assert runtime.session_device(session) == runtime.device()


def test_a_missing_model_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileNotFoundError, match="model file not found"):
        runtime.onnx_session(tmp_path / "nothing.onnx")


def test_model_bytes_get_a_fresh_session() -> None:
    data = model_path("tiny").read_bytes()
    assert runtime.onnx_session(data) is not runtime.onnx_session(data)


def test_describe_names_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETUDE_ORT_THREADS", "3")
    info = runtime.describe()
    assert info["device"] in ("cpu", "cuda") and info["ort_threads"] == 3
    assert info["providers"][-1] == "CPUExecutionProvider"
