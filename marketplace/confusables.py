# ruff: noqa: RUF001, RUF002  (look-alike letters are the subject of this module)
"""Shop names that look alike compare equal: a "skeleton" in the spirit of Unicode TR39.

Unicode Technical Standard #39 (Security Mechanisms), section 4 "Confusable Detection",
defines skeleton(X): NFD, map each character through confusables.txt, NFD again; two strings
are confusable when their skeletons are equal. Its full table has ~6,000 entries; this keeps
the look-alikes that matter for names typed on Pakistani keyboards and phones (Latin vs
Cyrillic and Greek letters, digits for letters, "rn" for "m"), and additionally ignores case,
accents, invisible characters (zero-width, bidi controls, soft hyphen), spaces and punctuation.
So "Amina Blue Pottery", "АМINA BLUE-POTTERY" (Cyrillic А, М), "Amina\u200bBlue Pottery" and
"amina blue pottery!" share one skeleton. Urdu letters are kept as they are (marks removed).
"""

import re
import unicodedata

# Upper and lower case, mapped before case folding so that e.g. Greek capital Eta (H) and
# small eta (n) each go to the Latin letter they imitate. From TR39's confusables.txt.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic capitals
        "А": "A",
        "В": "B",
        "С": "C",
        "Е": "E",
        "Н": "H",
        "І": "I",
        "Ј": "J",
        "К": "K",
        "М": "M",
        "О": "O",
        "Р": "P",
        "Ѕ": "S",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "Ү": "Y",
        "Ԛ": "Q",
        "Ԝ": "W",
        "Ӏ": "I",
        "Ё": "E",
        "Ї": "I",
        # Cyrillic small
        "а": "a",
        "в": "b",
        "с": "c",
        "е": "e",
        "һ": "h",
        "і": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "ѕ": "s",
        "т": "t",
        "х": "x",
        "у": "y",
        "ү": "y",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ӏ": "l",
        "ё": "e",
        "ї": "i",
        "ь": "b",
        # Greek capitals
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ζ": "Z",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
        # Greek small
        "α": "a",
        "β": "b",
        "γ": "y",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        # Latin look-alikes NFKC keeps
        "ı": "i",
        "ɡ": "g",
        "ǀ": "l",
        "ɑ": "a",
    }
)
# After case folding: letters and digits that read as one another.
_SAME_SHAPE = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "5": "s"})
_SEQUENCES = (("rn", "m"), ("vv", "w"), ("cl", "d"))
# Format characters (Cf: zero-width space/joiners, bidi controls, BOM, soft hyphen...), plus
# fillers that render as nothing and are not Cf.
_INVISIBLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0]")


def shop_name_skeleton(name: str) -> str:
    """The form of `name` that every look-alike of it shares (empty for no letters)."""
    text = unicodedata.normalize("NFKC", name)
    text = _INVISIBLE.sub("", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = text.translate(_LOOKALIKES).casefold()
    # Accents and Urdu diacritics (Mn) go, then spaces and punctuation ("|" reads as "l").
    text = unicodedata.normalize("NFD", text).translate(_SAME_SHAPE)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in {"L", "N"})
    for sequence, letter in _SEQUENCES:
        text = text.replace(sequence, letter)
    return text
