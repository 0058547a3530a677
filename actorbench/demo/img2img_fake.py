"""A stand-in AUTOMATIC1111 img2img service on 127.0.0.1 (tests and demo).

It answers ``POST /sdapi/v1/img2img`` with the init image re-coloured by the seed, resized to
the asked size. ``mode``: ``ok``, ``fail`` (HTTP 500), ``flaky`` (every other call 500),
``slow`` (sleeps ``delay`` seconds), ``garbage`` (an image field that is not an image).
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageEnhance


@dataclass
class FakeImg2Img:
    server: ThreadingHTTPServer
    mode: str = "ok"
    delay: float = 0.0
    calls: int = 0
    payloads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_fake_img2img(mode: str = "ok", delay: float = 0.0) -> FakeImg2Img:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeImg2Img(server, mode, delay)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            pass

        def do_POST(self) -> None:
            fake.calls += 1
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            fake.payloads.append(body)
            if self.path != "/sdapi/v1/img2img":
                return self._send(404, {"detail": "Not Found"})
            if fake.mode == "fail" or (fake.mode == "flaky" and fake.calls % 2 == 1):
                return self._send(500, {"error": "CUDA out of memory"})
            if fake.mode == "slow":
                time.sleep(fake.delay)
            if fake.mode == "garbage":
                return self._send(200, {"images": [base64.b64encode(b"nope").decode()]})
            img = Image.open(io.BytesIO(base64.b64decode(body["init_images"][0]))).convert("RGB")
            img = img.resize((int(body["width"]), int(body["height"])))
            img = ImageEnhance.Color(img).enhance(0.5 + (int(body["seed"]) % 10) / 10)
            out = io.BytesIO()
            img.save(out, format="PNG")
            return self._send(200, {"images": [base64.b64encode(out.getvalue()).decode()],
                                    "parameters": {k: v for k, v in body.items()
                                                   if k != "init_images"}, "info": "{}"})

        def _send(self, code: int, obj: Any) -> None:
            data = json.dumps(obj).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

    server.RequestHandlerClass = Handler
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake
