"""Text from a file or the store, made safe to print on a terminal.

A name read from a bundle or a store may carry a newline (which forges an output line),
ESC or OSC sequences (which drive the terminal), or bidi overrides (which reorder what is
shown). ``printable`` escapes them all and cuts the text to a sane length.
"""

from __future__ import annotations

import unicodedata

DEFAULT_LIMIT = 200
# Bidi controls and other invisible format characters that change how text reads.
_FORMAT_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """``value`` as one line of plain text: control and format characters escaped, cut to
    ``limit`` characters (with an ellipsis) when a limit is given."""
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    for ch in text:
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) not in _FORMAT_CATEGORIES):
            out.append(ch)
        else:
            out.append(_escape(ch))
    result = "".join(out)
    if limit is not None and len(result) > limit:
        result = result[: max(limit - 1, 0)] + "…"
    return result


def printable_block(value: object, limit: int | None = 10_000) -> str:
    """Multi-line text (a note) for a terminal: newlines and tabs kept, everything else that
    could drive the terminal escaped."""
    text = value if isinstance(value, str) else str(value)
    lines = text.replace("\r\n", "\n").split("\n")
    result = "\n".join(printable(line.replace("\t", "    "), None) for line in lines)
    if limit is not None and len(result) > limit:
        result = result[: max(limit - 1, 0)] + "…"
    return result
