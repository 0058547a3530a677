"""What the visitor's URL asks for (``?actor=0002&page=training-data``), under Voila.

Voila starts a kernel for a visit with the request in its environment (``QUERY_STRING``); a
preheated kernel ran the notebook before anyone came, and Voila tells it the request later over
a websocket (``voila/query/<kernel id>``). ``voila.utils.get_query_string()`` waits for that
message in the notebook, which holds the whole page back until the visit (measured: 4.8 s to
interactive); here a thread waits instead, and the page is already drawn when the answer comes.

Usage::

    on_visit(lambda query: app.apply_query(query))
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from urllib.parse import parse_qs

from actorbench.server.security import V1_SUBPROTOCOL


def on_visit(callback: Callable[[str], None]) -> bool:
    """Call ``callback(query_string)`` once the visit's request is known: at once in a kernel
    started for the visit, from a thread in a preheated one. False outside Voila (nothing
    will be called)."""
    if os.environ.get("VOILA_PREHEAT") == "True":
        threading.Thread(target=_wait_for_visit, args=(callback,), daemon=True,
                         name="actorbench-visit").start()
        return True
    if "QUERY_STRING" in os.environ:
        callback(os.environ["QUERY_STRING"])
        return True
    return False


def query_url() -> str:
    """Voila's request-info socket for this kernel (as ``voila.utils.wait_for_request``)."""
    ip = os.environ.get("ACTORBENCH_APP_IP") or "127.0.0.1"  # what `actorbench app` bound
    if ip in ("0.0.0.0", "::"):  # every address: loopback is one of them
        ip = "127.0.0.1"
    if ":" in ip:
        ip = f"[{ip}]"
    port = os.environ.get("VOILA_APP_PORT", "8866")
    base = os.environ.get("VOILA_WS_BASE_URL", os.environ.get("VOILA_SERVER_URL", "/"))
    return f"ws://{ip}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}"


def _wait_for_visit(callback: Callable[[str], None]) -> None:
    from websockets.sync.client import connect

    try:
        # actorbench's Voila refuses sockets without the v1 subprotocol (server/voila_server.py);
        # no pings: the visit may come in an hour, and the server answers when it does
        with connect(query_url(), subprotocols=[V1_SUBPROTOCOL],  # type: ignore[list-item]
                     open_timeout=30, ping_interval=None, close_timeout=1) as ws:
            message = ws.recv()
    except Exception:  # no visit info (server gone): the page keeps its state
        return
    try:
        info = json.loads(message)
    except ValueError:
        return
    callback(str(info.get("QUERY_STRING", "")) if isinstance(info, dict) else "")


def query_params(query: str) -> dict[str, str]:
    """The first value of each parameter (``token`` is the server's, not the page's)."""
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=False).items()
            if k != "token" and v}
