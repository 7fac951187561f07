"""The ``drift`` section: the embedding stage and the two-sample tests on its embeddings.

The window job's MMD and centroid tests, the topic stage (k-means clusters, the cluster-share
test) and ``seismo report`` all read their level, permutations, clusters and seed here.
``drift_clusters`` and ``drift_seed`` were fixed constants before; they are settings now so
that the report and the worker agree and a deployment can change k without a code change.
The seed stays fixed per deployment: a restarted worker rebuilds the same topic model from the
same stored sample only with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings.base import Section, check, check_at_least, check_choice, setting, split_list

EMBEDDING_BACKENDS = ("torch", "onnx-int8")
DRIFT_FIELDS = ("prompt", "completion")


PROMPT_EMBEDDING_TEXTS = ("last_user", "user_turns", "all")


@dataclass(frozen=True, slots=True)
class DriftSettings(Section):
    embedding_enabled: bool = setting(True, "embed prompts and completions and test their drift")
    embedding_model: str = setting(
        "all-MiniLM-L6-v2", "a local sentence-transformers directory or the packaged default")
    embedding_device: str = setting(
        "auto", "`auto` (CUDA when present), `cpu`, `cuda[:N]` or `mps`")
    # torch: sentence-transformers on embedding_device; onnx-int8: the same model exported to
    # int8 ONNX Runtime on the CPU (README, Configuration: why torch stays the default)
    embedding_backend: str = setting(
        "torch", "`torch` (sentence-transformers) or `onnx-int8` (CPU only; see below)")
    embedding_max_seq_length: int = setting(256, "tokens of a text the model reads")
    embedding_batch_size: int = setting(64, "texts embedded per model call")
    embedding_cache_size: int = setting(20_000, "embeddings kept in memory by text")
    embedding_sample: int = setting(500, "events embedded per window and field at most "
                                         "(bottom-k by event id)")
    reference_sample: int = setting(500, "events of the reference embedded at most")
    min_window_events: int = setting(
        20, "a window or reference with fewer embedded events is not tested")
    drift_fields: str = setting("prompt,completion", "the embedded fields, comma-separated")
    prompt_embedding_text: str = setting(
        "last_user", "which of a chat prompt is embedded for drift: last_user, user_turns or "
        "all (system prompt included; a system prompt change is prompt_version's)")
    drift_alpha: float = setting(0.01, "level of each drift test (MMD, centroid, cluster share)")
    drift_permutations: int = setting(
        500, "permutations (bootstrap draws) of each drift test's p-value")
    # A mixture fraction (detectors/drift/power.py): a window that could not detect this share
    # of its events moving to a held-out topic with power 0.8 says insufficient_data, not
    # no_drift. 0.3 is the generator's drift incident (30 % of prompts on a new topic).
    drift_min_effect: float = setting(
        0.3, "smallest mixture fraction a window must be able to detect, else insufficient_data")
    drift_clusters: int = setting(8, "topic clusters (k-means k) of the topic stage and report")
    drift_seed: int = setting(0, "seed of the drift tests and the topic clusters")

    def __post_init__(self) -> None:
        check(0 < self.drift_alpha < 1, "drift_alpha", "must be between 0 and 1")
        check_at_least(self, 1, "drift_permutations", "drift_clusters")
        check(0 < self.drift_min_effect <= 1, "drift_min_effect", "must be in (0, 1]")
        check_at_least(self, 0, "drift_seed")
        check_at_least(self, 2, "embedding_sample", "reference_sample", "min_window_events",
                       "embedding_batch_size", "embedding_max_seq_length")
        unknown = set(self.drift_field_list()) - set(DRIFT_FIELDS)
        check(not unknown, "drift_fields", f"unknown field(s) {sorted(unknown)}")
        check(
            self.embedding_device == "auto" or self.embedding_device.split(":")[0]
            in ("cpu", "cuda", "mps"),
            "embedding_device",
            "must be auto, cpu, cuda[:N] or mps",
        )
        check_choice("embedding_backend", self.embedding_backend, EMBEDDING_BACKENDS)
        check_choice("prompt_embedding_text", self.prompt_embedding_text, PROMPT_EMBEDDING_TEXTS)
        check(
            self.embedding_backend == "torch" or self.embedding_device in ("auto", "cpu"),
            "embedding_backend",
            f"{self.embedding_backend} runs on the CPU; set embedding_device to auto or cpu",
        )

    def drift_field_list(self) -> list[str]:
        return split_list(self.drift_fields)
