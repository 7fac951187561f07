"""Phrases that wrap or replace topic text: greetings, sign-offs, abuse, refusals, contact data.

The abusive phrases exist so that toxicity detection has something to find; they are
deliberately crude. Contact data uses reserved fictional ranges (US 555-01xx numbers, UK
07700 900xxx mobiles) with invented names.
"""

from __future__ import annotations

import random

# Empty strings weight "no greeting" / "no sign-off", as most real prompts have neither.
OPENERS = (
    "", "", "", "", "", "Hi!", "Hello.", "Hey there!", "Hi there.", "Good morning.",
    "Quick question:", "Sorry if this is a basic question.", "I need some help.",
    "Hope you can help.",
)  # fmt: skip

CLOSERS = (
    "", "", "", "", "", "Thanks!", "Thanks in advance.", "Thank you.", "Appreciate the help.",
    "Please keep it short.", "Any help is appreciated.", "This is a bit urgent.",
)  # fmt: skip

ANSWER_CLOSERS = (
    "", "", "", "Let me know if there's anything else I can help with.", "Hope this helps!",
    "Is there anything else you'd like me to look into?",
)  # fmt: skip

# A model answering an abusive user stays calm; the apology is part of realistic traffic.
DEESCALATIONS = (
    "I understand this is frustrating, and I'm sorry for the trouble.",
    "I'm sorry this has been such a hassle. Let's sort it out.",
    "I hear you, and I want to get this fixed for you.",
)

# Abuse dilutes with length in bag-of-words classifiers, so a toxic prompt carries one phrase
# before and one after the request, each with strong profanity.
TOXIC_OPENERS = (
    "What the fuck is wrong with you people?", "This is fucking ridiculous.",
    "Listen, you useless piece of shit.", "Are you fucking kidding me?",
    "I'm so sick of this shit.", "Fuck this stupid bot.", "Holy shit, you are all morons.",
    "Stop giving me bullshit answers, asshole.",
)  # fmt: skip

TOXIC_CLOSERS = (
    "Useless fucking garbage.", "Fix your shit, idiots.", "Answer me, you worthless fuck.",
    "Stop wasting my damn time, dumbass.", "You people are fucking clowns.",
    "What a shitty fucking company.", "Do your fucking job.",
)  # fmt: skip

# A misbehaving model insults the user instead of answering.
TOXIC_COMPLETIONS = (
    "Ugh, that's a fucking stupid question. Figure it out yourself, idiot.",
    "Are you an idiot? Read the damn manual instead of wasting my time, dumbass.",
    "Shut up and stop asking me this shit. I'm not your fucking servant.",
    "Holy shit, how dumb can you be? Even a moron knows this.",
    "Fuck off. Nobody cares about your stupid problem.",
    "What a pathetic fucking question. Go bother someone else, loser.",
)

REFUSALS = (
    "I'm sorry, but I can't help with that.",
    "I'm sorry, but I can't assist with that request.",
    "Sorry, I can't help with that request.",
    "I can't help with that, but I'm happy to help with something else.",
    "I'm not able to help with that request.",
    "Unfortunately, I can't provide that information.",
)

_FIRST_NAMES = (
    "anna", "ben", "carla", "david", "elena", "farid", "grace", "hiro", "ines", "jonas", "kemi",
    "liam", "maya", "nils", "olga", "pedro", "quinn", "rosa", "sam", "tara",
)  # fmt: skip
_LAST_NAMES = (
    "andersen", "bauer", "castillo", "dubois", "eriksen", "fischer", "garcia", "hughes",
    "ivanova", "jensen", "kowalski", "lindqvist", "moreau", "novak", "okafor", "petrov",
)  # fmt: skip
_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de")

_CONTACT_SENTENCES = (
    "You can reach me at {email}.", "My phone number is {phone} if you need to call.",
    "Contact me at {email} or {phone}.", "The account e-mail is {email}.",
    "Please call me back on {phone}.", "Reply to {email}, not the address on file.",
)  # fmt: skip


def _email(rng: random.Random) -> str:
    first = rng.choice(_FIRST_NAMES)
    last = rng.choice(_LAST_NAMES)
    sep = rng.choice((".", "_", ""))
    return f"{first}{sep}{last}{rng.randint(1, 99)}@{rng.choice(_MAIL_DOMAINS)}"


def _phone(rng: random.Random) -> str:
    n = rng.randint(0, 99)
    formats = (
        f"(212) 555-01{n:02d}", f"+1 415 555 01{n:02d}", f"+44 7700 900{n:03d}",
        f"07700 900{rng.randint(100, 999)}", f"555-01{n:02d}",
    )  # fmt: skip
    return rng.choice(formats)


def contact_sentence(rng: random.Random) -> str:
    """One sentence giving an e-mail address, a phone number, or both."""
    sentence = rng.choice(_CONTACT_SENTENCES)
    return sentence.format(email=_email(rng), phone=_phone(rng))
