"""The ``report`` section: a sentence per topic cluster in ``seismo report`` (optional).

The explanation comes from an OpenAI-compatible endpoint (``POST
{explain_url}/chat/completions``); an empty URL is off. Its API key is read from the
environment only (:func:`streams.settings.explain_api_key`), never from a file or a setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from streams.settings.base import Section, check, check_positive, setting


@dataclass(frozen=True, slots=True)
class ReportSettings(Section):
    explain_url: str = setting(
        "", "an OpenAI-compatible base URL that explains each topic cluster in `seismo report`",
        shown="off")
    explain_model: str = setting("gpt-4o-mini", "the model the explaining endpoint serves")
    explain_timeout_seconds: float = setting(20.0, "seconds per explanation request")

    def __post_init__(self) -> None:
        url = urlparse(self.explain_url)
        check(
            not self.explain_url or url.scheme in ("http", "https") and bool(url.netloc),
            "explain_url",
            f"must be empty (off) or an http(s):// base URL, got {self.explain_url!r}",
        )
        check(not self.explain_url or bool(self.explain_model.strip()), "explain_model",
              "is empty; name the model the endpoint serves")
        check_positive(self, "explain_timeout_seconds")
