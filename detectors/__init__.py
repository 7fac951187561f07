"""Seismo detectors: pure, synchronous numpy/scipy statistics.

Every detector returns a :class:`DetectorResult`. To add one, create ``detectors/<name>.py``
with one class, import it below and list it in ``__all__`` (keep both lists sorted).
"""

from detectors.centroid import CentroidDrift
from detectors.cluster_share import ClusterShareDrift
from detectors.clustering import ClusterSummary, TopicModel
from detectors.distribution_change import DistributionChange
from detectors.injection import InjectionScore, InjectionScorer, load_attack_prompts
from detectors.mmd import MMDDrift
from detectors.pii import PII_TYPES, Finding, PIIScanner, find_pii
from detectors.projection import DiscriminantProjection, IncrementalProjection
from detectors.rate_change import RateChange
from detectors.redaction import RedactedMessages, RedactionPolicy, RedactionResult, Redactor
from detectors.refusal import RefusalDetector, RefusalResult, is_empty_completion
from detectors.result import DetectorResult
from detectors.secrets import SECRET_TYPES, SecretScanner, find_secrets
from detectors.slo import SLOCheck
from detectors.toxicity import (
    HFToxicityScorer,
    ProfanityCheckScorer,
    ToxicityModelError,
    ToxicityScorer,
    make_toxicity_scorer,
)

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
