"""ZeroLane for Python: zero-copy rings, messages and topics in shared memory (standard library only)."""

from .errors import (
    BufferCorruptedError,
    BufferNotFoundError,
    ConnectionClosedError,
    FrameTooLargeError,
    IncompatibleBufferError,
    InvalidNameError,
    MessageConnectionFaultedError,
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
from .messages import (
    FIXED_HEADER_SIZE,
    PREFIX_SIZE,
    Message,
    MessageLimits,
    MessageLoan,
    begin_message,
    decode,
    encode,
    encode_segments,
    encoded_size,
    next_message,
    read_message,
    write_message,
)
from .streams import (
    AsyncMessageConnection,
    AsyncMessageListener,
    MessageConnection,
    MessageListener,
)
from .topics import Publisher, Sample, Subscriber, Subscription, TopicLoan
