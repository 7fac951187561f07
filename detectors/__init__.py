"""Seismo detectors: pure, synchronous numpy/scipy statistics and scanners, no I/O.

``scanners/`` judge one event (PII, secrets, redaction, toxicity, refusal, injection),
``drift/`` test a window's embeddings against a reference sample, ``change/`` test a
window's scalars (latency, rates, SLOs), ``topics/`` cluster and project embeddings.

Every detector returns one :class:`DetectorResult`, whose field names are the ClickHouse
columns of the ``drift`` table and the fields Grafana queries read: ``score()`` computes the
numbers and one shared decision rule turns them into ``p_value``, ``threshold`` and
``drifted`` (for two-sample tests :class:`~detectors.drift._two_sample.TwoSampleDrift`), so
every detector reports the same shape and a result is stored without renaming.

Adding a drift test on embeddings is one file and one line:

1. ``detectors/drift/<name>.py`` with one class (one statistic per file). Subclass
   ``TwoSampleDrift``: settings are public and validated in ``__init__`` (a ``ValueError`` whose
   message starts with the argument's name), state derived from them and from the reference is
   private and rebuilt in ``_reset()``, ``score(x)`` computes the statistic and its null sample
   and returns ``self._result(...)``. Set ``method`` (the stable name stored in each row) and
   ``_resamples_argument`` (your name for the number of permutations or bootstrap draws), and
   give the class a NumPy-style docstring with a seeded example.
2. One line in :data:`detectors.registry.DRIFT_TESTS`, named by its ``method``:
   ``"<method>": <Class>.create`` (``partial(<Class>.create, setting=...)`` for a setting of
   its own). The window job then builds it for every reference and writes its rows; nothing
   in ``streams/`` changes.

What it gets for free: ``tests/detectors/test_conventions.py`` walks the registry and checks
that every entry is built from the uniform signature, scores a quiet and a shifted window
into a complete ``DetectorResult`` named by its entry, keeps its false-alarm rate on
no-change windows, pickles to its settings and reference only (and scores the same after),
keeps a read-only copy of its reference, is reproducible under a seed, names bad arguments
and non-finite data, and that its docstring example runs. Its own statistics (the
false-alarm rate and power on real sentence embeddings) go in ``tests/detectors/drift/``.

A class that is also part of the public API is imported below and listed in ``__all__``
(keep both sorted).
"""

from detectors.change.distribution_change import DistributionChange
from detectors.change.rate_change import RateChange
from detectors.change.slo import SLOCheck
from detectors.drift.centroid import CentroidDrift
from detectors.drift.cluster_share import ClusterShareDrift
from detectors.drift.mmd import MMDDrift
from detectors.registry import DRIFT_TESTS
from detectors.result import DetectorResult
from detectors.scanners.injection import InjectionScore, InjectionScorer, load_attack_prompts
from detectors.scanners.pii import PII_TYPES, Finding, PIIScanner, find_pii
from detectors.scanners.redaction import (
    RedactionPolicy,
    RedactionResult,
    Redactor,
)
from detectors.scanners.refusal import RefusalDetector, RefusalResult, is_empty_completion
from detectors.scanners.secrets import SECRET_TYPES, SecretScanner, find_secrets
from detectors.scanners.toxicity import (
    HFToxicityScorer,
    ProfanityCheckScorer,
    ToxicityModelError,
    ToxicityScorer,
    make_toxicity_scorer,
)
from detectors.topics.clustering import ClusterSummary, TopicModel
from detectors.topics.projection import DiscriminantProjection, IncrementalProjection

__all__ = [
    "DRIFT_TESTS",
    "PII_TYPES",
    "SECRET_TYPES",
    "CentroidDrift",
    "ClusterShareDrift",
    "ClusterSummary",
    "DetectorResult",
    "DiscriminantProjection",
    "DistributionChange",
    "Finding",
    "HFToxicityScorer",
    "IncrementalProjection",
    "InjectionScore",
    "InjectionScorer",
    "MMDDrift",
    "PIIScanner",
    "ProfanityCheckScorer",
    "RateChange",
    "RedactionPolicy",
    "RedactionResult",
    "Redactor",
    "RefusalDetector",
    "RefusalResult",
    "SLOCheck",
    "SecretScanner",
    "TopicModel",
    "ToxicityModelError",
    "ToxicityScorer",
    "find_pii",
    "find_secrets",
    "is_empty_completion",
    "load_attack_prompts",
    "make_toxicity_scorer",
]
