"""Seismo detectors: pure, synchronous numpy/scipy statistics.

Every detector returns a :class:`DetectorResult`. To add one, create ``detectors/<name>.py``
with one class, import it below and list it in ``__all__`` (keep both lists sorted).
"""

from detectors.change.distribution_change import DistributionChange
from detectors.change.rate_change import RateChange
from detectors.change.slo import SLOCheck
from detectors.drift.centroid import CentroidDrift
from detectors.drift.cluster_share import ClusterShareDrift
from detectors.drift.mmd import MMDDrift
from detectors.result import DetectorResult
from detectors.scanners.injection import InjectionScore, InjectionScorer, load_attack_prompts
from detectors.scanners.pii import PII_TYPES, Finding, PIIScanner, find_pii
from detectors.scanners.redaction import (
    RedactedMessages,
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
    "RedactedMessages",
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
