"""Messages in ring frames (PROTOCOL.md section 9): the helpers against a fake writer and frame, against the real
Python ring, and across languages with the C# peer."""

import threading

import numpy as np
import pytest

import zerolane as zl
from msgpeer import describe, peer  # noqa: F401  (fixture)
from zerolane import FrameTooLargeError, MessageFormatError, WriterGoneError
from zerolane.messages import Message, begin_message, encode, next_message, read_message, write_message


class FakeLoan:
    def __init__(self, writer, size):
        self.writer = writer
        self.buffer = bytearray(size)
        self.data = memoryview(self.buffer)

    def commit(self, size):
        self.writer.committed.append(bytes(self.data[:size]))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.data.release()


class FakeWriter:
    def __init__(self):
        self.committed = []
        self.loans = []

    def loan(self, size, timeout=None):
        self.loans.append((size, timeout))
        return FakeLoan(self, size)


class FakeFrame:
    def __init__(self, payload):
        self._data = memoryview(bytes(payload))
        self.releases = 0

    @property
    def data(self):
        return self._data

    def release(self):
        self.releases += 1


def test_write_message_loans_exactly_the_encoded_size_and_commits_it():
    writer = FakeWriter()
    message = Message(b"body", [b"", b"part-1", bytes(1000)])
    size = write_message(writer, message, timeout=2.5)
    assert writer.loans == [(size, 2.5)]
    assert writer.committed == [encode(message)]


def test_read_message_decodes_in_place_and_releases_the_frame_with_the_message():
    frame = FakeFrame(encode(Message(b"b", [b"p0", b"p1"])))
    message = read_message(frame)
    assert bytes(message.body) == b"b" and [bytes(p) for p in message.parts()] == [b"p0", b"p1"]
    assert message.part(1).obj is frame.data.obj  # a slice of the frame's memory, not a copy
    assert frame.releases == 0
    message.release()
    message.release()
    assert frame.releases == 1


@pytest.mark.parametrize("payload", [b"", b"\x00" * 7, encode(Message(b"x"))[:-1], b"\x00" * 8 + b"\x00" * 16])
def test_read_message_releases_a_malformed_frame_and_raises(payload):
    frame = FakeFrame(payload)
    with pytest.raises(MessageFormatError):
        read_message(frame)
    assert frame.releases == 1


SHAPES = [
    (b"", []),
    (b"body", []),
    (b"", [b""]),
    (b"h", [b"a" * 10, b"", b"c" * 3000]),
    (bytes(200), [bytes([i]) * i for i in range(100)]),
    (b"big", [bytes(range(256)) * 4096]),  # 1 MiB
]


def test_round_trip_through_a_real_ring(unique_name):
    with zl.Reader(unique_name, 4 << 20) as reader, zl.Writer(unique_name) as writer:
        for round_ in range(3):  # several times round the ring
            for body, parts in SHAPES:
                write_message(writer, Message(body, parts))
                with next_message(reader, timeout=10) as message:
                    assert bytes(message.body) == body
                    assert [bytes(p) for p in message.parts()] == parts


def test_a_received_message_is_in_shared_memory_and_keeps_its_frame(unique_name):
    array = np.arange(1024, dtype=np.float64)
    with zl.Reader(unique_name, 1 << 16) as reader, zl.Writer(unique_name) as writer:
        write_message(writer, Message(b"meta", [array]))
        frame = reader.read(timeout=10)
        frame_address = np.frombuffer(frame.data, np.uint8).ctypes.data
        message = read_message(frame)
        received = message.part_as_array(0, np.float64)
        # Zero copy: the part lies inside the frame, after the 32-byte header and the 4-byte body.
        assert received.ctypes.data == frame_address + 32 + 4
        assert not received.flags.writeable
        assert reader.frames_held == 1
        message.release()
        assert frame.released
        assert reader.frames_held == 1  # deferred: the array derived from the part still holds the frame
        assert np.array_equal(received, array)
        del received
        assert reader.frames_held == 0


def test_a_malformed_frame_in_a_ring_is_skipped_and_reading_goes_on(unique_name):
    with zl.Reader(unique_name, 1 << 16) as reader, zl.Writer(unique_name) as writer:
        writer.write(b"not a message")
        write_message(writer, Message(b"good"))
        with pytest.raises(MessageFormatError):
            next_message(reader, timeout=10)
        assert reader.frames_held == 0
        with next_message(reader, timeout=10) as message:
            assert bytes(message.body) == b"good"


def test_a_message_larger_than_the_ring_is_refused_at_once(unique_name):
    with zl.Reader(unique_name, 4096) as reader, zl.Writer(unique_name) as writer:
        with pytest.raises(FrameTooLargeError):
            write_message(writer, Message(b"", [bytes(8192)]))
        write_message(writer, Message(b"still fine"))
        with next_message(reader, timeout=10) as message:
            assert bytes(message.body) == b"still fine"


def test_messages_held_while_the_writer_keeps_writing(unique_name):
    """Messages held across many writes keep their bytes; the writer waits for their space, never overwrites it."""
    with zl.Reader(unique_name, 1 << 16) as reader, zl.Writer(unique_name) as writer:
        count = 200

        def produce():
            for i in range(count):
                write_message(writer, Message(i.to_bytes(4, "big"), [bytes([i & 0xFF]) * 1000]), timeout=30)

        thread = threading.Thread(target=produce)
        thread.start()
        held = []
        for i in range(count):
            message = next_message(reader, timeout=30)
            assert int.from_bytes(message.body, "big") == i
            held.append(message)
            if len(held) > 20:
                old = held.pop(0)
                number = int.from_bytes(old.body, "big")
                assert bytes(old.part(0)) == bytes([number & 0xFF]) * 1000
                old.release()
        thread.join()
        for message in held:
            message.release()


def test_csharp_ring_writer_to_python_reader(unique_name, peer):  # noqa: F811
    with zl.Reader(unique_name, 8 << 20) as reader:
        child = peer("message-ring-writer", unique_name, "--count", "12")
        received = []
        while True:
            try:
                message = next_message(reader, timeout=60)
            except WriterGoneError:
                break
            with message:
                received.append(describe(len(received), message))
        child.until("WRITTEN")
        assert child.finish() == 0
        assert received == child.messages() and len(received) == 12


def test_python_ring_writer_to_csharp_reader(unique_name, peer):  # noqa: F811
    child = peer("message-ring-reader", unique_name, "--payload", str(8 << 20))
    child.until("READY")
    sent = []
    with zl.Writer(unique_name, connect_timeout=30) as writer:
        for i, (body, parts) in enumerate(SHAPES + [(b"np", [np.arange(5000, dtype=np.int32)])]):
            message = Message(body, parts)
            write_message(writer, message, timeout=30)
            sent.append(describe(i, message))
    child.until("OK")
    assert child.finish() == 0
    assert child.messages() == sent


def test_begin_message_fills_the_frame_in_place(unique_name):
    with zl.Reader(unique_name, 1 << 20) as reader, zl.Writer(unique_name) as writer:
        with begin_message(writer, 4, [3, 0, 1000]) as loan:
            loan.body[:] = b"head"
            loan.part(0)[:] = b"abc"
            target = np.frombuffer(loan.part(2), np.float32)  # fill a tensor straight into shared memory
            target[:] = np.arange(250, dtype=np.float32)
            del target
            loan.commit()
        with next_message(reader, timeout=10) as message:
            assert bytes(message.body) == b"head"
            assert [p.nbytes for p in message.parts()] == [3, 0, 1000]
            assert message.part_as_array(2, np.float32).tolist() == list(range(250))


def test_begin_message_commit_cuts_the_last_segment(unique_name):
    with zl.Reader(unique_name, 1 << 16) as reader, zl.Writer(unique_name) as writer:
        with begin_message(writer, 10, [5, 100]) as loan:
            loan.body[:] = b"0123456789"
            loan.part(0)[:] = b"fives"
            loan.part(1)[:7] = b"seven!!"
            loan.commit(7)
        with begin_message(writer, 100) as loan:  # no parts: the body is the last segment
            loan.body[:2] = b"hi"
            loan.commit(2)
        with begin_message(writer, 3) as loan:
            loan.body[:] = b"not"  # abandoned: never published
        write_message(writer, Message(b"after"))
        with next_message(reader, timeout=10) as message:
            assert (bytes(message.body), [bytes(p) for p in message.parts()]) == (b"0123456789", [b"fives", b"seven!!"])
        with next_message(reader, timeout=10) as message:
            assert bytes(message.body) == b"hi" and message.part_count == 0
        with next_message(reader, timeout=10) as message:
            assert bytes(message.body) == b"after"


def test_begin_message_views_end_with_the_loan(unique_name):
    with zl.Reader(unique_name, 1 << 16), zl.Writer(unique_name) as writer:
        loan = begin_message(writer, 2, [2])
        body = loan.body
        with pytest.raises(ValueError, match="declared with 2 bytes"):
            loan.commit(3)
        loan.commit()
        with pytest.raises(ValueError):
            body[0] = 1  # released with the loan
        with pytest.raises(ValueError, match="committed or abandoned"):
            loan.part(0)


def test_begin_message_to_csharp_reader(unique_name, peer):  # noqa: F811
    child = peer("message-ring-reader", unique_name, "--payload", str(1 << 20))
    child.until("READY")
    with zl.Writer(unique_name, connect_timeout=30) as writer:
        with begin_message(writer, 3, [4, 50], timeout=30) as loan:
            loan.body[:] = b"abc"
            loan.part(0)[:] = b"defg"
            loan.part(1)[:5] = b"hijkl"
            loan.commit(5)
    child.until("OK")
    assert child.finish() == 0
    assert child.messages() == [describe(0, Message(b"abc", [b"defg", b"hijkl"]))]


def test_a_message_outlives_its_closed_reader_safely(unique_name):
    reader = zl.Reader(unique_name, 1 << 16)
    try:
        with zl.Writer(unique_name) as writer:
            write_message(writer, Message(b"kept", [bytes(range(200))]))
        message = next_message(reader, timeout=10)
        part = message.part_as_array(0, np.uint8)
    finally:
        reader.close()
    # The mapping stays until the last view is gone: reading after close sees the bytes, never unmapped memory.
    assert bytes(message.body) == b"kept"
    assert part.tolist() == list(range(200))
    message.release()
    del part
