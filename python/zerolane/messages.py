"""Messages: a compact body plus ordered binary parts, their encoding (PROTOCOL.md section 7) and the ring helpers
(section 9).

Encoding, all integers big-endian::

    length u64 | part count N u32 | flags u32 (0) | body length u64 | N x part length u64 | body | part 0 | ...

``length`` counts every byte after itself. A decoder checks, in this order and before allocating anything, the
prefix, the length against :class:`MessageLimits`, the flags, the part count, that the part lengths fit, and that
body and parts add up to exactly the message; any lie is a :class:`MessageFormatError` naming the length that lied.

Lifetimes:

* A message built from segments (:class:`Message` / :meth:`Message.from_segments`) keeps a strong reference to each
  segment's owner (``bytes``, ``bytearray``, ``memoryview``, ``mmap``, NumPy arrays ...) and a memoryview of it; nothing
  is copied until a send or a ring write copies (or transmits) it. While the message holds its views, the owners are
  *exported*: a ``bytearray`` cannot be resized and an ``mmap`` cannot be closed (``BufferError``) -- which is what
  keeps a send from reading freed memory. ``release()`` (or leaving a ``with`` block) lets go of the views.
* A decoded message's ``body`` and ``parts()`` are read-only memoryviews into the buffer it was decoded from (a ring
  frame's shared memory, a stream receiver's buffer): zero copy. They keep that buffer alive. ``release()`` ends the
  message: its own views are released (using them raises ``ValueError`` like any released memoryview) and the
  underlying frame or buffer is handed back -- *deferred* while views derived from them (slices, casts,
  ``np.frombuffer``) still exist, so such a view never sees reused memory.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .errors import MessageFormatError

__all__ = [
    "PREFIX_SIZE",
    "FIXED_HEADER_SIZE",
    "MessageLimits",
    "Message",
    "header_size",
    "encoded_size",
    "write_header",
    "encode_segments",
    "encode",
    "read_prefix",
    "validate_fixed_header",
    "decode",
    "write_message",
    "MessageLoan",
    "begin_message",
    "read_message",
    "next_message",
]

#: Size of the u64 length prefix.
PREFIX_SIZE = 8
#: Part count, flags and body length: the fixed header after the prefix.
FIXED_HEADER_SIZE = 16

_FIXED = struct.Struct(">QIIQ")  # prefix, part count, flags, body length
_HEADER = struct.Struct(">IIQ")  # part count, flags, body length (after the prefix)
_U64 = struct.Struct(">Q")
_MAX_MESSAGE_LENGTH_CEILING = 2**31 - 1


@dataclass(frozen=True)
class MessageLimits:
    """Bounds a decoder enforces before allocating (C# ``MessageLimits``).

    ``max_message_length``: largest encoded message accepted, in bytes after the length prefix (default 256 MiB,
    16 to 2 GiB - 1). ``max_parts``: most parts in one message (default 1,024; 0 or more).
    """

    max_message_length: int = 256 << 20
    max_parts: int = 1024

    def __post_init__(self) -> None:
        if not FIXED_HEADER_SIZE <= self.max_message_length <= _MAX_MESSAGE_LENGTH_CEILING:
            raise ValueError(
                f"max_message_length must be between {FIXED_HEADER_SIZE} and {_MAX_MESSAGE_LENGTH_CEILING}, "
                f"not {self.max_message_length}."
            )
        if self.max_parts < 0:
            raise ValueError(f"max_parts must be 0 or more, not {self.max_parts}.")


DEFAULT_LIMITS = MessageLimits()


def _byte_view(segment: Any, what: str) -> memoryview:
    """A flat unsigned-byte memoryview of ``segment`` without copying it."""
    try:
        view = memoryview(segment)
    except TypeError:
        raise TypeError(
            f"The {what} must support the buffer protocol (bytes, bytearray, memoryview, mmap, a NumPy array, ...), "
            f"not {type(segment).__name__}; encode text with str.encode() first."
        ) from None
    if view.format == "B" and view.ndim == 1:
        return view
    if not view.c_contiguous:
        view.release()
        raise ValueError(
            f"The {what} is not C-contiguous; a message sends segments in place, so make it contiguous first "
            f"(for NumPy: np.ascontiguousarray)."
        )
    return view.cast("B")


class Message:
    """A message: a compact body plus an ordered list of binary parts, each a separate segment never copied into
    the others.

    ``Message(body, parts)`` references the given buffers (no copy) and keeps their owners alive;
    :func:`decode`, :func:`read_message` and the stream receivers return messages whose segments are read-only views
    into the memory they arrived in. Use it in a ``with`` block or call :meth:`release` when done.
    """

    __slots__ = ("_body", "_parts", "_owners", "_keeper", "_length", "__weakref__")

    def __init__(self, body: Any = b"", parts: Iterable[Any] = ()) -> None:
        owners = [body, *parts]
        views = [_byte_view(body, "body")]
        try:
            for index, part in enumerate(owners[1:]):
                views.append(_byte_view(part, f"part {index}"))
        except BaseException:
            for view in views:
                view.release()
            raise
        self._init(views, owners, None)

    def _init(self, views: list[memoryview], owners: list[Any] | None, keeper: Any) -> None:
        self._body = views[0]
        self._parts = tuple(views[1:])
        self._owners = owners
        self._keeper = keeper
        self._length = sum(view.nbytes for view in views)

    @classmethod
    def from_segments(cls, segments: Iterable[Any]) -> Message:
        """A message of ``segments``: the first is the body, the others are the parts, in order (an empty iterable
        makes an empty message). The inverse of :meth:`segments`."""
        items = list(segments)
        return cls(items[0] if items else b"", items[1:])

    @classmethod
    def _received(cls, views: list[memoryview], keeper: Any) -> Message:
        message = cls.__new__(cls)
        message._init(views, None, keeper)
        return message

    # -- access -------------------------------------------------------------------------------------------------

    def _check(self) -> None:
        if self._body is None:
            raise ValueError("operation forbidden on a released message")

    @property
    def body(self) -> memoryview:
        """The body, in place (read-only for a received message)."""
        self._check()
        return self._body

    @property
    def part_count(self) -> int:
        """Number of parts."""
        self._check()
        return len(self._parts)

    def part(self, index: int) -> memoryview:
        """Part ``index``, in place."""
        self._check()
        return self._parts[index]

    def parts(self) -> tuple[memoryview, ...]:
        """The parts, in order, in place."""
        self._check()
        return self._parts

    def segments(self) -> list[memoryview]:
        """The body and then the parts, in place: what :meth:`from_segments` takes."""
        self._check()
        return [self._body, *self._parts]

    @property
    def length(self) -> int:
        """Bytes of the body and all parts together."""
        self._check()
        return self._length

    @property
    def encoded_size(self) -> int:
        """Bytes of the whole encoded message, length prefix included: ``24 + 8N + body + parts``."""
        self._check()
        return header_size(len(self._parts)) + self._length

    @property
    def released(self) -> bool:
        return self._body is None

    def part_as_array(self, index: int, dtype: Any, shape: Any = None) -> Any:
        """Part ``index`` as a NumPy array of ``dtype`` (and ``shape``), zero copy; read-only for a received
        message. The array keeps the message's memory alive like any view derived from it."""
        import numpy as np  # optional dependency, imported only when used

        array = np.frombuffer(self.part(index), dtype=dtype)
        return array if shape is None else array.reshape(shape)

    # -- lifetime -----------------------------------------------------------------------------------------------

    def release(self) -> None:
        """Ends the message; calling it again does nothing.

        Its own views are released where nothing was derived from them (a view with exports -- say a NumPy array
        made from it -- stays valid), the references to the segment owners are dropped, and a received message
        hands its frame or receive buffer back once no view derived from it is left."""
        if self._body is None:
            return
        views = [self._body, *self._parts]
        self._body = None
        self._parts = ()
        self._owners = None
        keeper, self._keeper = self._keeper, None
        for view in views:
            try:
                view.release()
            except BufferError:
                pass  # something was derived from it; it keeps the memory alive until it is dropped
        if keeper is not None:
            release = getattr(keeper, "release", None)
            if release is not None:
                release()

    def __enter__(self) -> Message:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        if self._body is None:
            return "<Message released>"
        lengths = ",".join(str(part.nbytes) for part in self._parts)
        return f"<Message body={self._body.nbytes} parts=[{lengths}]>"


# -- encoding ---------------------------------------------------------------------------------------------------


def header_size(part_count: int) -> int:
    """Prefix and header size of a message with ``part_count`` parts: ``24 + 8 * part_count``."""
    return PREFIX_SIZE + FIXED_HEADER_SIZE + 8 * part_count


def encoded_size(message: Message) -> int:
    """Bytes of the whole encoded ``message``, length prefix included."""
    return message.encoded_size


def write_header(message: Message, destination: Any, offset: int = 0) -> int:
    """Writes the prefix and header of ``message`` into the writable ``destination`` at ``offset``; returns the
    header's size."""
    parts = message.parts()
    size = header_size(len(parts))
    _FIXED.pack_into(destination, offset, size - PREFIX_SIZE + message.length, len(parts), 0, message.body.nbytes)
    if parts:
        struct.pack_into(f">{len(parts)}Q", destination, offset + 24, *(part.nbytes for part in parts))
    return size


def encode_segments(message: Message) -> list[memoryview]:
    """The encoded message as a list of buffers: a new header, then the body and the parts in place (nothing is
    concatenated; empty segments are left out). Sending them back to back (``socket.sendmsg``) sends the message."""
    header = bytearray(header_size(message.part_count))
    write_header(message, header)
    return [memoryview(header), *(view for view in message.segments() if view.nbytes)]


def encode(message: Message) -> bytes:
    """The encoded message as one ``bytes`` object. This copies every segment: for tests and small messages; send
    with :func:`encode_segments` (or a stream) and write rings with :func:`write_message` instead."""
    return b"".join(encode_segments(message))


def read_prefix(prefix: Any, limits: MessageLimits = DEFAULT_LIMITS) -> int:
    """Reads and checks a length prefix: the number of bytes after it, checked against ``limits``."""
    view = memoryview(prefix)
    if view.nbytes < PREFIX_SIZE:
        raise MessageFormatError(
            f"A message's length prefix needs {PREFIX_SIZE} bytes; only {view.nbytes} arrived: "
            "the stream ended in the middle of it."
        )
    (length,) = _U64.unpack_from(view)
    if length < FIXED_HEADER_SIZE:
        raise MessageFormatError(
            f"A message announced {length} bytes, fewer than the {FIXED_HEADER_SIZE}-byte header every message has: "
            "the stream is corrupt or not a ZeroLane message stream."
        )
    if length > limits.max_message_length:
        raise MessageFormatError(
            f"A message announced {length} bytes, more than the maximum of {limits.max_message_length} "
            "(MessageLimits.max_message_length). Nothing was allocated; raise the limit if such messages are expected."
        )
    return length


def validate_fixed_header(header: Any, message_length: int, limits: MessageLimits = DEFAULT_LIMITS,
                          offset: int = 0) -> tuple[int, int, int]:
    """Checks the 16-byte fixed header (after the prefix) of a message of ``message_length`` bytes: flags, part
    count, and that the part lengths and the body fit. Returns (part count, header length after the prefix, body
    length)."""
    part_count, flags, body_length = _HEADER.unpack_from(header, offset)
    if flags != 0:
        raise MessageFormatError(
            f"A message has flags 0x{flags:08x}; this version knows none. "
            "It was written by a newer or incompatible peer."
        )
    if part_count > limits.max_parts:
        raise MessageFormatError(
            f"A message announced {part_count} parts, more than the maximum of {limits.max_parts} "
            "(MessageLimits.max_parts)."
        )
    header_length = FIXED_HEADER_SIZE + 8 * part_count
    if header_length > message_length:
        raise MessageFormatError(
            f"A message of {message_length} bytes cannot hold the lengths of its {part_count} parts."
        )
    remaining = message_length - header_length
    if body_length > remaining:
        raise MessageFormatError(
            f"A message's body claims {body_length} bytes but only {remaining} follow the header."
        )
    return part_count, header_length, body_length


def _part_lengths(view: memoryview, offset: int, part_count: int, remaining: int) -> tuple[int, ...]:
    lengths = struct.unpack_from(f">{part_count}Q", view, offset) if part_count else ()
    left = remaining
    for index, length in enumerate(lengths):
        if length > left:
            raise MessageFormatError(f"Part {index} of a message claims {length} bytes but only {left} remain.")
        left -= length
    if left != 0:
        raise MessageFormatError(
            f"A message has {left} bytes beyond its body and parts: its lengths do not add up."
        )
    return lengths


def _flat(buffer: Any) -> memoryview:
    view = memoryview(buffer)
    if view.format == "B" and view.ndim == 1:
        return view
    if not view.c_contiguous:
        view.release()
        raise ValueError("A message can only be decoded from contiguous memory.")
    return view.cast("B")


def _slices(view: memoryview, limits: MessageLimits) -> list[memoryview]:
    """Validates the encoded message in ``view`` (prefix included, exactly one message) and slices it."""
    length = read_prefix(view, limits)
    if length != view.nbytes - PREFIX_SIZE:
        raise MessageFormatError(
            f"A message's prefix announces {length} bytes but {view.nbytes - PREFIX_SIZE} follow it in the "
            f"{view.nbytes}-byte buffer: the prefix lied or the buffer holds more or less than one message."
        )
    part_count, header_length, body_length = validate_fixed_header(view, length, limits, PREFIX_SIZE)
    lengths = _part_lengths(view, PREFIX_SIZE + FIXED_HEADER_SIZE, part_count,
                            length - header_length - body_length)
    offset = PREFIX_SIZE + header_length
    segments = [view[offset:offset + body_length]]
    offset += body_length
    for part_length in lengths:
        segments.append(view[offset:offset + part_length])
        offset += part_length
    return segments


def decode(buffer: Any, limits: MessageLimits | None = None, *, keeper: Any = None) -> Message:
    """Decodes the encoded message in ``buffer`` (length prefix included, exactly one message, as :func:`encode`
    makes it). Body and parts are read-only memoryviews into ``buffer`` (no copy), which they keep alive.

    ``keeper``, if given, is kept alive by the message and its ``release()`` (if any) is called when the message is
    released. Raises :class:`MessageFormatError` for any malformed input."""
    segments = _slices(_flat(buffer).toreadonly(), limits or DEFAULT_LIMITS)
    return Message._received(segments, keeper)


# -- rings (PROTOCOL.md section 9) ------------------------------------------------------------------------------


def write_message(writer: Any, message: Message, timeout: float | None = None) -> int:
    """Writes ``message`` as one frame of ``writer`` (a ring ``Writer``): loans exactly its encoded size, writes the
    header into the loan, copies each segment once into place and commits. Returns the frame's encoded size.
    A message larger than the ring's largest frame raises the writer's ``FrameTooLargeError``."""
    segments = message.segments()
    size = header_size(len(segments) - 1) + message.length
    with writer.loan(size, timeout) as loan:
        data = loan.data
        offset = write_header(message, data)
        for segment in segments:
            end = offset + segment.nbytes
            data[offset:end] = segment
            offset = end
        loan.commit(size)
    return size


class MessageLoan:
    """A message being written in place in a ring frame (C# ``MessageLoan``): ``body`` and ``part(i)`` are writable
    memoryviews inside the frame, laid out after a header already written; fill them, then :meth:`commit`. Leaving a
    ``with`` block without committing publishes nothing.

    Lifetimes are the ring loan's (docs/PROTOCOL.md 4.7): the commit releases ``body`` and the parts themselves, and
    raises ``BufferError`` (the message loan stays open, with new ``body`` and parts) while a view derived from them
    (a slice, a cast, a NumPy array) is alive. Abandoning while such views live keeps the frame's space out of use:
    the writer refuses writes and loans with ``BufferError`` until the last of them is gone."""

    __slots__ = ("_loan", "_views", "_spans", "_size")

    def __init__(self, loan: Any, spans: list[tuple[int, int]], size: int) -> None:
        self._loan = loan
        self._spans = spans
        self._size = size
        self._views = self._slice(loan.data)

    def _slice(self, data: memoryview) -> list[memoryview]:
        return [data[offset:offset + length] for offset, length in self._spans]

    def _check(self) -> None:
        if self._views is None:
            raise ValueError("operation forbidden on a committed or abandoned message loan")

    @property
    def body(self) -> memoryview:
        self._check()
        return self._views[0]

    @property
    def part_count(self) -> int:
        self._check()
        return len(self._views) - 1

    def part(self, index: int) -> memoryview:
        self._check()
        if not 0 <= index < len(self._views) - 1:
            raise IndexError(f"part {index} of a message loan of {len(self._views) - 1} parts")
        return self._views[1 + index]

    def parts(self) -> tuple[memoryview, ...]:
        self._check()
        return tuple(self._views[1:])

    def commit(self, last_length: int | None = None) -> int:
        """Publishes the message. ``last_length`` may cut the last segment (the last part, or the body when there are
        no parts) short of what was declared: its length and the prefix are rewritten before the frame is published.
        Returns the frame's sequence number. Raises ``BufferError`` while a view derived from the body or a part is
        alive; the message loan then stays open."""
        self._check()
        declared = self._spans[-1][1]
        if last_length is None:
            last_length = declared
        if not 0 <= last_length <= declared:
            raise ValueError(f"The last segment was declared with {declared} bytes; commit 0 to {declared}, "
                             f"not {last_length}.")
        size = self._size - (declared - last_length)
        count = len(self._spans) - 1
        last_at = 16 if count == 0 else 24 + 8 * (count - 1)
        if last_length != declared:
            data = self._loan.data
            _U64.pack_into(data, 0, size - PREFIX_SIZE)
            _U64.pack_into(data, last_at, last_length)
            del data
        self._finish()
        try:
            return self._loan.commit(size)
        except BufferError:
            # A view derived from the body or a part lives: the loan stays open, as declared, with new views.
            data = self._loan.data
            if last_length != declared:
                _U64.pack_into(data, 0, self._size - PREFIX_SIZE)
                _U64.pack_into(data, last_at, declared)
            self._views = self._slice(data)
            raise
        except BaseException:
            self._loan.abandon()
            raise

    def abandon(self) -> None:
        """Publishes nothing. While views derived from the body or parts live, the frame's space stays out of use
        (the writer refuses writes and loans with ``BufferError`` until they are gone)."""
        if self._views is not None:
            self._finish()
            self._loan.abandon()

    def _finish(self) -> None:
        views, self._views = self._views, None
        for view in views:
            try:
                view.release()
            except BufferError:
                pass  # a NumPy array (or other export) of it: the ring loan sees it alive and refuses to commit

    def __enter__(self) -> MessageLoan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abandon()


def begin_message(writer: Any, body_length: int, part_lengths: Sequence[int] = (),
                  timeout: float | None = None) -> MessageLoan:
    """Loans a ring frame for a message of ``body_length`` and ``part_lengths`` bytes, writes its header, and hands
    out the body and parts as writable views inside the frame to be filled in place (no copy at all)."""
    lengths = [int(length) for length in part_lengths]
    if body_length < 0 or any(length < 0 for length in lengths):
        raise ValueError("Body and part lengths must be 0 or more.")
    head = header_size(len(lengths))
    size = head + body_length + sum(lengths)
    loan = writer.loan(size, timeout)
    try:
        data = loan.data
        _FIXED.pack_into(data, 0, size - PREFIX_SIZE, len(lengths), 0, body_length)
        if lengths:
            struct.pack_into(f">{len(lengths)}Q", data, 24, *lengths)
        spans = []
        offset = head
        for length in (body_length, *lengths):
            spans.append((offset, length))
            offset += length
        del data
        return MessageLoan(loan, spans, size)
    except BaseException:
        loan.abandon()
        raise


def read_message(frame: Any, limits: MessageLimits | None = None) -> Message:
    """Decodes the message in a ring ``frame`` in place: body and parts are read-only views of the frame's shared
    memory. The message keeps the frame alive and releases it when the message is released; as with the frame
    itself, the space returns to the writer only once no view derived from it is left.

    A frame that is not a valid message (shorter than 8 bytes, a prefix other than its size - 8, or any check of
    section 7) is released and :class:`MessageFormatError` is raised; reading can go on."""
    try:
        segments = _slices(_flat(frame.data), limits or DEFAULT_LIMITS)
    except BaseException:
        frame.release()
        raise
    return Message._received(segments, frame)


def next_message(reader: Any, timeout: float | None = None, limits: MessageLimits | None = None) -> Message:
    """Reads the next frame of ``reader`` (a ring ``Reader``) and decodes it with :func:`read_message`. Raises what
    ``reader.read`` raises (``TimeoutError``, ``WriterGoneError``) and :class:`MessageFormatError`."""
    return read_message(reader.read(timeout), limits)
