"""The ``onnx-int8`` embedding backend: the sentence-transformers model under ONNX Runtime, int8.

On first use the model directory is exported by :mod:`streams.embedding.onnx_export` (smoothed,
MatMul
weights quantised to int8 with ``onnxruntime.quantization.quantize_dynamic``) into the Seismo
cache directory (``$SEISMO_CACHE_DIR`` or ``~/.cache/seismo``), keyed by the model's files and
the library versions, so it is made once per model and machine.

The steps after the encoder are the sentence-transformers ones for the model's ``modules.json``
(checked: mean pooling): its fast tokenizer on stripped texts truncated at ``max_seq_length``,
the mean of the token vectors under the attention mask, L2 normalisation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

import numpy as np

from streams.exceptions import ConfigError
from streams.settings import CACHE_ROOT

log = logging.getLogger(__name__)

# Bump when streams/embedding/onnx_export.py changes what it writes: it is part of the cache key.
EXPORT_RECIPE = 1


def int8_model_path(model_path: str, cache_dir: Path | None = None) -> Path:
    """The int8 ONNX file of ``model_path``, exported into the cache the first time."""
    target = (cache_dir or CACHE_ROOT) / "onnx" / cache_key(model_path) / "model_int8.onnx"
    if target.exists():
        return target
    log.info("exporting %s to int8 ONNX into %s (once; later starts reuse it)",
             model_path, target.parent)
    target.parent.parent.mkdir(parents=True, exist_ok=True)
    # Built in a sibling directory and renamed: a crash or a second worker exporting at the
    # same time never leaves a half-written model where the next start would load it.
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent.parent))
    try:
        _export_in_subprocess(model_path, work)
        try:
            work.rename(target.parent)
        except OSError:
            if not target.exists():  # not a concurrent export that won the rename
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _export_in_subprocess(model_path: str, directory: Path) -> None:
    """Run the export (torch, tens of seconds, hundreds of MiB) in a process of its own: the
    worker never imports torch for this backend, and a CPU install without torch reads an
    export made once by a full one (README: Installs)."""
    run = subprocess.run([sys.executable, "-m", "streams.embedding.onnx_export", model_path,
                          str(directory)], capture_output=True, text=True)
    if run.returncode == 0:
        return
    if "No module named 'torch'" in run.stderr:
        raise ConfigError("embedding_backend", f"onnx-int8 has no export of {model_path} in "
                          f"{CACHE_ROOT / 'onnx'} and this install has no torch to make one: "
                          "run `make onnx-model` once with the full install")
    raise RuntimeError(f"the int8 ONNX export failed: {run.stderr.strip()[-2000:]}")


def cache_key(model_path: str) -> str:
    """A directory name for the export of ``model_path``: readable, and a hash of the model's
    files (names and contents), the recipe and the ONNX Runtime version. Neither the model's
    location nor torch's version: another install (a CPU one without torch, another venv)
    must find the export one install made. Hashing the files costs a fraction of a second
    per start (about 90 MB for the default model)."""
    root = Path(model_path).resolve()
    digest = hashlib.sha256(f"{EXPORT_RECIPE}\n{version('onnxruntime')}\n".encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(root)}\n".encode())
        with path.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(block)
    return f"{root.parent.name}-{root.name}-{digest.hexdigest()[:16]}"


def check_mean_pooling(model_path: str) -> None:
    """Fail with a :class:`ConfigError` unless the model pools by the masked token mean only."""
    root = Path(model_path)
    modules = root / "modules.json"
    config: dict[str, object] = {}
    for module in json.loads(modules.read_text()) if modules.exists() else []:
        if module["type"].endswith(".Pooling"):
            config = json.loads((root / module["path"] / "config.json").read_text())
    modes = {key for key, on in config.items() if key.startswith("pooling_mode_") and on}
    if modes != {"pooling_mode_mean_tokens"}:
        raise ConfigError("embedding_backend", f"onnx-int8 needs a sentence-transformers model "
                          f"with mean pooling; {model_path} has {sorted(modes) or 'none'}")


class OnnxInt8Encoder:
    """Unit-norm float32 sentence embeddings from the int8 ONNX export of ``model_path``."""

    def __init__(
        self, model_path: str, max_seq_length: int = 256, cache_dir: Path | None = None
    ) -> None:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import onnxruntime
        from transformers import AutoTokenizer

        check_mean_pooling(model_path)
        self.max_seq_length = max_seq_length
        self.path = int8_model_path(model_path, cache_dir)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.session = onnxruntime.InferenceSession(
            str(self.path), providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embeddings of ``texts``, shape (len, dimension), each of L2 norm 1."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Longest first, as sentence-transformers does: batches of similar length pad little.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            index = order[start : start + batch_size]
            out[index] = self._encode_batch([texts[i].strip() for i in index])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        tokens = self.tokenizer(texts, padding=True, truncation="longest_first",
                                max_length=self.max_seq_length, return_tensors="np")
        feeds = {name: tokens[name].astype(np.int64) for name in self.input_names}
        hidden = self.session.run(None, feeds)[0]
        mask = tokens["attention_mask"][..., None].astype(np.float32)
        # The sentence-transformers Pooling and Normalize modules, with their epsilons.
        mean = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)


def main() -> None:
    """``python -m streams.embedding.onnx [MODEL]``: export the model (default: the packaged
    all-MiniLM-L6-v2) into the cache if it is not there, and print the file's path."""
    from streams.embedding.encoder import DEFAULT_MODEL, resolve_model_path

    model = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    print(int8_model_path(resolve_model_path(model)))


if __name__ == "__main__":
    main()
