"""Real receivers for the hand-off tests: a webhook receiver (stdlib http.server in a
thread) that checks signatures and de-duplicates by webhook-id as the README tells
receivers to, and an SMTP server (aiosmtpd). Both listen on an ephemeral port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from inbox.handoff import signing


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers 200 to a validly signed request and records it once per webhook-id
    (``processed``); every request that arrives is in ``requests``.

    ``behaviour`` may be set to a function of the request returning a status (say 500)
    or None for the normal answer; it may also sleep, to outlast the sender's timeout.
    ``stop()`` closes the port (the receiver is "down"); ``start()`` opens the same port again.
    """

    secret: str
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    processed: dict[str, dict] = field(default_factory=dict)
    behaviour: Callable[[Request], int | None] | None = None
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/cleaninbox"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = dict(self.headers.items())
                request = Request(headers, body, signing.verify(receiver.secret, headers, body))
                with receiver._lock:
                    receiver.requests.append(request)
                status = receiver.behaviour(request) if receiver.behaviour else None
                if status is None:
                    status = 200 if request.signature_ok else 401
                if status == 200:
                    with receiver._lock:  # at-least-once in, exactly once processed
                        receiver.processed.setdefault(headers["webhook-id"], request.payload)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, *args) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Handler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.original_content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class _EphemeralController(Controller):
    """aiosmtpd's controller on port 0: the port is read back once the server listens."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SMTPServer:
    """aiosmtpd on an ephemeral port; ``restart()`` after ``stop()`` listens on the same
    port again and keeps the messages received so far."""

    def __init__(self) -> None:
        self.handler = _Handler()
        self.controller = _EphemeralController(self.handler, hostname="127.0.0.1", port=0)

    def restart(self) -> SMTPServer:
        self.controller = _EphemeralController(self.handler, hostname="127.0.0.1", port=self.port)
        return self.start()

    @property
    def messages(self) -> list[Message]:
        return self.handler.messages

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> SMTPServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()
