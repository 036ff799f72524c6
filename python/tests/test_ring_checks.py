"""Impossible counter states and headers (PROTOCOL.md 4.1, 4.2) raise BufferCorruptedError naming the word."""

import struct

import pytest

import zerolane as zl
from zerolane import _posix
from zerolane.errors import BufferCorruptedError, FrameTooLargeError, IncompatibleBufferError

from ringutil import OFF_PAYLOAD_FREE, OFF_WRITTEN_COUNT

PAYLOAD = 128  # metadata 0: the payload block starts at 128


class Segment:
    """Our own mapping of the buffer, to play the other process that overwrites words."""

    def __init__(self, name):
        self.shm = _posix.SharedMemory.open(name)

    def set(self, offset, value):
        _posix.store_u64(self.shm.mmap, offset, value)

    def get(self, offset):
        return _posix.load_u64(self.shm.mmap, offset)

    def header(self, payload_offset, size, sequence):
        struct.pack_into("<QQ", self.shm.mmap, PAYLOAD + payload_offset, size, sequence)

    def close(self):
        self.shm.close()


@pytest.fixture
def ring(unique_name):
    reader = zl.Reader(unique_name, 1024)
    writer = zl.Writer(unique_name)
    segment = Segment(unique_name)
    yield reader, writer, segment
    segment.close()
    writer.close()
    reader.close()


def _corrupt(reader, *parts):
    with pytest.raises(BufferCorruptedError) as info:
        reader.read(0)
    message = str(info.value)
    assert message.startswith(f"Buffer '{reader.name}' is corrupted: ")
    assert message.endswith("The ring cannot continue; dispose the reader and recreate the buffer.")
    for part in parts:
        assert part in message, message
    return message


def test_written_count_far_ahead(ring):
    reader, writer, segment = ring
    segment.set(OFF_WRITTEN_COUNT, 2**64 - 1)
    _corrupt(reader, "payload_written_count is 18446744073709551615", "holds at most 64")


def test_written_count_below_consumed(ring):
    reader, writer, segment = ring
    writer.write(b"a")
    writer.write(b"b")
    reader.read(0).release()
    reader.read(0).release()
    segment.set(OFF_WRITTEN_COUNT, 0)
    _corrupt(reader, "payload_written_count is 0, below the 2 items")


def test_header_beyond_block(ring):
    reader, writer, segment = ring
    writer.write(b"abc")
    segment.header(0, 5000, 1)
    _corrupt(reader, "claims 5000 bytes but only 1008 remain")


def test_zero_size_header_with_sequence(ring):
    reader, writer, segment = ring
    writer.write(b"abc")
    segment.header(0, 0, 7)
    _corrupt(reader, "has size 0 and sequence 7")


def test_marker_at_offset_zero(ring):
    reader, writer, segment = ring
    segment.set(OFF_WRITTEN_COUNT, 1)  # counted, but the block is zeros
    _corrupt(reader, "a wrap marker at payload offset 0")


def test_sequence_gap(ring):
    reader, writer, segment = ring
    writer.write(b"abc")
    segment.header(0, 3, 5)
    _corrupt(reader, "sequence gap: expected 1, got 5")


def test_stale_sequence_restart(ring):
    reader, writer, segment = ring
    writer.write(b"abc")
    writer.write(b"def")
    reader.read(0).release()
    reader.read(0).release()
    segment.header(38, 3, 1)  # an old frame "read again" at the cursor, with no new writer
    segment.set(OFF_WRITTEN_COUNT, 3)
    _corrupt(reader, "sequence restart", "no new writer")


def test_free_bytes_above_block_after_credit(ring):
    reader, writer, segment = ring
    writer.write(b"abc")
    frame = reader.read(0)
    segment.set(OFF_PAYLOAD_FREE, 1024)  # someone gave the space back behind our back
    frame.release()  # no place to throw: the next read does
    _corrupt(reader, "payload_free_bytes was 1043 after this reader gave back 19 bytes")


def test_writer_refuses_free_bytes_above_block(unique_name):
    with zl.Reader(unique_name, 1024) as reader:
        segment = Segment(unique_name)
        try:
            segment.set(OFF_PAYLOAD_FREE, 4096)
            with zl.Writer(unique_name) as writer:
                with pytest.raises(BufferCorruptedError, match="payload_free_bytes is 4096, more than the 1024-byte"):
                    writer.write(b"x")
        finally:
            segment.close()


def test_writer_refuses_written_count_changed_behind_it(ring):
    reader, writer, segment = ring
    writer.write(b"x" * 500)  # the cached free bytes now say 508 left: the next 600 B frame reloads them
    segment.set(OFF_WRITTEN_COUNT, 9)
    with pytest.raises(BufferCorruptedError, match="payload_written_count is 9, but this writer has published 1"):
        writer.write(b"y" * 600, timeout=0)


def test_writer_refuses_incompatible_segment(unique_name):
    with zl.Reader(unique_name, 1024):
        segment = Segment(unique_name)
        try:
            _posix.store_u32(segment.shm.mmap, 0, 64)
            with pytest.raises(IncompatibleBufferError, match="oieb_size 64"):
                zl.Writer(unique_name)
            _posix.store_u32(segment.shm.mmap, 0, 128)
            segment.shm.mmap[4] = 2
            with pytest.raises(IncompatibleBufferError, match="version 2"):
                zl.Writer(unique_name)
        finally:
            segment.close()


# ---------------------------------------------------------------------------------------- reference peers (section 5)

OFF_WRITE_POS = 48
OFF_WRITER_PID = 80
OFF_READ_COUNT = 72


def _peer_publish(segment, position, size, sequence, free_taken, write_pos, written):
    data = bytes((sequence + i) & 0xFF for i in range(size))
    segment.header(position, size, sequence)
    segment.shm.mmap[PAYLOAD + position + 16:PAYLOAD + position + 16 + size] = data
    segment.set(OFF_PAYLOAD_FREE, segment.get(OFF_PAYLOAD_FREE) - free_taken)
    segment.set(OFF_WRITE_POS, write_pos)
    segment.set(OFF_WRITTEN_COUNT, written)
    return data


@pytest.mark.parametrize("convention, written_after_wrap", [("c++", 2), ("python", 3)])
def test_reader_reads_a_peer_writer_short_tail(unique_name, convention, written_after_wrap):
    # A reference peer writer leaves an 8-byte tail (too short for a marker) and wraps. The C++ writer counts only the
    # frame after it; the Python writer also counts a phantom marker, in the same store (defect 11).
    with zl.Reader(unique_name, 1024) as reader:
        segment = Segment(unique_name)
        try:
            import os

            segment.set(OFF_WRITER_PID, os.getpid())  # a live peer writer
            first = _peer_publish(segment, 0, 1000, 1, 1016, 1016, 1)
            with reader.read(0) as frame:
                assert bytes(frame.data) == first
            second = _peer_publish(segment, 0, 100, 2, 8 + 116, 116, written_after_wrap)
            with reader.read(0) as frame:
                assert frame.sequence == 2 and bytes(frame.data) == second
            assert reader.try_read(0) is None  # a phantom, if counted, is consumed, not read as a frame
            assert segment.get(OFF_PAYLOAD_FREE) == 1024
            assert segment.get(OFF_READ_COUNT) == written_after_wrap
            segment.set(OFF_WRITER_PID, 0)
        finally:
            segment.close()


def test_writer_with_a_peer_reader_never_publishes_a_marker_alone(unique_name):
    # A reader without extension flag bit 0 (a reference peer) does not promise to read a marker published on its
    # own, so a layout only wrap-first could resolve is refused at once instead of hanging.
    with zl.Reader(unique_name, 10240) as reader:
        segment = Segment(unique_name)
        try:
            _posix.store_u32(segment.shm.mmap, 116, 0)
            with zl.Writer(unique_name) as writer:
                writer.write(b"a" * (6144 - 16))
                reader.read(0).release()
                with pytest.raises(FrameTooLargeError,
                                   match="cannot be placed"):
                    writer.write(b"b" * (7168 - 16), timeout=60)
        finally:
            segment.close()
