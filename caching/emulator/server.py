"""Over loopback HTTP: the same engine for any Bedrock client (boto3 endpoint_url, Strands, the AWS CLI)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .emulator import Emulator
from .service import MAX_BODY_BYTES, HttpAnswer, error, too_large

LOOPBACK = "127.0.0.1"


class EmulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server bound to loopback only, answering with one Emulator."""

    daemon_threads = True

    def __init__(self, emulator: Emulator, port: int = 0, quiet: bool = True) -> None:
        self.emulator = emulator
        self.quiet = quiet
        super().__init__((LOOPBACK, port), _Handler)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length_text = self.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            answer = error(400, "ValidationException", "The request needs a valid Content-Length header.")
            self.close_connection = True
        elif length > MAX_BODY_BYTES:
            answer = too_large(length)
            self.close_connection = True  # the body is not read, so the connection cannot be reused
        else:
            body = self.rfile.read(length)
            answer = self.server.emulator.handle("POST", self.path, dict(self.headers.items()), body)
        self._send(answer)

    def do_GET(self) -> None:
        self._send(self.server.emulator.handle("GET", self.path, dict(self.headers.items()), b""))

    def _send(self, answer: HttpAnswer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


@contextlib.contextmanager
def running_server(emulator: Emulator, port: int = 0) -> Iterator[EmulatorServer]:
    """Serve `emulator` on a background thread for the duration of a `with` block."""
    server = EmulatorServer(emulator, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
