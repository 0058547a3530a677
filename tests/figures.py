"""What the reliability and security tests did, filled as they pass.

``conftest.pytest_sessionfinish`` writes both to ``test-output/reliability.json`` after a fully
green run; ``make reliability`` renders that file into ``docs/reliability.md``
(``python -m tests.figures``), so the tracked document changes only when asked.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

FIGURES: Counter[str] = Counter()
#: attack tried -> what actorbench did, recorded by the test after its assertions held
ATTACKS: dict[str, str] = {}

OUT = Path(__file__).resolve().parent.parent / "test-output" / "reliability.json"
DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"


def attack(what: str, outcome: str) -> None:
    """Record an attack a test tried and the outcome it asserted."""
    ATTACKS[what] = outcome


#: the choice issue #28 asked to state: what carries the dashboard's login, and why
SCOPE = [
    "Cookies ignore ports: a login cookie with `Path=/` on 127.0.0.1 reaches every server on "
    "127.0.0.1, another local user's included, whatever its port. So `actorbench app` serves "
    "the whole dashboard under a fresh unguessable base path (`/ab-<24 random characters>/`, "
    "passed to the server in its environment, never on a command line, and printed only in the "
    "URL), and the cookie's `Path` is that base path: a server that does not know it never "
    "receives the cookie. The cookie is also `SameSite=Strict` (a cross-site page cannot send "
    "the browser anywhere with it, even to the right path) and a session cookie (no 30-day "
    "`Max-Age`; its signing key is new each run anyway). A path was chosen over a per-run "
    "host name (`<random>.localhost`) because it needs no DNS or hosts entry and works the "
    "same behind a team server's reverse proxy (`ACTORBENCH_APP_BASE` fixes it there). "
    "Kernels speak over IPC sockets in a 0700 folder rather than CurveZMQ, which Voila and "
    "jupyter_client do not offer; the folder belongs to the run and is removed when it stops.",
]


def render(data: dict[str, object], date: str) -> str:
    figures: dict[str, int] = data.get("figures", {})  # type: ignore[assignment]
    attacks: dict[str, str] = data.get("attacks", {})  # type: ignore[assignment]
    lines = ["# Reliability and security", "",
             f"Rendered on {date} by `make reliability` from a run of the whole suite where "
             "every test passed; not typed by hand. Each row is something a test did and "
             "checked.", "", "## Attacks tried, and what happened", "",
             "| attack | outcome |", "|---|---|"]
    esc = str.maketrans({"|": "\\|", "\n": " "})
    lines += [f"| {k.translate(esc)} | {v.translate(esc)} |" for k, v in sorted(attacks.items())]
    lines += ["", "## Why the login is scoped the way it is", "", *SCOPE]
    lines += ["", "## Faults, crashes and checks", "", "| what | count |", "|---|---|"]
    lines += [f"| {k} | {v:,} |" for k, v in sorted(figures.items())]
    lines += ["", "Nothing was lost: every assertion on file contents, manifests, "
              "`response.json` and `actors.json` held in every case counted above.", ""]
    return "\n".join(lines)


def main() -> int:
    from datetime import UTC, datetime

    if not OUT.exists():
        print(f"{OUT} is missing: run the whole suite first (make test).", file=sys.stderr)
        return 1
    data = json.loads(OUT.read_text())
    DOC.write_text(render(data, str(datetime.now(UTC).date())))
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
