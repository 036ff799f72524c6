"""Rings in one process: writing and reading, wrap-around, gathered writes, loans, metadata, errors, timeouts."""

import os
import random
import stat
import threading

import pytest

import zerolane as zl
from zerolane import _posix
from zerolane.errors import (
    BufferNotFoundError,
    FrameTooLargeError,
    InvalidNameError,
    MetadataAlreadyWrittenError,
    MetadataTooLargeError,
    ReaderAlreadyConnectedError,
    ReaderGoneError,
    WriterAlreadyConnectedError,
    WriterGoneError,
)

from ringutil import OFF_WRITER_STATE, fill, free_bytes, pattern, word


def test_write_read_and_objects(unique_name):
    with zl.Reader(unique_name, 4096, 100) as reader:
        assert reader.payload_capacity == 4096 and reader.metadata_capacity == 128
        for path in (f"/dev/shm/{unique_name}", f"/dev/shm/sem.sem-w-{unique_name}",
                     f"/dev/shm/sem.sem-r-{unique_name}", f"/tmp/zerobuffer/{unique_name}.lock"):
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path
        shm = _posix.SharedMemory.open(unique_name)
        mm = shm.mmap
        assert mm[0:8] == b"\x80\x00\x00\x00\x01\x00\x00\x00"  # oieb_size 128, version 1.0.0
        assert mm[112:116] == b"ZLN1" and mm[116] == 1
        assert int.from_bytes(mm[88:96], "little") == os.getpid()
        assert int.from_bytes(mm[104:112], "little") == _posix.process_start_time(os.getpid())
        shm.close()
        with zl.Writer(unique_name) as writer:
            assert word(unique_name, OFF_WRITER_STATE) == 3
            assert writer.write(b"hello") == 1
            assert writer.write(bytearray(b"world!")) == 2
            with reader.read(5) as frame:
                assert bytes(frame.data) == b"hello" and frame.sequence == 1 and len(frame) == 5
                assert frame.data.readonly and frame.data.format == "B"
                with pytest.raises(TypeError):
                    frame.data[0] = 1
            frame = reader.read(5)
            assert bytes(frame.data) == b"world!" and frame.sequence == 2
            frame.release()
            frame.release()  # a second release does nothing
            assert writer.frames_written == 2 and writer.bytes_written == 11
            assert reader.frames_read == 2 and reader.bytes_read == 11
        assert word(unique_name, OFF_WRITER_STATE) == 2  # disconnected cleanly, one connection
        with pytest.raises(WriterGoneError) as gone:
            reader.read(5)
        assert gone.value.died is False and "disconnected" in str(gone.value)
    assert not os.path.exists(f"/dev/shm/{unique_name}")


def test_wrap_around_many_sizes(unique_name):
    sizes = [1, 2, 15, 16, 17, 31, 47, 48, 63, 64, 100, 200, 333, 500, 1000, 1400, 2000, 4000 - 16]
    with zl.Reader(unique_name, 4000, wait=zl.WaitStrategy.BLOCKING) as reader, zl.Writer(unique_name) as writer:
        rng = random.Random(1)
        seq = 0
        for _ in range(3000):
            size = rng.choice(sizes)
            burst = rng.randint(1, 4)
            written = []
            for _ in range(burst):
                try:
                    seq_written = writer.write(pattern(seq + len(written) + 1, size), timeout=0)
                except TimeoutError:
                    break
                written.append(seq_written)
            for s in written:
                with reader.read(5) as frame:
                    seq += 1
                    assert frame.sequence == s == seq
                    assert bytes(frame.data) == pattern(seq, size)
        assert free_bytes(unique_name) == 4032  # everything given back (4000 rounded up to 64)


def test_wrap_first_layout(unique_name):
    # 6144 B then 7168 B frames in a 10240 B block: fits neither before the end nor after the marker until drained.
    # The writer publishes the marker alone and waits for the reader to pass it, so it runs in a thread of its own.
    sizes = [6144 - 16 if i % 2 == 0 else 7168 - 16 for i in range(20)]
    with zl.Reader(unique_name, 10240) as reader, zl.Writer(unique_name) as writer:
        turn = threading.Semaphore(0)
        errors = []

        def produce():
            try:
                for i, size in enumerate(sizes):
                    writer.write(pattern(i + 1, size), timeout=60)
                    turn.acquire(timeout=60)  # one frame at a time: the reader has released the previous one
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=produce)
        t.start()
        for i, size in enumerate(sizes):
            with reader.read(60) as frame:
                assert bytes(frame.data) == pattern(i + 1, size)
            turn.release()
        t.join(60)
        assert not errors


def test_threads_writer_and_reader(unique_name):
    count = 20000
    with zl.Reader(unique_name, 8192) as reader, zl.Writer(unique_name) as writer:
        errors = []

        def produce():
            try:
                rng = random.Random(2)
                for i in range(1, count + 1):
                    writer.write(pattern(i, rng.randint(1, 700)), timeout=60)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        t = threading.Thread(target=produce)
        t.start()
        rng = random.Random(2)
        for i in range(1, count + 1):
            with reader.read(60) as frame:
                assert frame.sequence == i
                assert bytes(frame.data) == pattern(i, rng.randint(1, 700))
        t.join(60)
        assert not errors


def test_gathered_write_is_one_frame(unique_name):
    import array

    import numpy as np

    parts = [b"head", bytearray(b"-mid-"), memoryview(b"xxtailxx")[2:6], array.array("H", [1, 2]),
             np.arange(3, dtype="<i4"), np.zeros((2, 2), dtype=np.uint8)]
    expected = b"".join(bytes(memoryview(p).cast("B")) for p in parts)
    with zl.Reader(unique_name, 1024) as reader, zl.Writer(unique_name) as writer:
        assert writer.write(parts) == 1
        assert writer.write((b"a", b"b")) == 2
        with reader.read(5) as frame:
            assert bytes(frame.data) == expected
        with reader.read(5) as frame:
            assert bytes(frame.data) == b"ab"
        with pytest.raises((TypeError, ValueError)):
            writer.write([np.arange(10)[::2]])  # not contiguous: refused, nothing written
        with pytest.raises(ValueError, match="at least one byte"):
            writer.write([b"", b""])
        assert writer.write(b"z") == 3


def test_loans(unique_name):
    with zl.Reader(unique_name, 1024) as reader, zl.Writer(unique_name) as writer:
        with writer.loan(100) as loan:
            assert len(loan) == 100 and not loan.data.readonly
            loan.data[:5] = b"12345"
            assert loan.commit(5) == 1
            with pytest.raises(ValueError):
                loan.data
        with writer.loan(50) as loan:
            loan.data[:3] = b"abc"  # abandoned: nothing published
        with writer.loan(10) as loan:
            with pytest.raises(RuntimeError, match="loan is open"):
                writer.write(b"x")
            loan.data[:] = b"0123456789"
            loan.commit()
        with reader.read(5) as frame:
            assert bytes(frame.data) == b"12345" and frame.sequence == 1
        with reader.read(5) as frame:
            assert bytes(frame.data) == b"0123456789" and frame.sequence == 2
        assert reader.try_read(0) is None
        with pytest.raises(ValueError):
            with writer.loan(10) as loan:
                loan.commit(11)
    # a loan of the whole block (placed at offset 0 of a fresh ring) refuses commits that would leave a 1-15 byte
    # tail, and stays open
    with zl.Reader(unique_name, 1024) as reader, zl.Writer(unique_name) as writer:
        with writer.loan(1024 - 16) as loan:
            with pytest.raises(ValueError, match="stays open"):
                loan.commit(1024 - 20)
            assert loan.open
            loan.data[:2] = b"ok"
            loan.commit(1024 - 32)
        with reader.read(5) as frame:
            assert bytes(frame.data[:2]) == b"ok" and len(frame) == 1024 - 32


def test_metadata(unique_name):
    with zl.Reader(unique_name, 1024, 64) as reader, zl.Writer(unique_name) as writer:
        assert reader.metadata() is None
        with pytest.raises(MetadataTooLargeError):
            writer.set_metadata(b"x" * 57)
        with pytest.raises(ValueError):
            writer.set_metadata(b"")
        writer.set_metadata(b"x" * 56)
        meta = reader.metadata()
        assert bytes(meta) == b"x" * 56 and meta.readonly
        with pytest.raises(MetadataAlreadyWrittenError):
            writer.set_metadata(b"again")
    with zl.Reader(unique_name, 1024) as reader, zl.Writer(unique_name) as writer:
        with pytest.raises(MetadataTooLargeError, match="without a metadata block"):
            writer.set_metadata(b"x")


def test_held_frames_release_in_ring_order(unique_name):
    with zl.Reader(unique_name, 1024) as reader, zl.Writer(unique_name) as writer:
        for i in range(3):
            writer.write(bytes([i]) * 84)  # 100 bytes each with the header
        frames = [reader.read(5) for _ in range(3)]
        assert free_bytes(unique_name) == 1024 - 300
        frames[1].release()
        frames[2].release()
        assert free_bytes(unique_name) == 1024 - 300  # the oldest is still held: nothing is credited
        assert bytes(frames[0].data) == b"\x00" * 84
        frames[0].release()
        assert free_bytes(unique_name) == 1024


def test_timeouts(unique_name):
    with zl.Reader(unique_name, 1024) as reader:
        with pytest.raises(TimeoutError, match="No frame arrived"):
            reader.read(0.01)
        assert reader.try_read(0) is None
        assert reader.try_read(0.01) is None
        with zl.Writer(unique_name) as writer:
            assert fill(writer, 100) == 8
            with pytest.raises(TimeoutError, match="No space became free"):
                writer.write(b"x" * 100, timeout=0.01)
            with pytest.raises(ValueError):
                reader.read(-1)


def test_errors(unique_name, tmp_path):
    with pytest.raises(InvalidNameError):
        zl.Reader("../etc", 1024)
    with pytest.raises(InvalidNameError):
        zl.Writer("a/b")
    with pytest.raises(BufferNotFoundError, match="start the reader first"):
        zl.Writer(unique_name)
    with pytest.raises(TimeoutError, match="No live reader"):
        zl.Writer(unique_name, connect_timeout=0.01)
    with pytest.raises(ValueError):
        zl.Reader(unique_name, 10)
    with zl.Reader(unique_name, 1024) as reader:
        with pytest.raises(ReaderAlreadyConnectedError):
            zl.Reader(unique_name, 1024)
        with zl.Writer(unique_name) as writer:
            # our own pid is alive: a second writer in this process is refused too
            with pytest.raises(WriterAlreadyConnectedError):
                zl.Writer(unique_name)
            with pytest.raises(FrameTooLargeError, match="can never fit"):
                writer.write(b"x" * 1009)
            with pytest.raises(FrameTooLargeError, match="tail of"):
                writer.write(b"x" * 1000)
            with pytest.raises(ValueError, match="at least one byte"):
                writer.write(b"")
            writer.write(b"x" * 1008)  # exactly the block
            with reader.read(5) as frame:
                assert len(frame) == 1008
            reader.close()
            with pytest.raises(ReaderGoneError, match="is gone"):
                writer.write(b"y")
        with pytest.raises(ValueError, match="closed"):
            reader.read(0)


def test_writer_reconnects_and_sequences_restart(unique_name):
    with zl.Reader(unique_name, 1024) as reader:
        for run in range(3):
            with zl.Writer(unique_name) as writer:
                writer.write(b"a")
                writer.write(b"b")
            assert [reader.read(5).sequence for _ in range(2)] == [1, 2]
            with pytest.raises(WriterGoneError):
                reader.read(5)
        # a writer that comes and goes without a frame also ends a session
        zl.Writer(unique_name).close()
        with pytest.raises(WriterGoneError):
            reader.read(5)


def test_iteration_ends_at_disconnect(unique_name):
    with zl.Reader(unique_name, 1024) as reader:
        with zl.Writer(unique_name) as writer:
            for i in range(5):
                writer.write(bytes([i]))
        got = []
        for frame in reader:
            with frame:
                got.append(bytes(frame.data))
        assert got == [bytes([i]) for i in range(5)]


@pytest.mark.parametrize("strategy", list(zl.WaitStrategy))
def test_wait_strategies_wake_on_write(unique_name, strategy):
    with zl.Reader(unique_name, 1024, wait=strategy) as reader, zl.Writer(unique_name, wait=strategy) as writer:
        started = threading.Event()

        def later():
            started.wait(30)
            writer.write(b"late")

        t = threading.Thread(target=later)
        t.start()
        started.set()
        with reader.read(30) as frame:
            assert bytes(frame.data) == b"late"
        t.join(30)


def test_stale_buffer_of_dead_reader_is_removed(unique_name, python_child):
    # a reader process killed -9 leaves its objects; the next reader of the same name removes and recreates them
    child = python_child(
        "import sys, zerolane as zl; r = zl.Reader(sys.argv[1], 1024); print('ready', flush=True); sys.stdin.read()",
        unique_name, stdin=__import__("subprocess").PIPE,
    )
    assert child.stdout.readline().strip() == b"ready"
    child.kill()
    child.wait()
    assert os.path.exists(f"/dev/shm/{unique_name}")
    with zl.Reader(unique_name, 2048) as reader:
        assert reader.payload_capacity == 2048
    assert not os.path.exists(f"/dev/shm/{unique_name}")


def test_close_wakes_a_read_blocked_in_another_thread(unique_name):
    reader = zl.Reader(unique_name, 1024, peer_check_interval=3600)
    outcome = []
    waiting = threading.Event()

    def blocked():
        waiting.set()
        try:
            reader.read()  # no timeout: only close can end it
        except ValueError as e:
            outcome.append(str(e))

    t = threading.Thread(target=blocked)
    t.start()
    assert waiting.wait(30)
    reader.close()
    t.join(60)
    assert not t.is_alive() and outcome and "closed" in outcome[0]


def test_metadata_view_survives_close(unique_name):
    reader = zl.Reader(unique_name, 1024, 256)
    with zl.Writer(unique_name) as writer:
        writer.set_metadata(b"calibration")
    meta = reader.metadata()
    reader.close()
    assert bytes(meta) == b"calibration"
    with pytest.raises(ValueError, match="closed"):
        reader.metadata()
    del meta
