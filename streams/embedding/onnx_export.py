"""Export a sentence-transformers encoder to smoothed, int8-quantised ONNX (offline, on the CPU).

Plain dynamic quantisation is not accurate enough for drift: the activations of BERT-like
encoders have a few outlier channels, and one int8 scale per tensor then leaves the other
channels a handful of levels. On all-MiniLM-L6-v2 the cosine to the PyTorch embedding fell to
0.92 for a two-word prompt (0.96 with per-channel weight scales). Before export every linear
layer is therefore *smoothed* (SmoothQuant, Xiao et al. 2023): its input is divided per channel
by ``s`` and its weight rows multiplied by ``s`` -- the same function in float, but the
activation outliers move into the weights, which are quantised per output channel.
``s = max|x|^a / max|w|^(1-a)``, the activation maxima taken on :data:`CALIBRATION_TEXTS`.
That still left short prompts at cosine 0.986: the rest of the error came from the feed-forward
down-projections, whose input (the GELU output) has outliers per token ([CLS], [SEP]) that no
per-channel scale can move. Those stay float (a third of the linear layers' work); the other
weight MatMuls run in int8. Worst text then 0.996, mean 0.999 (the module's test texts).

Only :mod:`streams.embedding.onnx` calls this, once per model (the result is cached).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from transformers import AutoModel, AutoTokenizer

# Bump when the recipe below changes: it is part of the export's cache key.
EXPORT_RECIPE = 1
# Migration strength of the smoothing. Measured on all-MiniLM-L6-v2 against PyTorch over the
# texts of tests/streams/embedding/test_onnx.py and 64 generated prompts, all MatMuls int8: the
# worst text's cosine was 0.981, 0.986, 0.977, 0.953 at a = 0.6, 0.7, 0.8, 0.9.
SMOOTHING_ALPHA = 0.7
# Texts whose activations set the smoothing scales: short and long, several scripts, code and
# emoji, so that the outlier channels real prompts light up are seen.
CALIBRATION_TEXTS = (
    "ok", "thanks!", "yes", "?", "Hello there",
    "Can you summarise this support ticket for me in two sentences?",
    "Write a polite reply declining the meeting on Friday and propose Monday instead.",
    "Translate to French: the invoice is attached and payment is due in thirty days.",
    "Quel est le meilleur moyen d'apprendre la programmation ?",
    "Ich habe mein Passwort vergessen und kann mich nicht anmelden.",
    "请帮我把这段话翻译成英文。", "この文章を要約してください。", "Как отменить подписку?",
    "مرحبا، أحتاج إلى مساعدة في طلبي", "🙂🙂 great job, team 🚀🎉",
    "import numpy as np\nx = np.linspace(0, 1, 100)\nprint(x.mean())",
    "SELECT user_id, count(*) FROM orders GROUP BY user_id HAVING count(*) > 3;",
    "ERROR 2024-05-01T10:00:00Z worker-3 connection reset by peer (errno 104)",
    " ".join(["Our quarterly planning covers hiring, the roadmap, customer churn and the "
              "infrastructure budget for every region."] * 30),
)


class SmoothedLinear(torch.nn.Module):
    """``linear`` with its input divided by ``scale`` and its weight columns multiplied by it."""

    def __init__(self, linear: torch.nn.Linear, scale: torch.Tensor) -> None:
        super().__init__()
        self.linear = linear
        self.register_buffer("inverse_scale", 1.0 / scale)
        with torch.no_grad():
            linear.weight.mul_(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x * self.inverse_scale)


class TokenEmbeddings(torch.nn.Module):
    """The encoder with positional inputs (ONNX has no keywords) and one output."""

    def __init__(self, model: torch.nn.Module, input_names: list[str]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        inputs = dict(zip(self.input_names, tensors, strict=True))
        return self.model(**inputs).last_hidden_state


def export_int8(model_path: str, directory: Path) -> Path:
    """Write ``model_int8.onnx`` for ``model_path`` into ``directory`` and return its path."""
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModel.from_pretrained(model_path).eval()
    smooth(model, tokenizer)
    names = list(tokenizer.model_input_names)
    sample = tokenizer(["a first example", "and a second, longer one"], padding=True,
                       return_tensors="pt")
    axes = {0: "batch", 1: "tokens"}
    float_path, int8_path = directory / "model_float.onnx", directory / "model_int8.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer's warnings are about branches fixed at trace time that hold for every
        # input here (the mask is as long as the ids; a mask is always given), and about the
        # exporter's own deprecation: they would only alarm whoever reads the worker's log.
        warnings.simplefilter("ignore")
        # The TorchScript exporter: seconds where the torch.export one took half a minute, and
        # its graph ran faster under ONNX Runtime on the CPU.
        torch.onnx.export(
            TokenEmbeddings(model, names), tuple(sample[n] for n in names), str(float_path),
            input_names=names, output_names=["token_embeddings"],
            dynamic_axes={name: axes for name in [*names, "token_embeddings"]},
            opset_version=17, dynamo=False,
        )
    # Unsigned weights: on AVX2 without VNNI, u8 x s8 products can saturate (ONNX Runtime's
    # quantisation guide). Per-channel scales, because smoothing widens some weight columns.
    quantize_dynamic(float_path, int8_path, weight_type=QuantType.QUInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"],
                     nodes_to_exclude=down_projections(onnx.load(float_path)))
    float_path.unlink()
    return int8_path


def down_projections(model: onnx.ModelProto) -> list[str]:
    """MatMul nodes whose weight narrows its input (``in > out``): the feed-forward
    down-projections, the one place whose outliers are per token."""
    shapes = {init.name: list(init.dims) for init in model.graph.initializer}
    return [node.name for node in model.graph.node if node.op_type == "MatMul"
            and len(shape := shapes.get(node.input[1], [])) == 2 and shape[0] > shape[1]]


def smooth(model: torch.nn.Module, tokenizer: Any) -> None:
    """Replace every used ``nn.Linear`` of ``model`` by a :class:`SmoothedLinear`."""
    linears = {name: module for name, module in model.named_modules()
               if isinstance(module, torch.nn.Linear)}
    peaks: dict[str, torch.Tensor] = {}

    def record(name: str) -> Any:
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: Any) -> None:
            x = inputs[0].detach()
            peak = x.abs().reshape(-1, x.shape[-1]).amax(0)
            peaks[name] = torch.maximum(peaks[name], peak) if name in peaks else peak
        return hook

    hooks = [module.register_forward_hook(record(name)) for name, module in linears.items()]
    try:
        with torch.no_grad():
            model(**tokenizer(list(CALIBRATION_TEXTS), padding=True, truncation=True,
                              return_tensors="pt"))
    finally:
        for handle in hooks:
            handle.remove()
    floor = torch.finfo(torch.float32).tiny  # a channel that was zero throughout
    for name, linear in linears.items():
        if name not in peaks:  # not on the path to the token embeddings (the pooler head)
            continue
        weight_peak = linear.weight.detach().abs().amax(0).clamp(min=floor)
        scale = (peaks[name].clamp(min=floor) ** SMOOTHING_ALPHA
                 / weight_peak ** (1 - SMOOTHING_ALPHA))
        parent, _, attribute = name.rpartition(".")
        setattr(model.get_submodule(parent), attribute, SmoothedLinear(linear, scale))


def main(argv: list[str] | None = None) -> None:
    """``python -m streams.embedding.onnx_export MODEL_DIR OUT_DIR``: what the backend runs in a
    process of its own, and ``make onnx-model`` runs ahead of a CPU install."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m streams.embedding.onnx_export MODEL_DIR OUT_DIR")
    print(export_int8(args[0], Path(args[1])))


if __name__ == "__main__":
    main()
