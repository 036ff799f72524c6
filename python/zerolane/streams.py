"""Message streams over TCP and Unix sockets (PROTOCOL.md section 11), synchronous and asyncio.

A connection carries encoded messages (section 7) back to back in each direction, nothing between them and no
handshake: the bytes are the C# ``MessageConnection``'s, so either end may be C# or Python.

Sending: the prefix and header go into one small reused buffer; the body and parts are sent in place with
``socket.sendmsg`` of the segment list (at most 1,024 per call, ``MSG_NOSIGNAL``); after a partial write the sender
advances through the segments. Nothing is concatenated in user space. A send that stops after some bytes went out
(timeout, cancellation, an error) would leave half a message on the wire, so the sender is then *faulted*: every
later send raises :class:`MessageConnectionFaultedError`; close the connection. A send that times out before any byte
went out leaves the sender usable.

Receiving: bytes arrive in a 64 KiB staging buffer, where the prefix and fixed header are checked against
:class:`MessageLimits` before anything is allocated; the message then gets its own receive buffer, takes what the stage
holds of it (one copy, at most 64 KiB: small messages need few receive calls) and receives the rest straight into it
(``recv_into``, no copy). The returned message's body and parts are read-only views of that buffer. The buffer
returns to the receiver for a later message once the message is released and no view derived from it is left; a
message still held when the next one arrives makes the receiver take a new buffer of that message's size (so a held
message is never overwritten). The receiver keeps the largest returned buffer (up to 64 MiB) for reuse, so a loop
that releases each message before the next receive uses one buffer.

Cancel safety: every byte received so far stays in the receiver's state. The socket is read only by non-blocking
``recv_into`` calls whose result is recorded at once (no ``await`` between the read and the bookkeeping); waiting is a
separate step (sync: ``poll``; asyncio: a future woken by ``loop.add_reader``) that consumes nothing, and it is the
only step that can time out or be cancelled. So a receive that times out (``TimeoutError``) or whose task is
cancelled (``asyncio.CancelledError``, ``asyncio.wait_for``, ``asyncio.timeout``) in the middle of a message loses
nothing: the next receive resumes where it stopped, with no byte lost or duplicated.

asyncio adds no copy of its own: it does not use asyncio's streams (``StreamReader`` copies every byte into its own
buffer) or ``loop.sock_recv`` (which returns new ``bytes``); it waits for readiness and then calls ``recv_into`` and
``sendmsg`` on the non-blocking socket itself, exactly like the synchronous side.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import socket
import stat
import threading
import time
import weakref
from typing import Any, Iterator

from .errors import (
    ConnectionClosedError,
    MessageConnectionFaultedError,
    MessageFormatError,
    StreamTruncatedError,
)
from .ring import _array_type  # the views' exporters: ctypes array types, cached and bounded
from .messages import (
    DEFAULT_LIMITS,
    FIXED_HEADER_SIZE,
    PREFIX_SIZE,
    Message,
    MessageLimits,
    _slices,
    header_size,
    read_prefix,
    validate_fixed_header,
    write_header,
)

__all__ = [
    "MessageConnectionFaultedError",
    "MessageConnection",
    "MessageListener",
    "AsyncMessageConnection",
    "AsyncMessageListener",
]

_IOV_MAX = 1024
_HEAD = PREFIX_SIZE + FIXED_HEADER_SIZE  # 24: received and checked before allocating
_BUFFER_ROUNDING = 4096  # a new receive buffer is the message's size rounded up to this
_STAGE_SIZE = 64 * 1024
_KEEP_BUFFER_MAX = 64 << 20
_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)


# -- the receiving state machine, shared by the sync and asyncio connections -------------------------------------


class _BufferPool:
    """Hands out receive buffers and takes each back once nothing refers to the memory any more.

    The views of a received message are made from a ctypes array over the buffer (their exporter); a weak reference
    to that array tells when the last view, slice or NumPy array made from it is gone, and only then is the buffer
    reused. So a view can never see a later message's bytes."""

    def __init__(self) -> None:
        self._free: bytearray | None = None
        self._watching: dict[int, weakref.ref] = {}

    def take(self, size: int) -> Any:
        buffer = self._free
        if buffer is not None and len(buffer) >= size:
            self._free = None
        else:
            buffer = bytearray(-(-size // _BUFFER_ROUNDING) * _BUFFER_ROUNDING)
        exporter = _array_type(size).from_buffer(buffer)

        def give_back(ref: weakref.ref, buffer: bytearray = buffer) -> None:
            self._watching.pop(id(ref), None)
            if len(buffer) <= _KEEP_BUFFER_MAX and (self._free is None or len(self._free) <= len(buffer)):
                self._free = buffer

        ref = weakref.ref(exporter, give_back)
        self._watching[id(ref)] = ref
        return exporter


class _Receiver:
    """One message at a time from a non-blocking socket; all progress lives here (cancel-safe).

    Design: bytes arrive in a 64 KiB staging buffer (one ``recv_into`` takes as much as is there, so small messages
    need few receive calls); a message's header is checked there, then the message gets its own buffer from the pool,
    takes what the stage holds of it (one copy, at most 64 KiB) and receives the rest straight into that buffer with
    ``recv_into`` sized to the message (no read-ahead past a large message, so its bulk is never copied)."""

    def __init__(self, sock: socket.socket, limits: MessageLimits) -> None:
        self._sock = sock
        self.limits = limits
        self._stage = bytearray(_STAGE_SIZE)
        self._stage_view = memoryview(self._stage)
        self._start = 0  # unconsumed staged bytes are stage[start:end]
        self._end = 0
        self._length = -1  # bytes after the prefix of the current message, once its prefix is known
        self._exporter: Any = None
        self._view: memoryview | None = None  # the current message's buffer once its header was checked
        self._got = 0  # bytes of the current message in _view, prefix included
        self._pool = _BufferPool()
        self.fault: BaseException | None = None
        self.ended = False
        self.messages_received = 0

    @property
    def has_partial_message(self) -> bool:
        return self._view is not None or self._end > self._start

    @property
    def partial_bytes(self) -> int:
        return self._got if self._view is not None else self._end - self._start

    def _fail(self, error: BaseException) -> BaseException:
        self.fault = error
        self._view = None
        self._exporter = None
        return error

    def check(self) -> None:
        if self.fault is not None:
            raise self.fault
        if self.ended:
            raise ConnectionClosedError("The peer closed the connection; no more messages will come.")

    def step(self) -> Message | None:
        """Returns the next message once complete, reading the socket as needed. Raises BlockingIOError when nothing
        more can be read now (what was read is kept), ConnectionClosedError at the end of the stream between messages,
        StreamTruncatedError inside one, MessageFormatError for a bad message."""
        while True:
            if self._view is None:
                message = self._take_from_stage()
                if message is not None:
                    return message
                if self._view is None:
                    self._fill_stage()
                    continue
            received = self._sock.recv_into(self._view[self._got:])
            if received == 0:
                self._end_of_stream()
            self._got += received
            if self._got == PREFIX_SIZE + self._length:
                return self._complete(self._view)

    def _take_from_stage(self) -> Message | None:
        """Starts the next message from the staged bytes if they hold its header; returns it if they hold all of it."""
        staged = self._end - self._start
        try:
            if self._length < 0:
                if staged < PREFIX_SIZE:
                    return None
                self._length = read_prefix(self._stage_view[self._start:self._end], self.limits)
            if staged < _HEAD:
                return None
            validate_fixed_header(self._stage_view, self._length, self.limits, self._start + PREFIX_SIZE)
        except MessageFormatError as error:
            raise self._fail(error) from None
        total = PREFIX_SIZE + self._length
        exporter = self._pool.take(total)
        view = memoryview(exporter).cast("B")
        take = min(staged, total)
        view[:take] = self._stage_view[self._start:self._start + take]
        self._start += take
        if self._start == self._end:
            self._start = self._end = 0
        if take == total:
            return self._complete(view)
        self._exporter = exporter
        self._view = view
        self._got = take
        return None

    def _fill_stage(self) -> None:
        staged = self._end - self._start
        if self._start:  # fewer than 24 bytes wait: move them to the front
            self._stage_view[:staged] = self._stage_view[self._start:self._end]
            self._start, self._end = 0, staged
        received = self._sock.recv_into(self._stage_view[self._end:])
        if received == 0:
            self._end_of_stream()
        self._end += received

    def _complete(self, view: memoryview) -> Message:
        self._view = None
        self._exporter = None
        self._got = 0
        self._length = -1
        try:
            segments = _slices(view.toreadonly(), self.limits)
        except MessageFormatError as error:
            raise self._fail(error) from None
        finally:
            view.release()
        self.messages_received += 1
        return Message._received(segments, None)

    def _end_of_stream(self) -> None:
        if not self.has_partial_message:
            self.ended = True
            raise ConnectionClosedError("The peer closed the connection; no more messages will come.")
        length = f"{PREFIX_SIZE + self._length}-byte" if self._length >= 0 else "a"
        raise self._fail(StreamTruncatedError(
            f"The peer closed the connection in the middle of {length} message after {self.partial_bytes} bytes of "
            "it (prefix included): it stopped sending, crashed or was cut off."
        ))


class _Sender:
    """One message at a time into a non-blocking socket with ``sendmsg``; tracks partial writes."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._header = bytearray(header_size(8))
        self._segments: list[memoryview] = []
        self._count = 0
        self._index = 0
        self._sent = 0
        self.fault: BaseException | None = None
        self.messages_sent = 0
        self.bytes_sent = 0

    def check(self) -> None:
        if self.fault is not None:
            raise MessageConnectionFaultedError(
                "An earlier send stopped in the middle of a message, so the stream is out of step: this connection "
                "can send no more. Close it and connect again."
            ) from self.fault

    def begin(self, messages: list[Message]) -> None:
        """Prepares the segments of ``messages``, back to back: each one's header (all in one reused buffer), body and
        parts."""
        sizes = []
        for message in messages:
            if not isinstance(message, Message):
                raise TypeError(f"send() takes a Message, not {type(message).__name__}; wrap bytes as Message(body).")
            sizes.append(header_size(message.part_count))
        if len(self._header) < sum(sizes):
            self._header = bytearray(sum(sizes))
        header = memoryview(self._header)
        segments = []
        offset = 0
        for message, size in zip(messages, sizes):
            write_header(message, header, offset)
            segments.append(header[offset:offset + size])
            segments.extend(view for view in message.segments() if view.nbytes)
            offset += size
        self._segments = segments
        self._count = len(messages)
        self._index = 0
        self._sent = 0

    @property
    def started(self) -> bool:
        return self._sent > 0

    def step(self) -> bool:
        """One ``sendmsg``: True once the whole message is sent. Raises BlockingIOError when the socket is full."""
        segments = self._segments
        index = self._index
        sent = self._sock.sendmsg(segments[index:index + _IOV_MAX], (), _SEND_FLAGS)
        self._sent += sent
        self.bytes_sent += sent
        while index < len(segments) and sent >= segments[index].nbytes:
            sent -= segments[index].nbytes
            index += 1
        if index < len(segments) and sent:
            segments[index] = segments[index][sent:]
        self._index = index
        if index < len(segments):
            return False
        self._segments = []
        self.messages_sent += self._count
        return True

    def abandon(self, error: BaseException) -> None:
        """The send stopped: fault if part of the message is on the wire, else stay usable."""
        if self._sent > 0 or (isinstance(error, OSError) and not isinstance(error, TimeoutError)):
            self.fault = error
        self._segments = []


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def _wait(sock: socket.socket, events: int, deadline: float | None) -> bool:
    """Waits until ``sock`` is ready for ``events``; False if the deadline passed first."""
    poller = select.poll()
    poller.register(sock, events)
    while True:
        remaining = _remaining(deadline)
        if remaining == 0.0:
            return bool(poller.poll(0))
        if poller.poll(None if remaining is None else max(1, int(remaining * 1000 + 0.999))):
            return True


def _prepare(sock: socket.socket) -> socket.socket:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    return sock


def _discard_until_closed(sock: socket.socket, deadline: float | None) -> None:
    scratch = bytearray(64 * 1024)
    while True:
        try:
            if sock.recv_into(scratch) == 0:
                return
        except BlockingIOError:
            if not _wait(sock, select.POLLIN, deadline):
                return
        except OSError:
            return


# -- synchronous ---------------------------------------------------------------------------------------------------


class _Connection:
    """What the sync and asyncio connections share: the socket, its two sides and their counters."""

    def __init__(self, sock: socket.socket, limits: MessageLimits | None) -> None:
        self._sock = _prepare(sock)
        self._receiver = _Receiver(self._sock, limits or DEFAULT_LIMITS)
        self._sender = _Sender(self._sock)

    @property
    def socket(self) -> socket.socket:
        return self._sock

    @property
    def limits(self) -> MessageLimits:
        return self._receiver.limits

    @property
    def messages_sent(self) -> int:
        return self._sender.messages_sent

    @property
    def bytes_sent(self) -> int:
        return self._sender.bytes_sent

    @property
    def messages_received(self) -> int:
        return self._receiver.messages_received

    @property
    def has_partial_message(self) -> bool:
        """True while part of a message has been received (a receive stopped by a timeout resumes it)."""
        return self._receiver.has_partial_message


class MessageConnection(_Connection):
    """A message stream over a connected TCP or Unix socket (C# ``MessageConnection``); owns the socket.

    ``send`` and ``receive`` may run in two threads at once (one sender, one receiver); each side is serialized by
    its own lock. Use it in a ``with`` block: leaving it closes gracefully (:meth:`close`)."""

    def __init__(self, sock: socket.socket, limits: MessageLimits | None = None) -> None:
        super().__init__(sock, limits)
        self._send_lock = threading.Lock()
        self._receive_lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_socket(cls, sock: socket.socket, limits: MessageLimits | None = None) -> MessageConnection:
        """Takes over a connected stream socket."""
        return cls(sock, limits)

    @classmethod
    def connect_tcp(cls, host: str, port: int, *, timeout: float | None = None,
                    limits: MessageLimits | None = None) -> MessageConnection:
        """Connects to a listener at ``host``:``port`` (``TimeoutError`` after ``timeout`` seconds)."""
        return cls(socket.create_connection((host, port), timeout=timeout), limits)

    @classmethod
    def connect_unix(cls, path: str, *, timeout: float | None = None,
                     limits: MessageLimits | None = None) -> MessageConnection:
        """Connects to a listener on the Unix socket at ``path``."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(os.fspath(path))
        except BaseException:
            sock.close()
            raise
        return cls(sock, limits)

    def send(self, message: Message, timeout: float | None = None) -> None:
        """Sends ``message`` (its segments in place, no concatenation); returns once the kernel has all of it, after
        which the segments may be reused. ``TimeoutError`` after ``timeout`` seconds; if part of the message had gone
        out, the connection is faulted (see the module's notes)."""
        self._send([message], timeout)

    def send_many(self, messages: Any, timeout: float | None = None) -> None:
        """Sends the messages as one batch: all their segments through the same ``sendmsg`` calls. The peer cannot
        tell a batch from single sends. A timeout applies to the whole batch and faults like :meth:`send`."""
        batch = list(messages)
        if batch:
            self._send(batch, timeout)

    def _send(self, batch: list[Message], timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._send_lock:
            self._check_open()
            sender = self._sender
            sender.check()
            sender.begin(batch)
            try:
                while not self._send_step(sender):
                    if not _wait(self._sock, select.POLLOUT, deadline):
                        raise TimeoutError(
                            f"The message could not be sent within {timeout} s: the peer is not reading."
                            + (" Part of it is on the wire, so the connection is faulted; close it."
                               if sender.started else " Nothing was sent; the connection is still usable.")
                        )
            except BaseException as error:
                sender.abandon(error)
                raise

    @staticmethod
    def _send_step(sender: _Sender) -> bool:
        try:
            return sender.step()
        except BlockingIOError:
            return False

    def receive(self, timeout: float | None = None) -> Message:
        """Receives the next message; its body and parts are read-only views of the receive buffer, valid until the
        message is released. Raises ``TimeoutError`` (nothing lost: call again to resume),
        :class:`ConnectionClosedError` when the peer closed between messages, :class:`StreamTruncatedError` when it
        closed inside one, :class:`MessageFormatError` for a malformed or oversized message (both fault the
        receiver: later receives raise the same error)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._receive_lock:
            self._check_open()
            receiver = self._receiver
            receiver.check()
            while True:
                try:
                    message = receiver.step()
                except BlockingIOError:
                    if not _wait(self._sock, select.POLLIN, deadline):
                        raise TimeoutError(
                            f"No whole message arrived within {timeout} s"
                            + (f"; the {receiver.partial_bytes} bytes received of the next one are kept and the next receive "
                               "resumes with them." if receiver.has_partial_message else ".")
                        ) from None
                    continue
                if message is not None:
                    return message

    def __iter__(self) -> Iterator[Message]:
        """The messages until the peer closes the connection (each should be released, or used in ``with``)."""
        while True:
            try:
                message = self.receive()
            except ConnectionClosedError:
                return
            yield message

    def close(self, drain_timeout: float | None = 5.0) -> None:
        """Closes gracefully: shuts down the sending direction (the peer sees the end of the stream after the last
        message), discards what the peer still sends until it closes too or ``drain_timeout`` seconds pass (None:
        no limit), and closes the socket. Received messages stay valid. Calling it again does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_WR)
            if drain_timeout is None or drain_timeout > 0:
                _discard_until_closed(self._sock, None if drain_timeout is None else time.monotonic() + drain_timeout)
        except OSError:
            pass
        finally:
            self._sock.close()

    def abort(self) -> None:
        """Closes the socket at once (no shutdown, no drain)."""
        self._closed = True
        self._sock.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("operation on a closed MessageConnection")

    def __enter__(self) -> MessageConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _ListeningSocket:
    """The listening socket of a (sync or asyncio) listener, and the Unix socket file's rules of section 11."""

    def __init__(self, sock: socket.socket, path: str | None) -> None:
        self.sock = sock
        self.path = path
        self._identity: tuple[int, int] | None = None
        if path is not None:
            info = os.lstat(path)
            self._identity = (info.st_dev, info.st_ino)

    @classmethod
    def tcp(cls, port: int, host: str, backlog: int) -> _ListeningSocket:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {port}.")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.bind((host, port))
            sock.listen(backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return cls(sock, None)

    @classmethod
    def unix(cls, path: str, mode: int, backlog: int) -> _ListeningSocket:
        path = os.fspath(path)
        if not path:
            raise ValueError("A Unix socket path must not be empty.")
        _remove_stale_socket_file(path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
        except OSError as error:
            sock.close()
            if error.errno == errno.EADDRINUSE:
                raise OSError(error.errno, f"'{path}' appeared while the listener was being set up; "
                                           "another process is using it.") from error
            raise
        try:
            # bind() created the file with the umask's permissions; narrow them before accepting anyone.
            os.chmod(path, mode)
            sock.listen(backlog)
            sock.setblocking(False)
            return cls(sock, path)
        except BaseException:
            sock.close()
            _unlink_quietly(path)
            raise

    @property
    def port(self) -> int:
        return 0 if self.path is not None else self.sock.getsockname()[1]

    def accept(self) -> socket.socket:
        connection, _ = self.sock.accept()
        return connection

    def close(self) -> None:
        self.sock.close()
        if self.path is not None and self._identity is not None:
            try:
                info = os.lstat(self.path)
            except OSError:
                return
            if stat.S_ISSOCK(info.st_mode) and (info.st_dev, info.st_ino) == self._identity:
                _unlink_quietly(self.path)
            self._identity = None


def _remove_stale_socket_file(path: str) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise OSError(f"'{path}' is a symbolic link; a Unix socket listener refuses to follow it. "
                      "Remove it or choose another path.")
    if not stat.S_ISSOCK(info.st_mode):
        raise FileExistsError(f"'{path}' exists and is not a Unix socket; refusing to replace it.")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        # Nobody accepts on it: a leftover of a listener that did not clean up.
        _unlink_quietly(path)
        return
    finally:
        probe.close()
    raise OSError(f"Another listener is accepting on '{path}'.")


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class MessageListener:
    """Accepts :class:`MessageConnection` s on a TCP port (loopback unless another address is named) or a Unix socket
    path (mode 0600 unless given; a stale socket file is replaced, a live one, a symlink or another file refused; the
    file is removed on close)."""

    def __init__(self, listening: _ListeningSocket, limits: MessageLimits | None) -> None:
        self._listening = listening
        self._limits = limits

    @classmethod
    def listen_tcp(cls, port: int = 0, host: str = "127.0.0.1", *, backlog: int = 128,
                   limits: MessageLimits | None = None) -> MessageListener:
        """Listens on TCP ``port`` (0 picks a free one: see :attr:`port`) of ``host``, the IPv4 loopback address
        unless given: other hosts can connect only when an address they reach is named (for example "0.0.0.0")."""
        return cls(_ListeningSocket.tcp(port, host, backlog), limits)

    @classmethod
    def listen_unix(cls, path: str, *, mode: int = 0o600, backlog: int = 128,
                    limits: MessageLimits | None = None) -> MessageListener:
        """Listens on a Unix socket at ``path`` whose file gets ``mode`` (there is a short window between bind and
        chmod in which the umask's mode applies; use a private directory if that matters)."""
        return cls(_ListeningSocket.unix(path, mode, backlog), limits)

    @property
    def port(self) -> int:
        """The TCP port (useful after listening on port 0); 0 for a Unix socket."""
        return self._listening.port

    @property
    def path(self) -> str | None:
        """The Unix socket path, or None for TCP."""
        return self._listening.path

    def accept(self, timeout: float | None = None) -> MessageConnection:
        """Waits for the next connection (``TimeoutError`` after ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return MessageConnection(self._listening.accept(), self._limits)
            except BlockingIOError:
                if not _wait(self._listening.sock, select.POLLIN, deadline):
                    raise TimeoutError(f"No connection arrived within {timeout} s.") from None

    def close(self) -> None:
        """Stops listening and removes the Unix socket file; accepted connections are not affected."""
        self._listening.close()

    def __enter__(self) -> MessageListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- asyncio -------------------------------------------------------------------------------------------------------


async def _ready(sock: socket.socket, writable: bool) -> None:
    """Waits until ``sock`` is readable (or writable). Consumes nothing, so cancelling it is always safe."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    fd = sock.fileno()

    def wake() -> None:
        if not future.done():
            future.set_result(None)

    if writable:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await future
    finally:
        if writable:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)


class AsyncMessageConnection(_Connection):
    """The asyncio form of :class:`MessageConnection`: the same bytes, the same zero-copy sends and receives, and
    receives that may be cancelled at any point (``asyncio.wait_for``, ``asyncio.timeout``, ``task.cancel()``)
    without losing a byte. Needs an event loop with ``add_reader`` (the default one on Linux)."""

    def __init__(self, sock: socket.socket, limits: MessageLimits | None = None) -> None:
        super().__init__(sock, limits)
        self._send_lock = asyncio.Lock()
        self._receive_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def connect_tcp(cls, host: str, port: int, *, limits: MessageLimits | None = None) -> AsyncMessageConnection:
        """Connects to a listener at ``host``:``port`` (wrap in ``asyncio.timeout`` to bound the wait)."""
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
        except BaseException:
            sock.close()
            raise
        return cls(sock, limits)

    @classmethod
    async def connect_unix(cls, path: str, *, limits: MessageLimits | None = None) -> AsyncMessageConnection:
        """Connects to a listener on the Unix socket at ``path``."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, os.fspath(path))
        except BaseException:
            sock.close()
            raise
        return cls(sock, limits)

    async def send(self, message: Message) -> None:
        """Sends ``message`` in place (``sendmsg``). If the task is cancelled after part of the message went out,
        the connection is faulted (see the module's notes); cancelled before any byte went out, it stays usable."""
        await self._send([message])

    async def send_many(self, messages: Any) -> None:
        """Sends the messages as one batch (see :meth:`MessageConnection.send_many`)."""
        batch = list(messages)
        if batch:
            await self._send(batch)

    async def _send(self, batch: list[Message]) -> None:
        async with self._send_lock:
            self._check_open()
            sender = self._sender
            sender.check()
            sender.begin(batch)
            try:
                while True:
                    try:
                        if sender.step():
                            return
                    except BlockingIOError:
                        await _ready(self._sock, writable=True)
            except BaseException as error:
                sender.abandon(error)
                raise

    async def receive(self, timeout: float | None = None) -> Message:
        """Receives the next message (see :meth:`MessageConnection.receive`). Cancel-safe: a timeout or a
        cancellation in the middle of a message keeps every byte, and the next receive resumes."""
        if timeout is not None:
            try:
                async with asyncio.timeout(timeout):
                    return await self.receive()
            except TimeoutError:
                raise TimeoutError(f"No whole message arrived within {timeout} s; what arrived of the next one is "
                                   "kept and the next receive resumes with it.") from None
        async with self._receive_lock:
            self._check_open()
            receiver = self._receiver
            receiver.check()
            while True:
                try:
                    message = receiver.step()
                except BlockingIOError:
                    await _ready(self._sock, writable=False)
                    continue
                if message is not None:
                    return message

    def __aiter__(self) -> AsyncMessageConnection:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.receive()
        except ConnectionClosedError:
            raise StopAsyncIteration from None

    async def close(self, drain_timeout: float | None = 5.0) -> None:
        """Closes gracefully like :meth:`MessageConnection.close`."""
        if self._closed:
            return
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_WR)
            scratch = bytearray(64 * 1024)

            async def drain() -> None:
                while True:
                    try:
                        if self._sock.recv_into(scratch) == 0:
                            return
                    except BlockingIOError:
                        await _ready(self._sock, writable=False)

            if drain_timeout is None:
                await drain()
            elif drain_timeout > 0:
                try:
                    async with asyncio.timeout(drain_timeout):
                        await drain()
                except TimeoutError:
                    pass
        except OSError:
            pass
        finally:
            self._sock.close()

    def abort(self) -> None:
        """Closes the socket at once."""
        self._closed = True
        self._sock.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("operation on a closed AsyncMessageConnection")

    async def __aenter__(self) -> AsyncMessageConnection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class AsyncMessageListener:
    """The asyncio form of :class:`MessageListener` (same rules); :meth:`accept` is a coroutine."""

    def __init__(self, listening: _ListeningSocket, limits: MessageLimits | None) -> None:
        self._listening = listening
        self._limits = limits

    @classmethod
    def listen_tcp(cls, port: int = 0, host: str = "127.0.0.1", *, backlog: int = 128,
                   limits: MessageLimits | None = None) -> AsyncMessageListener:
        return cls(_ListeningSocket.tcp(port, host, backlog), limits)

    @classmethod
    def listen_unix(cls, path: str, *, mode: int = 0o600, backlog: int = 128,
                    limits: MessageLimits | None = None) -> AsyncMessageListener:
        return cls(_ListeningSocket.unix(path, mode, backlog), limits)

    @property
    def port(self) -> int:
        return self._listening.port

    @property
    def path(self) -> str | None:
        return self._listening.path

    async def accept(self) -> AsyncMessageConnection:
        """Waits for the next connection (cancel-safe: a connection is only taken when one is waiting)."""
        while True:
            try:
                return AsyncMessageConnection(self._listening.accept(), self._limits)
            except BlockingIOError:
                await _ready(self._listening.sock, writable=False)

    def close(self) -> None:
        self._listening.close()

    def __enter__(self) -> AsyncMessageListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
