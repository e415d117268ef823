"""A small OpenAI-compatible server on loopback that replies from a script (for tests only).

It speaks the real `/v1/chat/completions` wire protocol — JSON replies, and server-sent events
when the client asks for `stream: true` — so the whole LangChain → openai SDK → HTTP path runs.
It also answers Ollama's `/api/chat` (newline-delimited JSON), for the `ollama` provider.
`script(request) -> Reply` decides each reply; every request body is kept in `requests`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    delay: float = 0.0  # seconds before the first byte
    status: int = 200
    token_delay: float = 0.0  # seconds between streamed pieces


Script = Callable[[dict[str, Any]], Reply | str]


def prompt_text(request: dict[str, Any]) -> str:
    """All message contents of a request, joined (what the model was shown)."""
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []))


class FakeOpenAI:
    def __init__(self, script: Script):
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
                if self.path.rstrip("/") == "/api/chat":
                    self._ollama()
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                reply = fake.script(body)
                reply = Reply(reply) if isinstance(reply, str) else reply
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": reply.text or "scripted failure",
                                                        "type": "server_error"}})
                    return
                if body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._json(200, _completion(body, reply.text))

            def _ollama(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append(body)
                reply = fake.script(body)
                reply = Reply(reply) if isinstance(reply, str) else reply
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._json(reply.status, {"error": reply.text or "scripted failure"})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                stamp = "2026-01-01T00:00:00Z"
                for piece in _pieces(reply.text) if body.get("stream", True) else [reply.text]:
                    line = {"model": body.get("model"), "created_at": stamp,
                            "message": {"role": "assistant", "content": piece}, "done": False}
                    self.wfile.write(json.dumps(line).encode() + b"\n")
                    self.wfile.flush()
                done = {"model": body.get("model"), "created_at": stamp,
                        "message": {"role": "assistant", "content": ""}, "done": True,
                        "done_reason": "stop", "total_duration": 1, "load_duration": 1,
                        "prompt_eval_count": 1, "prompt_eval_duration": 1, "eval_count": 1,
                        "eval_duration": 1}
                self.wfile.write(json.dumps(done).encode() + b"\n")
                self.wfile.flush()

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                pieces = _pieces(reply.text)
                for i, piece in enumerate(pieces):
                    delta = {"content": piece, **({"role": "assistant"} if i == 0 else {})}
                    self._event(_chunk(body, delta, None))
                    if reply.token_delay:
                        time.sleep(reply.token_delay)
                self._event(_chunk(body, {}, "stop"))
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
                self.wfile.flush()

        return Handler


def _pieces(text: str) -> list[str]:
    """Word-sized pieces, as a real server streams them."""
    out, current = [], ""
    for ch in text:
        current += ch
        if ch == " ":
            out.append(current)
            current = ""
    return [*out, current] if current else out or [""]


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
