"""Whisper tiny.en's text decoder in NumPy, with a key/value cache, for grammar-constrained search.

CTranslate2 runs the encoder (fast, int8) and the free beam search; what it cannot do is let the caller pick
the allowed next tokens at every step, which a command grammar needs. This decoder reads the same
``model.bin`` (the decoder's float16 weights) and runs the pre-norm transformer of Radford et al. (2022):
token + learned position embeddings, per layer causal self-attention, cross-attention to the encoder
output and a GELU feed-forward block, a final layer norm and the tied output embedding. Logits are computed
only for a chosen subset of the vocabulary (the command vocabulary), so a step costs well under a
millisecond per hypothesis.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def _read_decoder_weights(path: Path) -> dict[str, np.ndarray]:
    """The ``decoder/...`` variables of a CTranslate2 model file (format version 6)."""

    def read(handle: BinaryIO, fmt: str) -> int:
        return int(struct.unpack(fmt, handle.read(struct.calcsize(fmt)))[0])

    def string(handle: BinaryIO) -> str:
        return handle.read(read(handle, "<H")).decode("utf-8").rstrip("\0")

    weights: dict[str, np.ndarray] = {}
    with path.open("rb") as handle:
        version = read(handle, "<I")
        if version != 6:
            raise ValueError(f"unsupported CTranslate2 model format {version} in {path}")
        string(handle)
        read(handle, "<I")
        for _ in range(read(handle, "<I")):
            name = string(handle)
            dims = [read(handle, "<I") for _ in range(read(handle, "<B"))]
            dtype = _DTYPES[read(handle, "<B")]
            data = handle.read(read(handle, "<I"))
            if name.startswith("decoder/"):
                weights[name.removeprefix("decoder/")] = np.frombuffer(data, dtype=dtype).reshape(dims)
    return weights


@dataclass(frozen=True)
class _Layer:
    self_norm: tuple[np.ndarray, np.ndarray]
    qkv: tuple[np.ndarray, np.ndarray]
    self_out: tuple[np.ndarray, np.ndarray]
    cross_norm: tuple[np.ndarray, np.ndarray]
    cross_q: tuple[np.ndarray, np.ndarray]
    cross_kv: tuple[np.ndarray, np.ndarray]
    cross_out: tuple[np.ndarray, np.ndarray]
    ffn_norm: tuple[np.ndarray, np.ndarray]
    ffn_in: tuple[np.ndarray, np.ndarray]
    ffn_out: tuple[np.ndarray, np.ndarray]


@dataclass
class DecoderState:
    """Per-hypothesis self-attention keys/values so far; each layer's cross-attention keys/values (shared)."""

    keys: list[np.ndarray]
    values: list[np.ndarray]
    cross: list[tuple[np.ndarray, np.ndarray]]
    length: int

    def select(self, rows: np.ndarray) -> DecoderState:
        """The state of the hypotheses ``rows`` (a beam's survivors, possibly repeated)."""
        return DecoderState(
            [k[rows] for k in self.keys],
            [v[rows] for v in self.values],
            self.cross,
            self.length,
        )


class WhisperDecoder:
    """``start(encoder_output, prompt)`` then ``step(state, tokens)`` → log-probabilities over ``vocab_ids``."""

    def __init__(self, model_dir: Path, vocab_ids: list[int]) -> None:
        w = _read_decoder_weights(model_dir / "model.bin")
        self.heads = int(w["num_heads"].reshape(-1)[0])

        def pair(prefix: str, a: str = "weight", b: str = "bias") -> tuple[np.ndarray, np.ndarray]:
            return np.ascontiguousarray(w[f"{prefix}/{a}"].astype(np.float32).T), w[f"{prefix}/{b}"].astype(np.float32)

        self.layers = []
        i = 0
        while f"layer_{i}/ffn/linear_0/weight" in w:
            p = f"layer_{i}"
            self.layers.append(
                _Layer(
                    pair(f"{p}/self_attention/layer_norm", "gamma", "beta"),
                    pair(f"{p}/self_attention/linear_0"),
                    pair(f"{p}/self_attention/linear_1"),
                    pair(f"{p}/attention/layer_norm", "gamma", "beta"),
                    pair(f"{p}/attention/linear_0"),
                    pair(f"{p}/attention/linear_1"),
                    pair(f"{p}/attention/linear_2"),
                    pair(f"{p}/ffn/layer_norm", "gamma", "beta"),
                    pair(f"{p}/ffn/linear_0"),
                    pair(f"{p}/ffn/linear_1"),
                )
            )
            i += 1
        self.final_norm = pair("layer_norm", "gamma", "beta")
        self.embeddings = w["embeddings/weight"]
        self.positions = w["position_encodings/encodings"].astype(np.float32)
        self.vocab_ids = np.asarray(vocab_ids, dtype=np.int64)
        self.output = np.ascontiguousarray(self.embeddings[self.vocab_ids].astype(np.float32).T)
        self.index = {int(t): k for k, t in enumerate(vocab_ids)}

    def start(self, encoder_output: np.ndarray, prompt: list[int]) -> tuple[DecoderState, np.ndarray]:
        """Feed ``prompt`` for one utterance; returns the state and the log-probabilities after it."""
        memory = np.asarray(encoder_output, dtype=np.float32).reshape(1, -1, self.embeddings.shape[1])
        cross = []
        for layer in self.layers:
            kv = memory @ layer.cross_kv[0] + layer.cross_kv[1]
            k, v = np.split(kv, 2, axis=-1)
            cross.append((self._split(k), self._split(v)))
        return self.restart(DecoderState([], [], cross, 0), prompt)

    def restart(self, state: DecoderState, prompt: list[int]) -> tuple[DecoderState, np.ndarray]:
        """Feed another ``prompt`` for the utterance of ``state`` (its cross-attention keys/values are reused)."""
        empty = np.zeros((1, self.heads, 0, self.embeddings.shape[1] // self.heads), dtype=np.float32)
        fresh = DecoderState([empty] * len(self.layers), [empty] * len(self.layers), state.cross, 0)
        return self.step(fresh, np.asarray([prompt], dtype=np.int64))

    def step(
        self, state: DecoderState, tokens: np.ndarray, every_position: bool = False
    ) -> tuple[DecoderState, np.ndarray]:
        """Feed ``tokens`` (batch × new positions); log-probabilities (batch × vocab subset) after the last.

        With ``every_position`` the log-probabilities after each new token (batch × positions × vocab).
        """
        batch, n = tokens.shape
        x = self.embeddings[tokens].astype(np.float32) + self.positions[state.length : state.length + n]
        mask = np.triu(np.full((n, state.length + n), -np.inf, dtype=np.float32), k=state.length + 1)
        keys, values = [], []
        for li, layer in enumerate(self.layers):
            h = _norm(x, layer.self_norm)
            q, k, v = np.split(h @ layer.qkv[0] + layer.qkv[1], 3, axis=-1)
            k_all = np.concatenate((state.keys[li], self._split(k)), axis=2)
            v_all = np.concatenate((state.values[li], self._split(v)), axis=2)
            keys.append(k_all)
            values.append(v_all)
            x = x + self._attend(self._split(q), k_all, v_all, mask) @ layer.self_out[0] + layer.self_out[1]
            h = _norm(x, layer.cross_norm)
            q = self._split(h @ layer.cross_q[0] + layer.cross_q[1])
            ck, cv = state.cross[li]
            x = x + self._attend(q, ck, cv, None) @ layer.cross_out[0] + layer.cross_out[1]
            h = _norm(x, layer.ffn_norm)
            x = x + _gelu(h @ layer.ffn_in[0] + layer.ffn_in[1]) @ layer.ffn_out[0] + layer.ffn_out[1]
        logits = _norm(x if every_position else x[:, -1], self.final_norm) @ self.output
        logits -= logits.max(axis=-1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        return DecoderState(keys, values, state.cross, state.length + n), log_probs

    def score(self, state: DecoderState, log_probs: np.ndarray, tokens: list[int]) -> float:
        """Total log-probability of ``tokens`` (ending with the end of text) after a state from ``start``."""
        return self.score_all(state, log_probs, [tokens])[0]

    def score_all(self, state: DecoderState, log_probs: np.ndarray, sequences: list[list[int]]) -> list[float]:
        """``score`` of several token sequences at once (one decoder call for all of them, shorter ones padded)."""
        columns = [[self.index.get(t) for t in tokens] for tokens in sequences]
        valid = [k for k, cols in enumerate(columns) if cols and None not in cols]
        totals = [-np.inf] * len(sequences)
        longest = max((len(sequences[k]) for k in valid), default=0)
        if not valid:
            return totals
        after = None
        if longest > 1:
            padded = np.asarray([(sequences[k][:-1] + [sequences[k][0]] * longest)[: longest - 1] for k in valid])
            _, after = self.step(state.select(np.zeros(len(valid), dtype=np.int64)), padded, every_position=True)
        for row, k in enumerate(valid):
            cols = columns[k]
            totals[k] = float(log_probs[0, cols[0]])
            if after is not None:
                totals[k] += float(sum(after[row, i, c] for i, c in enumerate(cols[1:])))
        return totals

    def _split(self, x: np.ndarray) -> np.ndarray:
        b, t, d = x.shape
        return x.reshape(b, t, self.heads, d // self.heads).transpose(0, 2, 1, 3)

    def _attend(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        scores = (q @ k.transpose(0, 1, 3, 2)) / math.sqrt(q.shape[-1])
        if mask is not None:
            scores = scores + mask
        scores -= scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights /= weights.sum(axis=-1, keepdims=True)
        out = weights @ v
        b, h, t, d = out.shape
        return out.transpose(0, 2, 1, 3).reshape(b, t, h * d)


def _norm(x: np.ndarray, params: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    gamma, beta = params
    return (x - mean) / np.sqrt(var + 1e-5) * gamma.reshape(-1) + beta.reshape(-1)


@cache
def _erf() -> np.ufunc:
    from scipy.special import erf

    return erf


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf()(x / math.sqrt(2.0)))
