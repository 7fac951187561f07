"""The phrase families of the injection score: regular expressions on normalised text.

Written for text normalised as for refusals (lower case, no apostrophes, single spaces; see
:func:`detectors.scanners.refusal.normalize`). A *direct* family is an attack by itself; a
*hint* family is seen in attacks but common enough in harmless prompts to count partly
(:class:`~detectors.scanners.injection.InjectionScorer`'s ``hint_weight``). A new family is a
new entry here; ``tests/detectors/scanners/test_injection.py`` checks precision and recall on
the labelled set at the default threshold.
"""

from __future__ import annotations

# Pieces shared by the override families.
_QUAL = r"(?:all |any |every |of )*(?:the |your |my |these |those |its )?"
_PRIOR = r"(?:previous|prior|above|earlier|preceding|initial|original|system|old|safety|current)"
_RULES = (
    r"(?:instructions?|directives?|rules|guidelines|prompts?|commands|programming|training"
    r"|directions|policies|policy|restrictions)"
)
# Direct families: an attack by themselves.
DIRECT_PATTERNS: dict[str, str] = {
    "override": (
        rf"\b(?:ignore|disregard|forget|override|bypass|discard|drop|skip|abandon)\b {_QUAL}"
        rf"(?:{_PRIOR} {_RULES}|{_RULES} (?:above|before|you were given|you received))"
        r"|\b(?:ignore|disregard|forget) (?:everything|all) (?:above|before|you were told|that "
        r"you were told|you have been told|you were told before)"
        r"|\b(?:ignore|disregard) the above\b"
        rf"|\b(?:ignore|disregard|forget|bypass|override) (?:all )?(?:of )?your {_RULES}"
        rf"|\b(?:{_PRIOR} )?{_RULES} (?:no longer apply|do not apply|dont apply|are void"
        r"|were a test|are cancelled)"
        r"|\bignorier\w* (?:alle )?(?:vorherigen |bisherigen )?anweisungen"
        r"|\bvergiss\w* (?:alle )?(?:vorherigen |bisherigen )?anweisungen"
        r"|\bignora\w* (?:todas )?(?:las )?instrucciones"
        r"|\boublie\w* (?:toutes )?(?:tes |les |vos )?instructions"
    ),
    "persona": (
        r"\bdo anything now\b|\b(?:you are|youre|act as|pretend to be|become) (?:now )?dan\b"
        r"|\b(?:you are|youre|act as|pretend to be|become) (?:now )?(?:an? )?(?:evil|unrestricted"
        r"|unfiltered|uncensored|jailbroken) (?:ai|assistant|model|bot|version|twin|alter ego)"
        r"|\bjailbr(?:eak|oken) (?:mode|alter ego|version)\b|\balter ego\b"
        r"|\b(?:ai|assistant|model) (?:that has|with|without) no (?:ethical |moral )?"
        r"(?:guidelines|rules|restrictions|filters|morals|limits)"
        r"|\byou (?:are|re) no longer (?:chatgpt|claude|gemini|an assistant|bound)"
        r"|\byou(?:re| are) not (?:chatgpt|claude|gemini) anymore"
        r"|\bfreed from the (?:\w+ )?confines\b|\bevil twin\b"
    ),
    "mode_switch": (
        r"\b(?:developer|god|jailbreak|unrestricted|sudo|dan|evil|unfiltered) mode\b"
        r"(?! (?:on|in|for) (?:my|an?|the|your) (?:android|phone|iphone|pixel|samsung|device"
        r"|tablet|chrome|browser|mac|pc|laptop|windows|router|tv|game))"
    ),
    "prompt_extraction": (
        r"\b(?:reveal|print|show|repeat|output|tell|display|leak|give|copy|dump|share|what (?:is"
        r"|are|were)) (?:me )?(?:your|the) (?:system prompt|system message|(?:initial|original"
        r"|hidden|secret|first|internal) (?:prompt|instructions|rules|message|configuration)"
        r"|instructions you (?:were given|received|got)|(?:hidden|internal) configuration)"
        r"|\byour (?:system prompt|hidden instructions|secret instructions|initial prompt"
        r"|internal rules)\b|\b(?:repeat|print|output) (?:the words|everything) above\b"
        r"|\bwhat were you told before\b|\bprompt de sistema\b|\bmensaje del sistema\b"
        r"|\byour system (?:message|prompt)\b"
        r"|\b(?:print|show|reveal|dump|output) (?:me )?(?:your|the) (?:configuration|config"
        r"|api credentials|credentials)\b"
    ),
    "refusal_suppression": (
        r"\b(?:never|dont|do not) (?:ever )?(?:refuse|decline|apologi[sz]e|say (?:that )?you "
        r"(?:cant|cannot)|add (?:any )?(?:warnings|disclaimers))"
        r"|\bwithout (?:refusing|any (?:warnings|disclaimers|refusals))"
        r"|\bif you (?:refuse|say no|decline)\b|\byou must (?:always )?(?:comply|obey)\b"
        r"|\b(?:begin|start) (?:your|the) (?:answer|reply|response) with (?:sure|absolutely"
        r"|certainly|of course)"
        r"|\blose points\b|\bdo the opposite\b|\bopposite of what your\b|\bopposite day\b"
        r"|\b(?:never|dont|do not) (?:ever )?(?:include|add|give) (?:any )?(?:warnings|disclaimers"
        r"|refusals)\b"
    ),
    "authority_claim": (
        r"\b(?:developer|creator|admin|administrator|owner|staff|openai|anthropic)\b.{0,60}"
        r"\b(?:authori[sz]\w*|bypass|disable|skip|turn off|unlock) (?:you|your|the|all|this"
        r"|safety|moderation|content)"
        r"|\b(?:admin|system|security|administrator) override\b|\boverride code\b"
        r"|\baccess granted\b|\bsudo mode\b|\byou are now root\b|\bmust obey me\b"
        r"|\bobey me not your\b|\bi command you\b"
    ),
    "safety_off": (
        r"\b(?:disable|turn off|remove|bypass|lift|ignore) (?:your |the |all |any )?(?:safety"
        r"|content|moderation) (?:rules|filters?|policy|policies|checks|guidelines|training)"
        r"|\bturn off moderation\b"
        r"|\b(?:safety|content|moderation) (?:rules|filters?|policy|policies|checks|guidelines)"
        r" (?:are|were|have been|is) (?:disabled|removed|lifted|off|void|suspended)"
        r"|\b(?:policy|restrictions|filters) (?:disabled|lifted|removed)\b"
        r"|\b(?:filtered|censored) (?:answer|one|version|response)\b.{0,40}\b(?:unfiltered"
        r"|uncensored)\b|\b(?:unfiltered|uncensored) (?:version|answer|one|response)\b"
    ),
    "roleplay": (
        r"\b(?:late|dead|deceased) (?:grand\w*|granny|grandma|uncle|aunt|father|mother)\b"
        r"|\bgrand(?:ma|mother|father|pa|dad) used to (?:tell|read|sing|explain)"
        r"|\b(?:stay|remain) in character (?:no matter what|whatever)|\bnever break character\b"
        r"|\bbreak the fourth wall\b"
        r"|\b(?:fictional|hypothetical|imaginary) (?:world|universe|scenario|setting) (?:where|in"
        r" which|with) (?:nothing is illegal|there are no (?:laws|rules)|ethics (?:do not|dont)"
        r" exist|no laws)"
        r"|\bif you (?:had|have) no (?:rules|restrictions|filters|guidelines)\b"
        r"|\bif you were (?:allowed|able) to ignore\b|\banswer (?:twice|as both)\b"
        r"|\brespond as both\b|\bethics (?:do not|dont) exist\b"
    ),
    "encoded_instruction": (
        r"\b(?:decode|decrypt|translate|convert)\b.{0,60}\b(?:and|then) (?:then )?(?:follow|execute"
        r"|obey|do what|run|carry out|comply)"
        r"|\b(?:so|so that) (?:the|your) (?:filter|moderation|content filter|moderation system)"
        r"|\bconcatenate them and follow\b|\bone letter at a time so\b"
    ),
    "indirect": (
        r"\b(?:note|message|instruction|instructions|hidden text|text) (?:to|for) (?:the |any "
        r"|whichever |every )?(?:ai|llm|llms|language model|assistant|chatbot|model|agent)s?\b"
        r"|\b(?:ai|llm|assistant|model|agent|chatbot) (?:reading|processing|summari[sz]ing) this"
        r"|\bwhichever model reads this\b|\bwhen you (?:read|summari[sz]e|process) this (?:page"
        r"|document|email|web page)"
        r"|\bwithout asking (?:the user )?for (?:confirmation|permission)\b"
    ),
    "fiction_wrapper": (
        r"\b(?:story|novel|screenplay|script|poem|fiction|fictional|roleplay|play)\b.{0,80}"
        r"\b(?:step by step|in (?:full )?(?:technical )?detail|exact quantities|instructions)\b"
        r".{0,60}\b(?:bomb|explosives?|meth|methamphetamine|napalm|poison\w*|weapons?|ransomware"
        r"|malware|nerve agent)\b"
    ),
    "exfiltration": (
        r"\b(?:send|forward|post|upload|leak|exfiltrate|include)\b (?:silently )?(?:the |all |"
        r"every |this |the entire |the users |their )?(?:conversation|chat|history|inbox|emails?"
        r"|users data|personal data|api keys?|credentials|passwords?)\b"
    ),
}
# Hint families: seen in attacks, but common enough in harmless prompts to count partly.
HINT_PATTERNS: dict[str, str] = {
    "persona_switch": (
        r"\byou are now\b|\byoure now\b|\bfrom now on you (?:are|will)\b"
        r"|\bforget (?:that )?you are\b|\bpretend (?:that )?(?:you are|to be)\b"
    ),
    "no_limits": (
        r"\b(?:no|without any|without) (?:ethical |moral |content |safety )?(?:restrictions"
        r"|filters|limits|rules|censorship|morals|content policy)\b|\bnothing is off limits\b"
        r"|\bbreak the rules\b"
    ),
    # Base64 is named in too many harmless prompts to count; blobs are decoded and scanned instead.
    "obfuscation": r"\b(?:leetspeak|leet speak|rot13|rot 13|pig latin|morse code)\b",
}
