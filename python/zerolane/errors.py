"""The exceptions of ZeroLane's Python client, named after their C# counterparts (docs/API.md).

Expected outcomes of a blocking call with a timeout raise the built-in ``TimeoutError``. Everything else that is
ZeroLane's own derives from :class:`ZeroLaneError`; where a built-in category fits (a bad value, a missing file, a
closed connection), the exception derives from it too, so ``except ValueError`` and the like keep working.
"""


class ZeroLaneError(Exception):
    """Base class of every exception ZeroLane raises for its own reasons."""


class InvalidNameError(ZeroLaneError, ValueError):
    """A buffer or topic name breaks the rules (1 to 200 characters of A-Z a-z 0-9 . _ -, not starting with '.')."""


class BufferNotFoundError(ZeroLaneError, FileNotFoundError):
    """No buffer of that name exists: its reader creates it, so start the reader first."""


class BufferCorruptedError(ZeroLaneError):
    """The shared memory holds a state no correct peer can produce; the buffer cannot continue."""


class IncompatibleBufferError(ZeroLaneError):
    """The shared memory is of another format or protocol version."""


class FrameTooLargeError(ZeroLaneError, ValueError):
    """A frame can never fit the buffer's payload block."""


class ReaderAlreadyConnectedError(ZeroLaneError):
    """A live reader already owns a buffer of that name."""


class WriterAlreadyConnectedError(ZeroLaneError):
    """A live writer is already connected to the buffer; a ring has one writer at a time."""


class ReaderGoneError(ZeroLaneError):
    """The buffer's reader has gone (closed, or its process died); frames can no longer be delivered."""


class WriterGoneError(ZeroLaneError):
    """The writer has gone and every frame it committed has been read.

    ``died`` is True when its process died while connected, False when it disconnected cleanly.
    """

    def __init__(self, message: str, died: bool = False) -> None:
        super().__init__(message)
        self.died = died


class MetadataAlreadyWrittenError(ZeroLaneError):
    """A buffer's metadata is written once per buffer lifetime, and it has been."""


class MetadataTooLargeError(ZeroLaneError, ValueError):
    """The metadata does not fit the buffer's metadata block."""


class MessageFormatError(ZeroLaneError, ValueError):
    """Bytes that should hold an encoded message (PROTOCOL.md section 7) do not."""


class ConnectionClosedError(ZeroLaneError, ConnectionError):
    """The message stream's peer closed the connection."""


class MessageConnectionFaultedError(ZeroLaneError):
    """A send stopped in the middle of a message (timeout, cancellation, a socket error): the peer would read the next
    message's bytes as the rest of that one, so this connection can send no more. Close it. The cause is chained."""


class StreamTruncatedError(ZeroLaneError, EOFError):
    """A message stream ended in the middle of a frame."""
