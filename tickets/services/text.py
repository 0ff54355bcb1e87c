"""One-line text fields (subjects, vendor references, titles): one normalisation for every way in.

A subject typed in the portal, sent to the API or taken from an e-mail header goes through
``one_line`` in the service that stores it, so a line break can never reach a queue row, a
mail header or a CSV export, whichever interface the text came through.
"""

from __future__ import annotations

import unicodedata

# Unicode categories turned into a space: control characters (CR, LF, tab, vertical tab, form
# feed, NEL ...), the line separator U+2028 and the paragraph separator U+2029. Format characters
# (Cf: zero-width spaces, bidirectional overrides) are dropped: invisible, they only mislead.
_AS_SPACE = frozenset({"Cc", "Zl", "Zp"})
_DROPPED = frozenset({"Cf"})


def one_line(value: object) -> str:
    """``value`` as one line: every line break and control character a space, runs of spaces one, trimmed.

    Pure and idempotent (``one_line(one_line(x)) == one_line(x)``); ``None`` gives ``""``.
    """
    text = "".join(
        " " if category in _AS_SPACE else "" if category in _DROPPED else ch
        for ch, category in ((ch, unicodedata.category(ch)) for ch in str(value or ""))
    )
    return " ".join(text.split())
