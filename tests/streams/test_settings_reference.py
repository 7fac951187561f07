"""The README's configuration table is the one generated from the settings sections."""

from __future__ import annotations

from dataclasses import fields

import pytest

from streams.settings import SECTIONS, WindowSettings, reference


def test_the_readme_table_is_current() -> None:
    text = reference.README.read_text(encoding="utf-8")
    assert reference.updated(text) == text, (
        "the README's configuration table is stale: run `python -m streams.settings.reference`")
    assert reference.main(["--check"]) == 0


def test_a_changed_default_makes_the_table_stale(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(reference.README.read_text(encoding="utf-8"), encoding="utf-8")
    spec = next(f for f in fields(WindowSettings) if f.name == "window_seconds")
    monkeypatch.setattr(spec, "default", 301.0)
    assert reference.main(["--check", "--readme", str(readme)]) == 1
    assert reference.main(["--readme", str(readme)]) == 0  # regenerated ...
    assert "| `window_seconds` | `SEISMO_WINDOW_SECONDS` | `301` |" in readme.read_text()
    assert reference.main(["--check", "--readme", str(readme)]) == 0  # ... and current


def test_every_setting_says_what_it_means_in_one_line() -> None:
    for cls in SECTIONS.values():
        for spec in fields(cls):
            doc = spec.metadata["doc"]
            assert doc and "\n" not in doc and "|" not in doc, spec.name


def test_a_readme_without_the_markers_is_an_error() -> None:
    with pytest.raises(ValueError, match="settings:begin"):
        reference.updated("# no table here\n")
