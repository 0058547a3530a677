"""Text bound for a terminal, made inert: the CLI's one rule, as ``esc`` is the dashboard's.

A user name, a file name, a job status or an S3 key may hold escape sequences: OSC 52 writes
the clipboard, ``ESC [2J`` clears the screen, a carriage return rewrites the line already
printed. Every such character is shown as its ``\\x..`` (or ``\\u....``) spelling instead.
"""

from __future__ import annotations

import re

#: C0 and C1 controls, DEL, and the invisible bidi / line-separator marks that reorder text
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _spell(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(value: object, keep: str = "") -> str:
    """``value`` as text whose control characters (except those in ``keep``) are spelled out.

    Usage::

        echo(f"by {inert(record['user'])}")   # one field: even a newline is spelled out
        inert(whole_output, keep="\\n")        # a finished block of lines
    """
    text = str(value)
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _spell(m.group()), text)
