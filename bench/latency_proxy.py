"""A TCP proxy on 127.0.0.1 that adds round-trip latency (this kernel has no netem).

Each chunk is delayed by half the RTT in each direction, and a new connection costs one RTT
(the handshake). It does not model bandwidth or slow start.
"""

from __future__ import annotations

import asyncio
import threading


class LatencyProxy:
    def __init__(self, upstream_port: int, rtt_ms: float) -> None:
        self.upstream_port = upstream_port
        self.half = rtt_ms / 2000.0
        self.port = 0
        self.connections = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def pump() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            try:  # half-close: the other direction may still be talking
                writer.write_eof()
            except (OSError, RuntimeError):
                writer.close()

        task = asyncio.create_task(pump())
        try:
            while True:
                data = await reader.read(65536)
                await queue.put((loop.time() + self.half, data))
                if not data:
                    break
        except ConnectionError:
            await queue.put((0, b""))
        await task

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await asyncio.sleep(self.half * 2)  # TCP handshake
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_w), self._pipe(up_r, writer),
                             return_exceptions=True)

    def stop(self) -> None:
        """Stop accepting; open connections die with the (daemon) thread at exit."""
        if self._loop:
            loop = self._loop

            def _stop() -> None:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                loop.call_later(0.05, loop.stop)

            loop.call_soon_threadsafe(_stop)


class ProxyProcess:
    """The proxy in its own process, so it never competes for the GIL with what it measures."""

    def __init__(self, upstream_port: int, rtt_ms: float) -> None:
        import atexit
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(upstream_port), str(rtt_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        atexit.register(self.stop)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


if __name__ == "__main__":
    import sys
    import time

    p = LatencyProxy(int(sys.argv[1]), float(sys.argv[2]))
    print(p.port, flush=True)
    while True:
        time.sleep(3600)
