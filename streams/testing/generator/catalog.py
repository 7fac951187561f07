"""The simulated fleet: models with their speed, and apps with their topics and settings.

Latency figures are the order of magnitude public dashboards show for hosted models (a few
hundred milliseconds to the first token, tens to a hundred and more tokens per second); they
only need to make models distinguishable, not to rank real vendors.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.testing.generator import topics
from streams.testing.generator.templates import Topic


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """Speed of one model: log-normal time to first token, then a log-normal token rate.

    Attributes
    ----------
    name, provider : str
        As written into ``model`` and ``provider``.
    ttft_median_ms : float
        Median time to the first token.
    ttft_sigma : float
        Log-space standard deviation of the time to the first token.
    tokens_per_second : float
        Median decoding speed.
    speed_sigma : float
        Log-space standard deviation of the decoding time of one call.
    """

    name: str
    provider: str
    ttft_median_ms: float
    ttft_sigma: float
    tokens_per_second: float
    speed_sigma: float


@dataclass(frozen=True, slots=True)
class AppProfile:
    """One application that calls LLMs: what its users ask and how it calls the models.

    Attributes
    ----------
    name : str
        As written into ``app``.
    share : float
        Relative share of all traffic.
    topics : tuple of (Topic, weight)
        The stable topic mix.
    models : tuple of (model name, weight)
        Which models serve the app, and how often.
    prompt_template : str
        Name of the app's prompt template.
    system_prompts : tuple of (version, weight, system prompt)
        Template versions in use, with their share of calls.
    temperatures : tuple of float
        Sampling temperatures the app uses.
    chat_share : float
        Share of calls sent as a ``[system, user]`` message list rather than a plain string.
    """

    name: str
    share: float
    topics: tuple[tuple[Topic, float], ...]
    models: tuple[tuple[str, float], ...]
    prompt_template: str
    system_prompts: tuple[tuple[str, float, str], ...]
    temperatures: tuple[float, ...]
    chat_share: float


MODELS: dict[str, ModelProfile] = {
    m.name: m
    for m in (
        ModelProfile("gpt-4o-mini", "openai", 320.0, 0.35, 85.0, 0.25),
        ModelProfile("gpt-4o", "openai", 450.0, 0.35, 60.0, 0.25),
        ModelProfile("claude-3-5-haiku", "anthropic", 380.0, 0.30, 70.0, 0.25),
        ModelProfile("claude-3-5-sonnet", "anthropic", 650.0, 0.30, 55.0, 0.25),
        ModelProfile("llama-3.1-8b", "meta", 120.0, 0.40, 160.0, 0.30),
        ModelProfile("llama-3.1-70b", "meta", 300.0, 0.40, 45.0, 0.30),
    )
}

APPS: dict[str, AppProfile] = {
    a.name: a
    for a in (
        AppProfile(
            name="support-bot",
            share=0.5,
            topics=(
                (topics.ORDER_STATUS, 0.3),
                (topics.RETURNS, 0.2),
                (topics.ACCOUNT, 0.2),
                (topics.BILLING, 0.2),
                (topics.SETUP, 0.1),
            ),
            models=(("gpt-4o-mini", 0.6), ("claude-3-5-haiku", 0.4)),
            prompt_template="support_reply",
            system_prompts=(
                ("v1", 0.7, "You are a friendly customer support assistant for Voltline "
                 "Electronics. Answer briefly and accurately, and never promise refunds you "
                 "cannot issue."),
                ("v2", 0.3, "You are Voltline's support assistant. Be concise, cite the relevant "
                 "policy, and offer to hand over to a human agent when you cannot resolve the "
                 "issue."),
            ),
            temperatures=(0.2, 0.3),
            chat_share=0.4,
        ),
        AppProfile(
            name="code-assistant",
            share=0.3,
            topics=(
                (topics.DEBUG, 0.35),
                (topics.WRITE_CODE, 0.25),
                (topics.REFACTOR, 0.15),
                (topics.SQL, 0.15),
                (topics.GIT, 0.10),
            ),
            models=(("claude-3-5-sonnet", 0.45), ("gpt-4o", 0.35), ("llama-3.1-8b", 0.2)),
            prompt_template="code_chat",
            system_prompts=(
                ("v1", 0.6, "You are an expert software engineer. Give correct, idiomatic code "
                 "and explain your reasoning briefly."),
                ("v2", 0.4, "You are a senior engineer pairing with the user. Prefer small, "
                 "tested changes, mention trade-offs, and keep explanations under 150 words."),
            ),
            temperatures=(0.0, 0.2),
            chat_share=0.6,
        ),
        AppProfile(
            name="research-summarizer",
            share=0.2,
            topics=(
                (topics.LITERATURE, 0.35),
                (topics.DOCUMENTS, 0.3),
                (topics.POLICY, 0.2),
                (topics.EXPLAIN, 0.15),
            ),
            models=(("gpt-4o", 0.4), ("claude-3-5-haiku", 0.3), ("llama-3.1-70b", 0.3)),
            prompt_template="research_digest",
            system_prompts=(
                ("v1", 0.5, "You summarise research and documents for busy professionals. Be "
                 "neutral, state uncertainty, and avoid jargon."),
                ("v2", 0.5, "You are a research analyst. Write concise, well-structured "
                 "summaries with the main finding first and clearly labelled caveats."),
            ),
            temperatures=(0.3, 0.7),
            chat_share=0.3,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class ErrorProfile:
    """One way a call fails: its share of failures and how long the failing call takes.

    Attributes
    ----------
    error_type : str
        As written into ``error_type``.
    share : float
        Relative share among failed calls.
    latency_median_ms, latency_sigma : float
        Log-normal duration of the failing call (a rate limit answers at once, a timeout
        waits for the client's 30 s limit).
    """

    error_type: str
    share: float
    latency_median_ms: float
    latency_sigma: float


ERRORS: tuple[ErrorProfile, ...] = (
    ErrorProfile("rate_limit", 0.40, 90.0, 0.4),
    ErrorProfile("timeout", 0.20, 30_000.0, 0.02),
    ErrorProfile("server_error", 0.15, 900.0, 0.6),
    ErrorProfile("content_filter", 0.15, 400.0, 0.4),
    ErrorProfile("context_length_exceeded", 0.10, 150.0, 0.3),
)
