"""Points out leading questions and promotional wording, with a neutral rewording.

It advises; it never blocks. Patterns are word-bounded and case-insensitive, and a few
everyday uses ("the best time to reach you", "superior vena cava") are excused explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["leading", "promotional"]


@dataclass(frozen=True, slots=True)
class LanguageHint:
    start: int
    end: int
    phrase: str
    kind: Kind
    message: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    kind: Kind
    message: str
    suggestion: str


def _rule(regex: str, kind: Kind, message: str, suggestion: str) -> _Rule:
    return _Rule(re.compile(regex, re.IGNORECASE), kind, message, suggestion)


LEADING = "suggests its own answer"
SELLING = "a claim that sells rather than informs"

# Text pasted from mail or a word processor carries typographic quotes; each maps to one
# character, so offsets into the normalised text are offsets into the original.
_PLAIN_QUOTES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'}
)


def plain_quotes(text: str) -> str:
    return text.translate(_PLAIN_QUOTES)


# "…, aren't you?", "…, isn't it?", "…, right?": a statement with a tag that asks for a yes.
_NEG_AUX = (
    r"(?:(?:is|are|was|were|do|does|did|has|have|had|should|would|could|must)n'?t|won'?t|can'?t)"
)
TAG_QUESTION = (
    rf",?\s+(?:{_NEG_AUX}\s+(?:you|it|they|we|he|she|there|that|i)(?:\s+(?:so|right|true))?|"
    r"(?:right|correct|no|yes|true|agreed))\s*\?"
)
# "Isn't the efficacy impressive?", "Shouldn't guidelines ...?": a negative question at the
# start of a sentence presumes the answer.
NEGATIVE_OPENER = rf"(?:(?m:^)|(?<=[.!?:]\s)|(?<=[.!?:]\s\s)){_NEG_AUX}(?=\s[^.!?\n]*\?)"
# Frames that ask for agreement or confirmation rather than a view.
AGREE_FRAME = (
    r"(?<!extent )\b(?:do|would|will|can|could) you (?:not )?(?:agree|confirm)\b(?! or disagree)"
)

RULES: tuple[_Rule, ...] = (
    _rule(
        r"\b(?:don'?t|do not) you (?:agree|think|feel)\b",
        "leading",
        LEADING,
        "What is your view on this?",
    ),
    _rule(
        r"\b(?:wouldn'?t|would not|won'?t) you (?:agree|say|think)\b",
        "leading",
        LEADING,
        "How would you describe it?",
    ),
    _rule(r"\bwould you not agree\b", "leading", LEADING, "What is your view on this?"),
    _rule(
        r"\bisn'?t it (?:true|clear|obvious|fair to say)\b",
        "leading",
        LEADING,
        "What has your experience been?",
    ),
    _rule(
        r"\bis it not (?:true|clear|obvious)\b",
        "leading",
        LEADING,
        "What has your experience been?",
    ),
    _rule(r"\bsurely\b", "leading", LEADING, "Ask openly: 'How do you see ...?'"),
    _rule(
        r"\byou (?:must|have to|would) (?:admit|agree)\b",
        "leading",
        LEADING,
        "What is your view on this?",
    ),
    _rule(
        r"\bas you (?:surely |must )?know\b",
        "leading",
        LEADING,
        "Ask what they know: 'What have you seen of ...?'",
    ),
    _rule(r"\bobviously\b", "leading", LEADING, "Drop it and ask: 'How do you see ...?'"),
    _rule(
        r"\bwouldn'?t it be better\b",
        "leading",
        LEADING,
        "What would work better for your patients?",
    ),
    _rule(
        TAG_QUESTION,
        "leading",
        "a tag question that asks for a yes",
        "End on an open question: 'How do you see it?'",
    ),
    _rule(AGREE_FRAME, "leading", LEADING, "What is your view on this?"),
    _rule(NEGATIVE_OPENER, "leading", LEADING, "Ask it the other way: 'How do you see ...?'"),
    _rule(
        r"\bgiven (?:its|the|our|their) (?:excellent|outstanding|impressive|remarkable|proven|"
        r"superior|great|strong)\b",
        "leading",
        "a premise that praises the product",
        "Drop the premise and ask openly",
    ),
    _rule(
        r"\bwhen will you (?:start|begin|switch)\b",
        "leading",
        "assumes the decision is made",
        "What is your view on ...?",
    ),
    _rule(
        r"\bbest[- ]in[- ]class\b",
        "promotional",
        SELLING,
        "Describe what the data show, e.g. 'in the phase III trial ...'",
    ),
    _rule(
        r"(?<!you )(?<!works )(?<!work )(?<!suits )(?<!suit )(?<!at )(?<!your )(?<!fits )(?<!all )(?<!all the )"
        r"\b(?:the )?best\b(?! (?:time|way|day|place|person|contact|format|approach|"
        r"practice|practices|of luck|wishes|regards))(?! to\b)(?!-known)",
        "promotional",
        SELLING,
        "Say what the evidence shows, not a ranking",
    ),
    _rule(
        r"\bsuperior\b(?! vena cava)",
        "promotional",
        SELLING,
        "State the comparison the data support: 'How does it compare with ...?'",
    ),
    _rule(
        r"\bsafest\b",
        "promotional",
        SELLING,
        "Refer to the safety profile in the prescribing information",
    ),
    _rule(
        r"\bmost effective\b",
        "promotional",
        SELLING,
        "Cite the efficacy results and their comparator",
    ),
    _rule(
        r"\bbreakthrough\b(?! therapy designation)",
        "promotional",
        SELLING,
        "Describe what is new, with the data",
    ),
    _rule(r"\brevolutionary\b", "promotional", SELLING, "Describe what is new, with the data"),
    _rule(r"\bmiracle\b", "promotional", SELLING, "Describe the observed outcomes"),
    _rule(r"\bgame[- ]?changer\b", "promotional", SELLING, "Describe what is new, with the data"),
    _rule(
        r"\bunmatched\b|\bunrivall?ed\b|\bunbeatable\b",
        "promotional",
        SELLING,
        "Say what the evidence shows, not a ranking",
    ),
    _rule(
        r"\bclearly better\b|\bfar better\b",
        "promotional",
        SELLING,
        "State the comparison the data support",
    ),
    _rule(
        r"\bno side[- ]effects\b(?! (?:were |was )?reported)",
        "promotional",
        "an absolute safety claim",
        "Refer to the safety profile in the prescribing information",
    ),
    _rule(
        r"\bcompletely safe\b|\b100% safe\b|\brisk[- ]free\b",
        "promotional",
        "an absolute safety claim",
        "Refer to the safety profile in the prescribing information",
    ),
    _rule(r"\bguarantee[ds]?\b", "promotional", SELLING, "Describe the observed outcomes"),
    _rule(
        r"\bgold standard\b",
        "promotional",
        SELLING,
        "Cite the guideline or data that support its place",
    ),
)


def check_text(text: str) -> list[LanguageHint]:
    """Every leading or promotional phrase in ``text``, in order; overlaps keep the first."""
    hints: list[LanguageHint] = []
    text = plain_quotes(text)
    for rule in RULES:
        for match in rule.pattern.finditer(text):
            hints.append(
                LanguageHint(
                    start=match.start(),
                    end=match.end(),
                    phrase=match.group(0).strip(" ,?"),
                    kind=rule.kind,
                    message=rule.message,
                    suggestion=rule.suggestion,
                )
            )
    hints.sort(key=lambda h: (h.start, -h.end))
    kept: list[LanguageHint] = []
    for hint in hints:
        if kept and hint.start < kept[-1].end:
            continue
        kept.append(hint)
    return kept


def is_neutral(text: str) -> bool:
    return not check_text(text)


# -- rewording a flagged question ------------------------------------------------------------
#
# A leading question is a claim wrapped in a frame that asks for agreement ("Don't you think
# <claim>?", "<claim>, right?"). Rewording drops the frame and asks about the claim openly:
# a comparison becomes "How do you see X compared with Y?", a description "How would you
# describe X?", anything else "What is your view on whether <claim>?". Selling words are
# dropped from what is left. The result always passes ``check_text``.

_FRAMES = re.compile(
    r"\b(?:"
    r"(?:don'?t|do not) you (?:agree|think|feel)|"
    r"(?:wouldn'?t|would not|won'?t) you (?:agree|say|think)|"
    r"would you not agree|"
    r"(?:do|would|will|can|could) you (?:not )?(?:agree|confirm)|"
    r"isn'?t it (?:true|clear|obvious|fair to say)|"
    r"is it not (?:true|clear|obvious)|"
    r"you (?:must|have to|would) (?:admit|agree)|"
    r"as you (?:surely |must )?know|"
    r"surely|obviously"
    r")\b(?:\s+that\b)?[\s,]*",
    re.IGNORECASE,
)
_BETTER_TO = re.compile(r"\bwouldn'?t it be better (?:to|if)\s+", re.IGNORECASE)
_TAG = re.compile(TAG_QUESTION + r"\s*$", re.IGNORECASE)
_NEGATIVE_QUESTION = re.compile(rf"^(?P<aux>{_NEG_AUX})\s+(?P<rest>.+?)\s*\?$", re.IGNORECASE)
# "Given its excellent safety, ...": the praise is dropped, the question kept.
_PREMISE = re.compile(r"^given\s+[^,]+,\s*", re.IGNORECASE)
_WHEN_WILL = re.compile(
    r"^when will you (?P<verb>start|begin|switch)\s+(?P<what>.+?)[\s?.!]*$", re.IGNORECASE
)
_COMPARATIVE = (
    r"(?:clearly |far |much |way )?(?:better|worse|superior|inferior|safer|different|"
    r"(?:more|less) effective|the best|best|the safest|safest|the most effective|most effective)"
)
_COMPARISON = re.compile(
    r"^(?P<subject>.+?)\s+(?:works?|is|are|was|were|performs?|does|do|seems?|looks?)\s+"
    rf"(?:\w+\s+)?{_COMPARATIVE}(?:\s+(?P<noun>(?!(?:on|with|in|under|at|than|to)\b)[a-z-]+))?"
    r"(?:\s+(?P<prep>on|with|in|under|at)\s+(?P<cond>.+?))?"
    r"(?:\s+(?:than|to)\s+(?P<other>.+?))?$",
    re.IGNORECASE,
)
# Whatever a rewording says, it must not still carry a ranking the MSL would be asking to confirm.
_CLAIM_WORDS = re.compile(
    r"\b(?:better|worse|superior|inferior|safer|different|best|safest)\b", re.IGNORECASE
)
_DESCRIPTION = re.compile(
    r"^(?P<subject>.+?)\s+(?:is|are|was|were|looks?|seems?|feels?)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_SEEN = re.compile(
    r"^you(?:'ve| have)\s+(?P<verb>seen|noticed|found|observed)\s+(?:(?:fewer|more|less|better|"
    r"worse|lower|higher)\s+)?(?P<what>.+)$",
    re.IGNORECASE,
)
# "You're happy with the results, aren't you?": asks how their experience has been.
_FEELING = re.compile(
    r"^you(?:'re| are)\s+(?:\w+\s+)?(?:happy|satisfied|pleased|impressed|comfortable|confident|"
    r"convinced)\s+(?:with|by|about|in)\s+(?P<what>.+)$",
    re.IGNORECASE,
)
# "Isn't it the safest option?": a comparison asked as a yes/no question.
_INVERTED = re.compile(
    r"^(?:is|isn'?t|are|aren'?t|was|wasn'?t)\s+(?P<subject>\S+)\s+(?P<rest>.+?)\s*\?$",
    re.IGNORECASE,
)
_VAGUE_SUBJECTS = frozenset({"it", "this", "that", "they", "these", "those", "there"})
_DETERMINERS = frozenset(
    {
        "the",
        "our",
        "your",
        "their",
        "its",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
    }
)
# Selling words: dropped, or replaced by a plain word where dropping would break the sentence.
_SELLING_WORDS = re.compile(
    r"\b(?:best[- ]in[- ]class|breakthrough|revolutionary|miracle|unmatched|unrivall?ed|"
    r"unbeatable|guaranteed|clearly|far|completely|100%)\s*",
    re.IGNORECASE,
)
_SELLING_SWAPS = (
    (re.compile(r"\bgame[- ]?changer\b", re.IGNORECASE), "change"),
    (re.compile(r"\bgold standard\b", re.IGNORECASE), "standard option"),
    (re.compile(r"\b(?:the )?(?:safest|best|most effective)\b", re.IGNORECASE), "the"),
    (re.compile(r"\bsuperior\b", re.IGNORECASE), "different"),
    (re.compile(r"\brisk[- ]free\b", re.IGNORECASE), "safe"),
    (re.compile(r"\bno side[- ]effects\b", re.IGNORECASE), "side effects"),
)
_LOWER_FIRST = frozenset(
    {
        "it",
        "this",
        "that",
        "these",
        "those",
        "the",
        "our",
        "your",
        "their",
        "they",
        "we",
        "there",
        "patients",
        "a",
        "an",
        "you",
    }
)
FALLBACK_QUESTION = "What is your view on this?"


def _calm(text: str) -> str:
    """Drop or swap selling words and tidy the spaces left behind."""
    for pattern, plain in _SELLING_SWAPS:
        text = pattern.sub(plain, text)
    text = _SELLING_WORDS.sub("", text)
    text = re.sub(r"\bthe the\b", "the", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def _lower_first(text: str) -> str:
    """ "It works" → "it works" inside a new sentence; a shouted "OUR DRUG" is left as typed."""
    first = text.split(" ", 1)[0]
    if first.lower().split("'")[0] in _LOWER_FIRST and first[1:] == first[1:].lower():
        return text[0].lower() + text[1:]
    return text


def _positive(aux: str) -> str:
    """The auxiliary of a negative question, made positive: "isn't" → "is", "don't" → ""."""
    word = aux.lower().replace("'", "")
    word = {"wont": "will", "cant": "can"}.get(word, word.removesuffix("nt"))
    return "" if word == "do" else word


def _split_subject(words: list[str]) -> tuple[str, str]:
    """Subject and the rest of a question's words: "the efficacy of X | impressive"."""
    first = words[0].lower()
    # "the efficacy", else one word: a pronoun ("it"), a plural ("guidelines") or a name.
    size = 2 if first in _DETERMINERS and len(words) > 2 else 1
    while size + 1 < len(words) and words[size].lower() == "of":
        size += 3 if words[size + 1].lower() in _DETERMINERS and size + 3 < len(words) else 2
    return " ".join(words[:size]), " ".join(words[size:])


def _open_question(claim: str) -> str:
    claim = _lower_first(claim.strip(" ,.?!;:"))
    if not claim:
        return FALLBACK_QUESTION
    if match := _COMPARISON.match(claim):
        subject, noun, other = match["subject"], match["noun"], match["other"] or "other options"
        if noun and subject.lower() in _VAGUE_SUBJECTS:
            if noun.endswith("ed"):  # "it is better tolerated"
                return f"How would you compare how {subject} is {noun} with {_calm(other)}?"
            subject = f"this {noun}"  # "it is the best choice" is about this choice
        if match["prep"]:  # "patients do better on X"
            subject = f"{subject} {match['prep']} {match['cond']}"
        return f"How do you see {_calm(subject)} compared with {_calm(other)}?"
    if match := _SEEN.match(claim):
        return f"What have you {match['verb']} with regard to {_calm(match['what'])}?"
    if match := _FEELING.match(claim):
        return f"How would you describe your experience with {_calm(match['what'])}?"
    match = _DESCRIPTION.match(claim)
    if match and match["subject"].lower() not in _VAGUE_SUBJECTS:
        return f"How would you describe {_calm(match['subject'])}?"
    return f"What is your view on whether {_calm(claim)}?"


def _negative_question(aux: str, rest: str) -> str:
    """ "Isn't the efficacy impressive?" asked openly: "How would you describe the efficacy?"."""
    subject, predicate = _split_subject(rest.split())
    if not predicate:
        return FALLBACK_QUESTION
    return _open_question(" ".join(w for w in (subject, _positive(aux), predicate) if w))


def neutral_rewording(text: str) -> str:
    """An open, neutral version of ``text``; text the check does not flag comes back tidied.

    >>> neutral_rewording("Don't you think our drug works better?")
    'How do you see our drug compared with other options?'
    """
    clean = " ".join(plain_quotes(text).split())
    if is_neutral(clean):
        return clean
    sentences = re.split(r"(?<=[.?!])\s+", clean)
    if len(sentences) > 1:  # each leading sentence reworded in its place
        return " ".join(neutral_rewording(sentence) for sentence in sentences)
    if (match := _PREMISE.match(clean)) and not is_neutral(clean[: match.end()]):
        clean = clean[match.end() :]
        clean = clean[:1].upper() + clean[1:]
    prefix = ""
    if match := _BETTER_TO.search(clean):
        prefix, rest = clean[: match.start()], clean[match.end() :]
        result = f"How do you weigh the option to {_calm(rest.strip(' ?.!'))}?"
    elif match := _WHEN_WILL.match(clean):
        what = match["what"]
        if match["verb"].lower() == "switch":
            what = f"switching {what}"
        result = f"What is your view on {_calm(what)}?"
    elif (match := _FRAMES.search(clean)) or _TAG.search(clean):
        rest = clean
        if match:
            prefix, rest = clean[: match.start()], clean[match.end() :]
        rest = _TAG.sub("", rest)
        if rest.lower().startswith("with "):  # "Would you agree with the guideline?"
            result = f"What is your view on {_calm(rest[5:].strip(' ?.!'))}?"
        else:
            result = _open_question(rest)
    elif match := _NEGATIVE_QUESTION.match(clean):
        result = _negative_question(match["aux"], match["rest"])
    elif (match := _INVERTED.match(clean)) and re.search(_COMPARATIVE, match["rest"], re.I):
        result = _open_question(f"{match['subject']} is {match['rest']}")
    else:  # only selling words: keep the question, drop the claims
        result = _calm(clean)
    prefix = prefix.strip()
    if prefix:
        # "In elderly patients, don't you think..." keeps its opening words.
        result = f"{prefix.rstrip(',')}, {result[0].lower()}{result[1:]}"
    result = result[0].upper() + result[1:]
    # Whatever is still flagged goes; an empty remainder becomes a plain open question.
    for hint in reversed(check_text(result)):
        result = result[: hint.start] + result[hint.end :]
    result = " ".join(result.split()).strip(" ,")
    if not result or not is_neutral(result) or len(result) < 12:
        return FALLBACK_QUESTION
    if _CLAIM_WORDS.search(result.split(" compared with ")[0]):
        return FALLBACK_QUESTION  # a ranking left in would still ask for a yes
    return result if result.endswith(("?", ".")) else result + "?"


def sentence_around(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` holding the span [start, end): from the previous . ? ! or
    line break to the next one, inclusive."""
    before = max(text.rfind(mark, 0, start) for mark in ".?!\n") + 1
    after = [i for i in (text.find(mark, end) for mark in ".?!\n") if i != -1]
    stop = min(after) + 1 if after else len(text)
    return text[before:stop].strip()


def suggestion_for(text: str, hint: LanguageHint) -> str:
    """What to say instead: a leading question reworded whole, else the rule's advice."""
    if hint.kind == "leading":
        return neutral_rewording(sentence_around(text, hint.start, hint.end))
    return hint.suggestion
