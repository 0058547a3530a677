"""Words and HTML text that both the dashboard (``ui``) and JupyterLab reprs use, free of
ipywidgets: one plural rule, one escape."""

from __future__ import annotations

import html


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 actor"``, ``"2 actors"``, ``"0 actors"``; ``many`` for irregular words."""
    n = int(n)
    return f"{n} {word if n == 1 else (many or word + 's')}"


def escape_text(value: object) -> str:
    """``value`` as text, safe between tags and inside a double-quoted attribute."""
    return html.escape(str(value), quote=True)
