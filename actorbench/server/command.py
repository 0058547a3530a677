"""How actorbench runs Voila: loopback only, a token, no tracebacks, no files beside the page."""

from __future__ import annotations

import sys
from pathlib import Path

from .paths import DASHBOARD as NOTEBOOK

#: a kernel no page is connected to is shut down after this long (a closed tab, or a GET that
#: never opened its websocket); a connected page is never culled
CULL_IDLE_S = 300
#: how often the culler looks
CULL_INTERVAL_S = 30
#: kernels at once (~150 MB each); the preheated one counts
MAX_KERNELS = 8


def voila_command(port: int, notebook: Path = NOTEBOOK, *, ip: str = "127.0.0.1",
                  cull_idle_s: int = CULL_IDLE_S, cull_interval_s: int = CULL_INTERVAL_S,
                  max_kernels: int = MAX_KERNELS, preheat: bool = True,
                  connections: Path | None = None) -> list[str]:
    """The one Voila command line the app, the tests and the benchmark share.

    It runs ``actorbench.server.voila_server`` (Voila with auth, the Host check, guarded
    websockets and capped kernels); the secret travels in the environment
    (``ACTORBENCH_APP_TOKEN`` or ``ACTORBENCH_APP_PASSWORD_HASH``), never on this line.
    Kernels talk over IPC sockets in a 0700 folder (under ``connections``, default the
    system's temp folder): no other local user can read their messages, as they could on
    loopback TCP.
    """
    cmd = [sys.executable, "-m", "actorbench.server.voila_server", "--no-browser",
           f"--port={port}", f"--Voila.ip={ip}", "--show_tracebacks=False",
           f"--MappingKernelManager.cull_idle_timeout={cull_idle_s}",
           f"--MappingKernelManager.cull_interval={cull_interval_s}",
           "--MappingKernelManager.cull_connected=False",
           "--KernelManager.transport=ipc",
           f"--CappedKernelManager.max_kernels={max_kernels}",
           # serve no file from the notebook folder: the regex matches no name at all (not
           # "(?!)": traitlets reads a value in parentheses as a tuple, and warns)
           "--VoilaConfiguration.file_allowlist=(?!).*"]
    if connections is not None:
        cmd.append(f"--Voila.connection_dir_root={connections}")
    if preheat:
        # a kernel that has already run the notebook waits for the next visitor: the page
        # opens without a kernel start and a notebook run (~2-3 s) in its way
        # (refilled when the server is quiet: voila_server.REFILL_QUIET_S, not Voila's 1 s)
        cmd += ["--preheat_kernel=True", "--pool_size=1", "--VoilaKernelManager.fill_delay=0"]
    return [*cmd, str(notebook)]
