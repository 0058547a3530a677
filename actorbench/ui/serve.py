"""How actorbench runs Voila: loopback only, no tracebacks, no files served beside the page."""

from __future__ import annotations

import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "dashboard.ipynb"


def voila_command(port: int, notebook: Path = NOTEBOOK) -> list[str]:
    """The one Voila command line the app, the tests and the benchmark share."""
    return [sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
            "--Voila.ip=127.0.0.1", "--show_tracebacks=False",
            # serve no file from the notebook folder: the regex matches no name at all
            "--VoilaConfiguration.file_allowlist=(?!)", str(notebook)]
