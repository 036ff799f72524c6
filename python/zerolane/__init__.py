"""ZeroLane for Python: zero-copy rings, messages and topics in shared memory (standard library only)."""

from .errors import (
    BufferCorruptedError,
    BufferNotFoundError,
    ConnectionClosedError,
    FrameTooLargeError,
    IncompatibleBufferError,
    InvalidNameError,
    MessageFormatError,
    MetadataAlreadyWrittenError,
    MetadataTooLargeError,
    ReaderAlreadyConnectedError,
    ReaderGoneError,
    StreamTruncatedError,
    WriterAlreadyConnectedError,
    WriterGoneError,
    ZeroLaneError,
)
from .ring import Frame, Loan, Reader, WaitStrategy, Writer
from .arrays import as_array, read_npy_header, read_npy_metadata
from .topics import Publisher, Sample, Subscriber, Subscription, TopicLoan
