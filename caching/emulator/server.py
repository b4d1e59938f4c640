"""Over loopback HTTP (or HTTPS, given a `tls.LocalTls`): the same engine for any Bedrock client (boto3
endpoint_url, Strands, the AWS CLI).

The standard library's threaded HTTP server, configured for this job: it listens on loopback only, answers every
method, path and body with a 200 or an AWS-style JSON error, drops a connection that stalls (`limits.IDLE_SECONDS`) or takes too long to send its request
(`limits.REQUEST_SECONDS`),
queues bursts of connections (`request_queue_size`), sends each answer in one write with Nagle's algorithm off (no
delayed-ACK stall), and stops within a twentieth of a second. Over HTTPS each connection's TLS handshake happens on
its own thread, under the same idle limit, so a client that never finishes one holds up no other.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .. import limits
from .emulator import Emulator
from .service import HttpAnswer, error, too_large, with_request_id
from .tls import LocalTls

LOOPBACK = "127.0.0.1"
DIGITS = re.compile(
    "[0-9]+", re.ASCII
)  # str.isdigit() also accepts superscripts and other scripts' digits, which int() refuses
POLL_SECONDS = 0.05  # how often serve_forever looks for a shutdown request


class EmulatorServer(ThreadingHTTPServer):
    """A threaded HTTP server bound to loopback only, answering with one Emulator."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, emulator: Emulator, port: int = 0, quiet: bool = True, tls: LocalTls | None = None) -> None:
        self.emulator = emulator
        self.quiet = quiet
        self.tls = tls
        super().__init__((LOOPBACK, port), _Handler)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{LOOPBACK}:{self.server_address[1]}"

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        """The next connection; over HTTPS wrapped for TLS, its handshake left to its own thread (`_Handler.setup`)."""
        connection, address = self.socket.accept()
        if self.tls is not None:
            connection = self.tls.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def serve_forever(self, poll_interval: float = POLL_SECONDS) -> None:
        super().serve_forever(poll_interval)


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    raw_requestline: bytes  # set by the stdlib before parse_request (its stubs leave it out)
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered: the status line, headers and body leave in one write when the answer is flushed
    late = False  # the request did not arrive within REQUEST_SECONDS
    failed_handshake = False  # over HTTPS: the TLS handshake did not complete, so nothing can be answered
    deadline: threading.Timer

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(limits.IDLE_SECONDS)  # read per connection, so a test (or a run) can change it
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (OSError, ValueError):  # plain HTTP, an untrusted certificate, a stall: nothing to answer in
                self.failed_handshake = True

    def handle(self) -> None:
        if not self.failed_handshake:
            super().handle()

    def handle_one_request(self) -> None:
        """One request, which must arrive within REQUEST_SECONDS however slowly its bytes come: when the deadline
        passes, reading stops (the socket is shut for reading) and the request is answered with RequestTimeout."""
        self.late = False
        self.deadline = threading.Timer(limits.REQUEST_SECONDS, self._too_late)
        self.deadline.daemon = True
        self.deadline.start()
        try:
            super().handle_one_request()
        finally:
            self.deadline.cancel()

    def _too_late(self) -> None:
        self.late = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RD)

    def do_POST(self) -> None:
        length = self._content_length()
        if isinstance(length, HttpAnswer):  # the body is not read, so the connection cannot be reused
            self.close_connection = True
            self._send(length)
            return
        try:
            body = self.rfile.read(length)
        except TimeoutError:  # it stopped sending part-way through its body
            self.close_connection = True
            self._send(_stalled())
            return
        except OSError:  # it went away
            self.close_connection = True
            return
        self.deadline.cancel()  # it has arrived: the deadline is for arriving, not for the answer
        if len(body) < length:  # the client closed its side before sending all it announced: nothing to answer
            self.close_connection = True
            message = f"The request body ended after {len(body):,} of the {length:,} bytes its Content-Length said."
            self._send(error(400, "ValidationException", message))
            return
        self._send(self.server.emulator.handle("POST", self.path, dict(self.headers.items()), body))

    def _content_length(self) -> int | HttpAnswer:
        """The body's announced length, or the error for a Content-Length that is missing, not ASCII digits, or
        over the LARGEST_REQUEST limit."""
        text = (self.headers.get("Content-Length") or "").strip()
        if not DIGITS.fullmatch(text):
            shown = text if len(text) <= 20 else f"{text[:20]}..."
            return error(400, "ValidationException", f"The Content-Length {shown!r} is not a byte count: send one.")
        if len(text) > len(str(limits.LARGEST_REQUEST)):  # longer than any allowed length: not converted to a number
            return error(
                400,
                "ValidationException",
                f"The Content-Length has {len(text):,} digits; the limit is {limits.LARGEST_REQUEST:,} bytes "
                f"({limits.named('LARGEST_REQUEST')}).",
            )
        length = int(text)
        return too_large(length) if length > limits.LARGEST_REQUEST else length

    def _other(self) -> None:
        self._send(self.server.emulator.handle(self.command, self.path, dict(self.headers.items()), b""))

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _other

    def do_HEAD(self) -> None:
        answer = self.server.emulator.handle("HEAD", self.path, dict(self.headers.items()), b"")
        self._send(HttpAnswer(answer.status, b"", answer.headers), length=len(answer.body))

    def parse_request(self) -> bool:
        """The stdlib's parse, except that a blank request line is answered (it would close without a word)."""
        if not self.raw_requestline.strip():
            self.command, self.requestline = "", ""
            self.send_error(400, "the request line is empty")
            return False
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests (a bad request line, an unknown method, oversized headers) get an AWS JSON error."""
        self.close_connection = True
        self.request_version = self.protocol_version  # a garbled request line still gets a status line back
        kind = "UnknownOperationException" if code == 501 else "ValidationException"
        status = 404 if code == 501 else code if 400 <= code < 500 else 400
        self._send(error(status, kind, f"The HTTP request is malformed: {message or code}."))

    def _send(self, answer: HttpAnswer, length: int | None = None) -> None:
        if self.late:  # whatever was wrong with the request, it was cut off by the deadline
            answer, length, self.close_connection = _too_slow(), None, True
        answer = with_request_id(answer)  # the server's own errors too (a bad request line, a stalled body)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body) if length is None else length))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:  # the client went away while we answered
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        if not self.server.quiet:
            super().log_message(format, *args)


def _stalled() -> HttpAnswer:
    return error(
        400,
        "RequestTimeout",
        f"Nothing more of the request arrived for {limits.IDLE_SECONDS:g} s ({limits.named('IDLE_SECONDS')}): "
        "send it in one go.",
    )


def _too_slow() -> HttpAnswer:
    return error(
        400,
        "RequestTimeout",
        f"The request did not arrive within {limits.REQUEST_SECONDS:g} s ({limits.named('REQUEST_SECONDS')}): "
        "send it in one go.",
    )


@contextlib.contextmanager
def running_server(emulator: Emulator, port: int = 0, tls: LocalTls | None = None) -> Iterator[EmulatorServer]:
    """Serve `emulator` on a background thread for the duration of a `with` block (over HTTPS with `tls`)."""
    server = EmulatorServer(emulator, port, tls=tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
