"""Secret scanner: precision and recall per type, and the randomness test behind the entropy."""

from __future__ import annotations

import base64
import doctest
import json
import pickle
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detectors.scanners.randomness as randomness_module
import detectors.scanners.secrets as secrets_module
from detectors.scanners.randomness import decode_base64_text, entropy_threshold, looks_random
from detectors.scanners.secrets import SECRET_TYPES, SecretScanner, find_secrets
from tests.detectors.fixtures.labelled import records_for, span_records, span_scores

FLOOR = 0.95
BASE62 = string.ascii_letters + string.digits


@pytest.fixture(scope="module")
def scanner() -> SecretScanner:
    return SecretScanner()


def types_in(text: str) -> list[str]:
    return [f.type for f in find_secrets(text)]


@pytest.mark.parametrize("type_", SECRET_TYPES)
def test_labelled_set_has_enough_positives_and_near_misses(type_: str) -> None:
    assert len(records_for(type_, "positive")) >= 50
    assert len(records_for(type_, "negative")) >= 50


@pytest.mark.parametrize("type_", SECRET_TYPES)
def test_precision_and_recall_per_type(scanner: SecretScanner, type_: str) -> None:
    scores = span_scores(span_records(), scanner.scan, type_)
    assert scores.recall >= FLOOR, scores
    assert scores.precision >= FLOOR, scores


def test_random_tokens_pass_the_randomness_test_at_about_one_minus_two_alpha() -> None:
    # Two one-sided tests at alpha = 0.001 each (entropy, word runs): about 0.2% misses.
    rng = random.Random(3)
    tokens = ["".join(rng.choice(BASE62) for _ in range(rng.randint(32, 64))) for _ in range(3000)]
    misses = sum(not looks_random(t, 62, 0.001) for t in tokens)
    assert misses <= 0.005 * len(tokens)


@settings(derandomize=True, max_examples=200, database=None)
@given(st.text("0123456789abcdef", min_size=32, max_size=128))
def test_no_hex_string_of_32_or_more_characters_looks_random(digest: str) -> None:
    # log2(16) = 4 bits is the most any hex string can have; the threshold is above it.
    assert not looks_random(digest, 62, 0.001)
    assert not types_in(f"the checksum is {digest} ok")


def test_threshold_grows_with_length_and_shrinks_with_alpha() -> None:
    lengths = [32, 40, 64, 128]
    thresholds = [entropy_threshold(n, 62, 0.001) for n in lengths]
    assert thresholds == sorted(thresholds)
    assert entropy_threshold(40, 62, 0.01) > entropy_threshold(40, 62, 0.001)


@pytest.mark.parametrize(
    "placeholder",
    [
        "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "api_key='sk-your-api-key-goes-here'",
        "AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX",
        "token ghp_000000000000000000000000000000000000",
        "key sk-proj-ThisIsMyOwnSecretProjectKeyName",
    ],
)
def test_placeholders_are_not_secrets(placeholder: str) -> None:
    assert types_in(placeholder) == []


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("OPENAI_API_KEY=sk-4fGh81KdPq02LmZx7TbW9sVcN3rQ8yHj", "api_key"),
        ("key sk-ant-api03-Zr9mK2pQ8vL4xN7wT1bY6cF3hD0jS5gA-uE_iO2kM8nB", "api_key"),
        ("export AWS_ACCESS_KEY_ID=ASIA4XKQ2ZT7MWB3YH6P", "aws_access_key"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq7HgE2v9T", "aws_access_key"),
        ("session Zx8fK2mQ9vR4tY7wB1nL6pS3dH5jG0cAq", "high_entropy"),
    ],
)
def test_known_formats(text: str, type_: str) -> None:
    assert types_in(text) == [type_]


def _jwt(header: dict) -> str:
    def seg(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{seg(header)}.{seg({'sub': '42'})}.c2lnbmF0dXJlLWJ5dGVz"


def test_jwt_header_must_decode_to_json_with_alg() -> None:
    assert types_in(f"Bearer {_jwt({'alg': 'HS256', 'typ': 'JWT'})}") == ["jwt"]
    assert types_in(f"Bearer {_jwt({'typ': 'JWT'})}") == []


def test_truncated_private_key_is_still_a_secret() -> None:
    body = base64.b64encode(random.Random(1).randbytes(96)).decode()
    text = f"my key:\n-----BEGIN RSA PRIVATE KEY-----\n{body[:64]}\n{body[64:]}"
    (finding,) = find_secrets(text)
    assert finding.type == "private_key" and finding.end == len(text)


def test_public_key_material_is_not_a_secret() -> None:
    body = base64.b64encode(random.Random(2).randbytes(120)).decode()
    pem = f"-----BEGIN PUBLIC KEY-----\n{body[:64]}\n{body[64:128]}\n{body[128:]}\n"
    assert types_in(pem + "-----END PUBLIC KEY-----") == []
    assert types_in("Use -----BEGIN PRIVATE KEY----- as the first line of the file.") == []


def test_base64_of_text_is_not_a_random_token() -> None:
    encoded = base64.b64encode(b"please summarise the attached report in three bullets").decode()
    assert decode_base64_text(encoded) == "please summarise the attached report in three bullets"
    assert types_in(f"note: {encoded}") == []


def test_scanner_limited_to_some_types() -> None:
    only_jwt = SecretScanner(types=["jwt"])
    assert only_jwt.scan("sk-4fGh81KdPq02LmZx7TbW9sVcN3rQ8yHj") == []
    assert only_jwt.count("nothing here") == {"jwt": 0}


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"types": ["password"]}, "types"),
        ({"types": []}, "types"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 0.6}, "alpha"),
        ({"min_entropy_length": 8}, "min_entropy_length"),
    ],
)
def test_invalid_settings_name_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        SecretScanner(**kwargs)


def test_pickle_round_trip(scanner: SecretScanner) -> None:
    text = "OPENAI_API_KEY=sk-4fGh81KdPq02LmZx7TbW9sVcN3rQ8yHj"
    restored = pickle.loads(pickle.dumps(scanner))
    assert restored.scan(text) == scanner.scan(text)
    assert (restored.alpha, restored.min_entropy_length) == (0.001, 32)


@pytest.mark.parametrize("module", [secrets_module, randomness_module], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    results = doctest.testmod(module)
    assert results.attempted > 0 and results.failed == 0


@pytest.mark.parametrize("prefix", [
    "sk-", "sk-ant-", "sk-proj-", "rk_live_", "sk_live_", "rk_test_", "sk_test_", "ghp_", "gho_",
    "ghu_", "ghs_", "ghr_", "github_pat_", "xoxa-", "xoxb-", "xoxe-", "xoxp-", "xoxr-", "xoxs-",
    "AIza", "hf_",
])
def test_the_api_key_prefilter_lets_every_provider_prefix_through(prefix: str) -> None:
    # The substring gates are a speed-up only: a text holding a prefix must reach the patterns.
    assert secrets_module._may_hold_api_key(f'client = Client(api_key="{prefix}')


# The shortest value each finder reports (random characters where the format has them): the
# AWS key id, at 20 characters, is what sets secrets_module._SHORTEST_KEY.
_SHORTEST = [
    "AKIA2E0A8F3B244C9986", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
    "sk-" + "a1B2c3D4e5F6g7H8i9J0", "sk-ant-" + "a1B2c3D4e5F6g7H8i9J0",
    "sk_live_" + "a1B2c3D4e5F6g7H8i9J0", "xoxb-1-" + "a1B2c3D4e5F6g7H8i9J0",
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0" * 2, "github_pat_" + "a1B2c3D4e5F6g7H8i9J0" * 2,
    "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5",
]


@pytest.mark.parametrize("key", _SHORTEST)
def test_the_prefilter_passes_the_shortest_key_of_every_finder(key: str) -> None:
    # may_find is a speed-up only: it looks for a run of _SHORTEST_KEY token characters, so
    # every key a finder reports must be one.
    text = f"aws secret access key is {key} ok"
    assert SecretScanner().scan(text) and SecretScanner().may_find(text), key
    assert SecretScanner().may_find(text.replace(key, key[:19])) is False
