"""Words that name an actor's fixed traits: kept out of drafts, flagged when repeated.

A character LoRA learns what the captions do *not* say. What is the same in every image of an
actor (ethnicity, age, gender, hair and eye colour, freckles) is the identity: left out of the
captions it is absorbed by the trigger word, so the bare trigger renders this person. Named in
most captions it is learned as the caption's words instead, and the trigger alone renders a
generic person (the "identity leak" the kohya_ss, ai-toolkit and OneTrainer trackers report).
Captions should name what varies: pose, framing, expression, clothing, light, background.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ETHNICITY = (r"east[ _-]asian|south[ _-]asian|southeast[ _-]asian|middle[ _-]eastern|"
              r"european|african(?:[ _-]american)?|asian|hispanic|latina|latino|latinx|"
              r"caucasian|arab|indian|nordic|slavic|mediterranean")
_GENDER = (r"woman|women|man|men|female|male|girl|girls|boy|boys|lady|ladies|gentleman|"
           r"guy|feminine|masculine|nonbinary|non-binary")
_AGE = (r"young|younger|old|older|elderly|aged|middle[ _-]aged|teen|teenage|teenager|"
        r"adult|mature|senior|\d{1,3}[ -]?(?:years?|yrs?)[ -]?old|in (?:her|his|their) "
        r"\d0s|(?:twenty|thirty|forty|fifty|sixty|seventy)[ -]?something")
_HAIR = (r"(?:(?:long|short|curly|straight|wavy|dark|light|blonde?|brown|black|red|grey|gray|"
         r"white|auburn|ginger|brunette)[ -])+hair(?:ed)?|blonde?|brunette|redhead|ginger|bald")
_EYES = r"(?:blue|brown|green|hazel|grey|gray|dark|light)(?:[ -]eyed| eyes)"
_MARKS = r"freckles|freckled|beard|bearded|moustache|mustache|birthmark|mole|dimples"
_SKIN = r"(?:fair|pale|dark|light|olive|tan|tanned|brown|black|white)[ -]skinn?(?:ed)?"

_BODY = f"{_ETHNICITY}|{_GENDER}|{_AGE}|{_HAIR}|{_EYES}|{_MARKS}|{_SKIN}"
_TRAIT = re.compile(rf"(?<![\w-])(?:{_BODY})(?![\w-])", re.IGNORECASE)


def fixed_trait_phrases(text: str, extra: Iterable[str] = ()) -> list[str]:
    """The fixed-trait phrases named in ``text``, lower-cased, neighbours joined:
    ``"zqkvtm, blonde woman, smiling"`` -> ``["blonde woman"]``. ``extra`` adds words (an
    actor's own facets, e.g. ``"east asian"`` from its name)."""
    pattern = _TRAIT
    words = [w for w in extra if w]
    if words:
        alt = "|".join(re.escape(w).replace(r"\ ", "[ _-]") for w in words)
        pattern = re.compile(rf"(?<![\w-])(?:{alt}|{_BODY})(?![\w-])", re.IGNORECASE)
    spans = [m.span() for m in pattern.finditer(text)]
    merged: list[list[int]] = []
    for start, end in spans:  # "blonde woman": two matches, one phrase
        if merged and re.fullmatch(r"[ -]+", text[merged[-1][1]:start] or "x"):
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [re.sub(r"\s+", " ", text[a:b].lower()) for a, b in merged]


def names_fixed_trait(phrase: str, extra: Iterable[str] = ()) -> bool:
    """``phrase`` (one tag of a caption) names a fixed trait."""
    return bool(fixed_trait_phrases(phrase, extra))


def facet_words(ethnicity: str | None, gender: str | None) -> list[str]:
    """An actor's own facets as words a caption might use (``east_asian`` -> ``east asian``)."""
    return [w.replace("_", " ") for w in (ethnicity, gender) if w]
