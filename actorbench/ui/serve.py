"""How actorbench runs Voila: loopback only, no tracebacks, no files served beside the page."""

from __future__ import annotations

import sys
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "dashboard.ipynb"


def voila_command(port: int, notebook: Path = NOTEBOOK) -> list[str]:
    """The one Voila command line the app, the tests and the benchmark share."""
    return [sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
            "--Voila.ip=127.0.0.1", "--show_tracebacks=False",
            # a kernel that has already run the notebook waits for the next visitor: the page
            # opens without a kernel start and a notebook run (~2-3 s) in its way
            "--preheat_kernel=True", "--pool_size=1",
            # serve no file from the notebook folder: the regex matches no name at all
            "--VoilaConfiguration.file_allowlist=(?!)", str(notebook)]
