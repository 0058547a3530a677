"""Where data becomes HTML: text is escaped here, and CSS classes come from known sets.

Every ``ipywidgets.HTML`` value built from data (actors.json, training records, RunPod and
img2img answers, S3 keys, file names, error messages) goes through ``esc``, ``h`` or ``table``;
a class name that depends on data goes through ``css_class``. The rest of ``actorbench/ui`` only
writes literal markup around what these return.

Usage::

    h("td", version.name)                                  # <td>v1 &lt;b&gt;</td>
    h("span", status, cls=["ab-badge", css_class("ab-job", status, KNOWN_STATES)])
    table(df, float_format=lambda v: f"{v:.2f}")           # pandas, every cell escaped
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable
from typing import Any

#: tag, class and attribute names written by code (never by data) look like this
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
#: elements without content or end tag
_VOID = frozenset({"br", "hr", "img", "input", "wbr"})


def escape_text(value: object) -> str:
    """``value`` as text, safe between tags and inside a double-quoted attribute."""
    return html.escape(str(value), quote=True)


class Html(str):
    """Markup made by this module: ``esc`` and ``h`` pass it through instead of escaping it."""


def esc(value: object) -> str:
    """``value`` as text, safe between tags and inside a double-quoted attribute."""
    if isinstance(value, Html):
        return value
    return escape_text(value)


def _name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{name!r} is not a plain tag, class or attribute name.")
    return name


def css_class(prefix: str, value: object, known: Collection[str], default: str = "unknown"
              ) -> str:
    """``{prefix}-{value}`` (lower case) when ``value`` is one of ``known``, else
    ``{prefix}-{default}``: a class name never carries text from a file or a server."""
    text = str(value)
    return _name(f"{prefix}-{text.lower() if text in known else default}")


def h(tag: str, *content: object, cls: str | Iterable[str] = (), **attrs: object) -> Html:
    """``<tag class=".." name="..">content</tag>`` with content and attribute values escaped;
    ``data_index=3`` becomes ``data-index="3"``; an attribute whose value is None is left out.
    A void element (``br``, ``img``, ``input``, ...) takes no content and has no end tag."""
    classes = [cls] if isinstance(cls, str) else list(cls)
    parts = [_name(tag)]
    if classes:
        parts.append(f'class="{" ".join(_name(c) for c in classes)}"')
    parts += [f'{_name(k.replace("_", "-"))}="{esc(v)}"' for k, v in attrs.items()
              if v is not None]
    if tag in _VOID:
        if content:
            raise ValueError(f"<{tag}> takes no content.")
        return Html(f"<{' '.join(parts)}>")
    return Html(f"<{' '.join(parts)}>{join(content)}</{tag}>")


def join(items: Iterable[object]) -> Html:
    """Pieces side by side, each escaped unless it is already ``Html``."""
    return Html("".join(esc(i) for i in items))


def table(df: Any, **kwargs: Any) -> Html:
    """A pandas DataFrame as an ``ab-table``; every header and cell escaped."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("classes", "ab-table")
    kwargs["escape"] = True
    return Html(df.to_html(**kwargs))
