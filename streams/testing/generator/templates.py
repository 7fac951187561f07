"""Templates with named slots, and the filler that turns them into text.

A template is a ``str.format`` string whose fields name slots of a vocabulary:
``"Where is my order {order_id}?"``. A slot is a tuple of strings, a tuple of records
(``{"error": ..., "fix": ...}``, read in a template as ``{err[fix]}``) or a function of the
random generator. A field whose name is a slot name plus a digit (``{coin2}``) draws a second,
different value of that slot. The prompt and the answer of one exchange are filled from one
draw, so the answer talks about the same order, product or error as the question.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

#: A slot: fixed strings, records read field by field, or a function of the generator.
Slot = tuple[str, ...] | tuple[Mapping[str, str], ...] | Callable[[random.Random], str]

# Drawing a distinct second value gives up after this many tries, so a slot with one value
# cannot loop forever; every slot used twice in a template has many values.
_DISTINCT_TRIES = 8


@dataclass(frozen=True, slots=True)
class Intent:
    """One thing users ask, in several phrasings, with answers that fit every phrasing.

    Attributes
    ----------
    prompts : tuple of str
        User-message templates.
    answers : tuple of str
        Completion templates; they may use any slot that a prompt uses, and more.
    """

    prompts: tuple[str, ...]
    answers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """A subject of conversation: a name (ground truth in ``metadata["topic"]``) and intents.

    Attributes
    ----------
    name : str
        Stable kebab-case name, e.g. ``"order-status"``.
    intents : tuple of Intent
        What users ask about within the topic; drawn uniformly.
    """

    name: str
    intents: tuple[Intent, ...]

    def templates(self) -> tuple[str, ...]:
        """Every prompt and answer template of the topic (for validation and tests)."""
        return tuple(t for intent in self.intents for t in (*intent.prompts, *intent.answers))


@cache
def _roots(template: str) -> tuple[str, ...]:
    """Names of the slots a template reads, in order of first use (``{err[fix]}`` -> ``err``)."""
    names: dict[str, None] = {}
    for _, field, _, _ in string.Formatter().parse(template):
        if field:
            names[field.split("[", 1)[0].split(".", 1)[0]] = None
    return tuple(names)


class SlotFiller:
    """Fills templates from a slot vocabulary with draws from a caller-supplied generator.

    Parameters
    ----------
    slots : Mapping[str, Slot]
        Vocabulary by slot name.

    Examples
    --------
    >>> import random
    >>> filler = SlotFiller({"city": ("Lisbon", "Osaka"), "n": lambda rng: str(rng.randint(2, 9))})
    >>> filler.fill(random.Random(1), "Ship {n} boxes to {city}.", "{n} boxes go to {city}.")
    ('Ship 4 boxes to Osaka.', '4 boxes go to Osaka.')
    """

    def __init__(self, slots: Mapping[str, Slot]) -> None:
        self.slots = dict(slots)

    def slot_of(self, name: str) -> str:
        """Vocabulary key behind a template field name (``coin2`` reads slot ``coin``).

        Raises
        ------
        KeyError
            If the name matches no slot.
        """
        if name in self.slots:
            return name
        if name[-1:].isdigit() and name[:-1] in self.slots:
            return name[:-1]
        raise KeyError(f"template field {name!r} names no slot")

    def fill(self, rng: random.Random, *templates: str) -> tuple[str, ...]:
        """Draw each slot the templates use once, and format every template with the draw."""
        values: dict[str, object] = {}
        for template in templates:
            for name in _roots(template):
                if name not in values:
                    values[name] = self._draw(rng, name, values)
        return tuple(template.format_map(values) for template in templates)

    def _draw(self, rng: random.Random, name: str, drawn: Mapping[str, object]) -> object:
        key = self.slot_of(name)
        slot = self.slots[key]
        # Fields reading the same slot ("coin" and "coin2") want different values.
        taken = [value for field, value in drawn.items() if self.slot_of(field) == key]
        value = self._one(rng, slot)
        for _ in range(_DISTINCT_TRIES):
            if value not in taken:
                break
            value = self._one(rng, slot)
        return value

    @staticmethod
    def _one(rng: random.Random, slot: Slot) -> object:
        if callable(slot):
            return slot(rng)
        return slot[int(rng.random() * len(slot))]
