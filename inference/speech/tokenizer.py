"""Whisper's byte-level BPE (GPT-2 style), read from the ``tokenizer.json`` shipped beside the model.

Only what voice commands need: encode a short vocabulary prompt into token strings and decode generated
tokens back to text. Written here so the web process does not need the ``tokenizers``/Hugging Face stack.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

# GPT-2's pre-tokenizer splits on contractions, letter runs, digit runs, other symbols and spaces.
_PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


@cache
def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from bytes to printable characters (so BPE never sees whitespace or controls)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, codes, strict=True)}


class ByteLevelBPE:
    """Encoder/decoder for one ``tokenizer.json`` (model type BPE, byte-level pre-tokenizer)."""

    def __init__(self, tokenizer_json: str | Path) -> None:
        data = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
        model = data["model"]
        if model.get("type") != "BPE":
            raise ValueError(f"{tokenizer_json}: expected a BPE tokenizer, found {model.get('type')!r}")
        self.vocab: dict[str, int] = dict(model["vocab"])
        for token in data.get("added_tokens", []):
            self.vocab[token["content"]] = token["id"]
        merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
        self.ranks: dict[tuple[str, ...], int] = {pair: i for i, pair in enumerate(merges)}
        self._byte_map = _byte_to_unicode()
        self._unicode_to_byte = {c: b for b, c in self._byte_map.items()}
        self._cache: dict[str, list[str]] = {}
        self._by_id = {i: t for t, i in self.vocab.items()}

    def tokens(self, ids: list[int]) -> list[str]:
        """Token strings for token ids (unknown ids are dropped)."""
        return [self._by_id[i] for i in ids if i in self._by_id]

    def encode(self, text: str) -> list[str]:
        """Token strings (as in ``vocabulary.txt``) for ``text``."""
        tokens: list[str] = []
        for piece in _PRETOKEN.findall(text):
            mapped = "".join(self._byte_map[b] for b in piece.encode("utf-8"))
            tokens += self._bpe(mapped)
        return tokens

    def decode(self, tokens: list[str]) -> str:
        """Text for token strings; special tokens (``<|...|>``) are dropped."""
        text = "".join(t for t in tokens if not (t.startswith("<|") and t.endswith("|>")))
        raw = bytes(self._unicode_to_byte[c] for c in text if c in self._unicode_to_byte)
        return raw.decode("utf-8", errors="replace")

    def _bpe(self, word: str) -> list[str]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        parts = list(word)
        while len(parts) > 1:
            pairs = [
                (self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:], strict=False))
            ]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            parts[i : i + 2] = [parts[i] + parts[i + 1]]
        # Repeated pairs are merged left to right, one per pass: same result as the reference loop.
        self._cache[word] = parts
        return parts
