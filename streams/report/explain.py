"""A plain-language sentence per topic cluster from an OpenAI-compatible endpoint (optional).

Off unless ``explain_url`` is set. Then the report sends one ``POST
{explain_url}/chat/completions`` per cluster with its keywords and example prompts (texts as
stored, so after the redaction policy) and shows the first sentence of the answer. The API
key comes from the environment only (``SEISMO_EXPLAIN_API_KEY``) and is never logged. Any
failure (no answer, an HTTP error, an unexpected body) leaves that cluster without an
explanation and logs one line; after a failure the remaining clusters are not asked, so a dead
endpoint costs one timeout, not one per cluster.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from detectors.topics.clustering import ClusterSummary
from streams.settings import Settings, explain_api_key

log = logging.getLogger(__name__)

MAX_SENTENCE_CHARS = 300
EXAMPLE_CHARS = 300
SYSTEM_PROMPT = (
    "You label clusters of prompts that users sent to an LLM application. Answer with one "
    "plain sentence (at most 25 words) saying what the prompts in the cluster are about."
)


class ClusterExplainer:
    """Asks a chat-completions endpoint what each cluster is about.

    Parameters
    ----------
    base_url : str
        The endpoint's base URL, e.g. ``https://api.openai.com/v1``.
    model : str
        Model name sent in the request.
    api_key : str
        Bearer token; empty sends no Authorization header (local servers).
    timeout : float
        Seconds per request (the setting `explain_timeout_seconds`).
    """

    def __init__(self, base_url: str, model: str, *, api_key: str = "", timeout: float):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._api_key = api_key
        self.timeout = timeout

    @classmethod
    def from_settings(
        cls, settings: Settings, env: Mapping[str, str] | None = None
    ) -> ClusterExplainer | None:
        """The explainer the settings ask for (key from the environment), or None when off."""
        if not settings.explain_url:
            return None
        return cls(settings.explain_url, settings.explain_model, api_key=explain_api_key(env),
                   timeout=settings.explain_timeout_seconds)

    def explain(self, clusters: Sequence[ClusterSummary]) -> dict[int, str]:
        """One sentence per cluster id; clusters without an answer are left out."""
        out: dict[int, str] = {}
        for summary in clusters:
            if not summary.size:
                continue
            try:
                out[summary.cluster] = self._ask(summary)
            except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
                # One line, no key, no prompt text: the URL and what went wrong.
                log.warning("cluster explanations unavailable from %s: %s", self.url,
                            _reason(exc))
                break
        return out

    def _ask(self, summary: ClusterSummary) -> str:
        examples = "\n".join(f"- {e[:EXAMPLE_CHARS]}" for e in summary.examples)
        question = (f"Keywords: {', '.join(summary.keywords) or '(none)'}\n"
                    f"Example prompts:\n{examples or '- (none)'}")
        body = json.dumps({
            "model": self.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": question}],
            "temperature": 0,
            "max_tokens": 80,
        }).encode()
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            answer = json.loads(response.read())
        content = answer["choices"][0]["message"]["content"]
        if not isinstance(content, str) or not content.strip():
            raise ValueError("the answer has no content")
        return _first_sentence(content)

    def __repr__(self) -> str:  # never the key
        return f"ClusterExplainer(url={self.url!r}, model={self.model!r})"


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    for end in (". ", "! ", "? "):
        cut = text.find(end)
        if cut != -1:
            text = text[: cut + 1]
            break
    return text if len(text) <= MAX_SENTENCE_CHARS else text[: MAX_SENTENCE_CHARS - 1] + "…"


def _reason(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return f"{type(exc).__name__}: {exc}"
