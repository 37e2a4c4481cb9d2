"""The gunicorn worker: threads for the app, and no thread for a client still sending its request.

gunicorn's threaded worker hands a connection to a thread as soon as its first byte arrives, and
that thread then waits, with no time limit, for the rest of the request. A handful of clients
sending their headers a byte at a time (slowloris) would hold every thread, and nothing ever
closes them. This worker reads each request in its event loop instead, without a thread, until
the head and (with a Content-Length up to KB_MAX_BODY_BYTES) the body are complete, and closes a
connection whose request has not arrived within KB_REQUEST_TIMEOUT seconds with a 408. Whatever
a thread still reads itself (a chunked body, an unusually large head) is held to the same
deadline, and writing the answer to a client that does not read has the same bound.

Errors gunicorn answers itself (a malformed request line, oversized headers) are written in the
service's one JSON error shape instead of gunicorn's HTML page.
"""

from __future__ import annotations

import errno
import io
import json
import re
import selectors
import socket
import time
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.http.body import ChunkedReader
from gunicorn.workers.gthread import TConn, ThreadWorker
from werkzeug.exceptions import RequestTimeout

from kb.errors import error_body
from kb.settings import load_settings

# A head longer than this is handed to gunicorn's parser, which enforces its own header limits.
HEAD_LIMIT = 64 * 1024
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d{1,12})[ \t]*\r\n")


def write_json_error(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's `util.write_error`, in the service's one error shape."""
    code = reason.lower().replace(" ", "_") or "error"
    body = json.dumps(error_body(code, message or reason)).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    try:
        util.write_nonblock(sock, head.encode("latin-1") + body)
    except OSError:
        pass  # the client is gone or not reading: it was going to be closed anyway


def request_is_complete(buffer: bytes | bytearray, max_body: int) -> bool:
    """Whether a thread can handle the buffered request without waiting on the client."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return len(buffer) > HEAD_LIMIT
    head = bytes(buffer[:end + 2]).lower()
    if b"\r\ntransfer-encoding:" in head or b"\r\nexpect:" in head:
        # Chunked, or the client waits for "100 Continue" before sending the body (curl does):
        # the thread reads the body, within the deadline.
        return True
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) != 1 or int(lengths[0]) > max_body:
        return True  # no body, or one the parser or the app rejects without reading it
    return len(buffer) - (end + 4) >= int(lengths[0])


class ArrivingConnection(TConn):
    """A connection with the bytes of its current request so far and the time they are due."""

    def __init__(self, cfg: Any, sock: socket.socket, client: Any, server: Any):
        super().__init__(cfg, sock, client, server)
        self.buffer = bytearray()
        self.deadline = 0.0
        self.timed_out = False


class DeadlineReader:
    """The socket as gunicorn's parser sees it: every read ends by the request's deadline."""

    def __init__(self, conn: ArrivingConnection, seconds: float):
        self.conn = conn
        self.seconds = seconds

    def recv(self, size: int) -> bytes:
        remaining = self.conn.deadline - time.monotonic()
        if remaining <= 0:
            raise self._timeout()
        self.conn.sock.settimeout(remaining)
        try:
            return self.conn.sock.recv(size)
        except TimeoutError:
            raise self._timeout() from None
        finally:
            self.conn.sock.settimeout(self.seconds)  # bounds writing the answer, too

    def _timeout(self) -> RequestTimeout:
        # An HTTPException: raised inside the app (reading a body) it becomes a JSON 408.
        self.conn.timed_out = True
        return RequestTimeout(f"the request did not arrive within {self.seconds:g} seconds")


class RequestBufferingWorker(ThreadWorker):
    """gunicorn's gthread worker, reading requests in its event loop before a thread runs them."""

    def init_process(self) -> None:
        settings = load_settings()
        self.request_timeout = settings["REQUEST_TIMEOUT"]
        self.max_body = settings["MAX_BODY_BYTES"]
        self.arriving: set[ArrivingConnection] = set()
        util.write_error = write_json_error
        super().init_process()

    def accept(self, server: Any, listener: socket.socket) -> None:
        if self.cfg.is_ssl:  # TLS bytes cannot be buffered before the handshake
            super().accept(server, listener)
            return
        try:
            sock, client = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = ArrivingConnection(self.cfg, sock, client, server)
        self.nr_conns += 1
        # The clock starts at accept: a client that connects and sends nothing is cut off too.
        self._start_request(conn)
        with self._lock:
            self.poller.register(conn.sock, selectors.EVENT_READ,
                                 partial(self.on_client_socket_readable, conn))

    def _start_request(self, conn: ArrivingConnection) -> None:
        conn.deadline = time.monotonic() + self.request_timeout
        conn.timed_out = False
        self.arriving.add(conn)

    def on_client_socket_readable(self, conn: ArrivingConnection, client: Any) -> None:
        if not isinstance(conn, ArrivingConnection):
            super().on_client_socket_readable(conn, client)
            return
        if conn not in self.arriving:
            # A kept-alive connection: its next request starts now.
            with self._lock:
                try:
                    self._keep.remove(conn)
                except ValueError:
                    return  # closed by the keep-alive timeout meanwhile
            self._start_request(conn)
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close_arriving(conn)
            return
        conn.buffer += data
        if not request_is_complete(conn.buffer, self.max_body):
            return
        with self._lock:
            self.poller.unregister(conn.sock)
        self.arriving.discard(conn)
        self.enqueue_req(conn)

    def enqueue_req(self, conn: TConn) -> None:
        if not isinstance(conn, ArrivingConnection):
            super().enqueue_req(conn)
            return
        conn.init()
        conn.sock.settimeout(self.request_timeout)
        if not isinstance(conn.parser.unreader.sock, DeadlineReader):
            conn.parser.unreader.sock = DeadlineReader(conn, self.request_timeout)
        conn.parser.unreader.unread(bytes(conn.buffer))
        conn.buffer = bytearray()
        future = self.tpool.submit(self.handle, conn)
        self._wrap_future(future, conn)

    def handle(self, conn: TConn) -> tuple[bool, TConn]:
        keepalive, conn = super().handle(conn)
        while keepalive and isinstance(conn, ArrivingConnection):
            # The parser may have read past this request: a pipelined one, or its beginning.
            ahead = conn.parser.unreader.buf.getvalue()
            conn.parser.unreader.buf = io.BytesIO()
            if not request_is_complete(ahead, self.max_body):
                conn.buffer = bytearray(ahead)  # the event loop waits for the rest
                break
            conn.parser.unreader.unread(ahead)
            conn.deadline = time.monotonic() + self.request_timeout
            keepalive, conn = super().handle(conn)
        return keepalive, conn

    def handle_request(self, req: Any, conn: TConn) -> bool:
        keepalive = super().handle_request(req, conn)
        if not keepalive or getattr(conn, "timed_out", False):
            return False  # after a timeout the rest of the request may still be on its way
        if self._body_still_arriving(req, conn):
            return False  # e.g. a 413: reading the rest only to reach a next request is waste
        while req.body.read(8192):
            pass  # the rest is in memory already; the next request starts after it
        return True

    @staticmethod
    def _body_still_arriving(req: Any, conn: TConn) -> bool:
        reader = req.body.reader
        if isinstance(reader, ChunkedReader):
            return reader.parser is not None
        return int(getattr(reader, "length", 0)) > len(conn.parser.unreader.buf.getvalue())

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, RequestTimeout):
            self.log.info("closed a connection from %s: %s", (addr or ("",))[0], exc.description)
            write_json_error(client, 408, "Request Timeout", str(exc.description))
            return
        super().handle_error(req, client, addr, exc)

    def murder_keepalived(self) -> None:
        super().murder_keepalived()
        now = time.monotonic()
        for conn in [c for c in self.arriving if c.deadline <= now]:
            self.log.info("closed a connection from %s: its request did not arrive within %g "
                          "seconds", conn.client[0] if conn.client else "", self.request_timeout)
            # A connection that never sent a byte gets no answer, as a browser's spare one.
            if conn.buffer:
                write_json_error(conn.sock, 408, "Request Timeout",
                                 f"the request did not arrive within {self.request_timeout:g} "
                                 "seconds")
            self._close_arriving(conn)

    def _close_arriving(self, conn: ArrivingConnection) -> None:
        self.arriving.discard(conn)
        with self._lock:
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass  # already gone
        self.nr_conns -= 1
        conn.close()
