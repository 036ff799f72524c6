"""Loans on the writing side (docs/PROTOCOL.md 4.7, "Loans"): no view of a loan's memory outlives its loan.

The rule under test, for ring loans, topic loans (and payload writers) and begin_message:
- commit raises BufferError while a view derived from the loan's data (slice, cast, NumPy array) is alive, leaves the
  loan open, and succeeds once the views are deleted; the commit releases ``data`` itself;
- a loan abandoned while such views live keeps its space out of use: the writer refuses writes and loans with
  BufferError until the last view is gone, then goes on; that space is never published.
Nothing here depends on timing: threads hand views over with events and are joined; garbage is collected explicitly.
"""

import ctypes
import gc
import threading

import numpy as np
import pytest

import zerolane as zl
from zerolane.messages import Message, begin_message, next_message, write_message

DEADLINE = 30.0

DERIVED = {
    "slice": lambda d: d[2:10],
    "cast": lambda d: d.cast("B", (len(d),)),
    "memoryview": lambda d: memoryview(d),
    "numpy": lambda d: np.frombuffer(d, np.uint8),
    "numpy-of-slice": lambda d: np.frombuffer(d[8:16], np.uint64),
    "numpy-view": lambda d: np.frombuffer(d, np.uint8)[4:].view(np.uint32),
    "exporter": lambda d: d.obj,  # the ctypes array itself
    "ctypes": lambda d: (ctypes.c_ubyte * 4).from_buffer(d),
}


def read_all(reader):
    got = []
    while (frame := reader.try_read(0)) is not None:
        with frame:
            got.append((frame.sequence, bytes(frame.data)))
    return got


# ------------------------------------------------------------------------------------------------------------ rings


@pytest.mark.parametrize("kind", sorted(DERIVED))
def test_ring_commit_refuses_while_a_view_lives(unique_name, kind):
    with zl.Reader(unique_name, 4096) as reader, zl.Writer(unique_name) as writer:
        loan = writer.loan(64)
        loan.data[:5] = b"hello"
        view = DERIVED[kind](loan.data)
        with pytest.raises(BufferError, match=r"view of loan\.data .* still alive; delete it before commit"):
            loan.commit(5)
        assert loan.open
        assert reader.try_read(0) is None  # nothing published
        with pytest.raises(BufferError):
            loan.commit(5)  # still refused: the view still lives
        del view
        assert loan.commit(5) == 1
        assert not loan.open
        with pytest.raises(ValueError):
            loan.data
        assert read_all(reader) == [(1, b"hello")]


def test_ring_normal_patterns(unique_name):
    with zl.Reader(unique_name, 4096) as reader, zl.Writer(unique_name) as writer:
        src = bytes(range(64))
        with writer.loan(64) as loan:
            loan.data[:10] = src[:10]
            assert loan.commit(10) == 1
        loan = writer.loan(64)
        buf = loan.data  # loan.data itself (not derived from it) may be kept: the commit releases it
        buf[:3] = b"abc"
        np.frombuffer(buf, np.uint8)[3:6] = [1, 2, 3]  # a temporary array, gone before the commit
        assert loan.commit(6) == 2
        with pytest.raises(ValueError, match="released"):
            buf[0] = 0  # writes through it after the commit are impossible
        with writer.loan(8) as loan:
            loan.data[:] = b"ABCDEFGH"
            loan.commit()
        assert writer.write(b"copy") == 4
        assert read_all(reader) == [(1, src[:10]), (2, b"abc\x01\x02\x03"), (3, b"ABCDEFGH"), (4, b"copy")]


def test_ring_refused_commit_keeps_the_written_bytes(unique_name):
    with zl.Reader(unique_name, 4096) as reader, zl.Writer(unique_name) as writer:
        loan = writer.loan(16)
        arr = np.frombuffer(loan.data, np.uint8)
        arr[:] = 7
        with pytest.raises(BufferError):
            loan.commit()
        del arr
        loan.data[0] = 1  # loan.data is usable again after the refusal
        loan.commit()
        assert read_all(reader) == [(1, b"\x01" + b"\x07" * 15)]


@pytest.mark.parametrize("how", ["with", "abandon", "close"])
def test_ring_abandoned_loan_with_a_live_view_blocks_reuse(unique_name, how):
    with zl.Reader(unique_name, 1024) as reader:
        writer = zl.Writer(unique_name)
        try:
            assert writer.write(b"first") == 1
            if how == "with":
                with writer.loan(100) as loan:
                    kept = np.frombuffer(loan.data, np.uint8)
            else:
                loan = writer.loan(100)
                kept = loan.data[10:20]
                if how == "abandon":
                    loan.abandon()
                else:
                    writer.close()
            assert not loan.open
            if how == "close":
                # The disconnect waits for the view: the ring keeps this writer, so no other writer (of any process)
                # can have frames written through the view.
                assert reader.writer_connected
                with pytest.raises(zl.WriterAlreadyConnectedError):
                    zl.Writer(unique_name)
            else:
                assert writer.loan_pinned
                with pytest.raises(BufferError, match="abandoned loan .* still has a view"):
                    writer.write(b"second")
                with pytest.raises(BufferError, match="abandoned loan .* still has a view"):
                    writer.loan(10)
                with pytest.raises(BufferError):
                    writer.write([b"a", b"b"])
            memoryview(kept).cast("B")[:] = b"\x55" * len(kept)  # the view stays valid memory; its bytes are never published
            assert read_all(reader) == [(1, b"first")]
            del kept
            if how == "close":
                assert not reader.writer_connected
                writer = zl.Writer(unique_name)
            assert not writer.loan_pinned
            # the writer goes on normally; fill the ring several times over the abandoned space
            for i in range(40):
                writer.write(bytes([i]) * 60)
                got = read_all(reader)
                assert [data for _, data in got] == [bytes([i]) * 60]
        finally:
            writer.close()


def test_ring_view_in_a_reference_cycle_is_pinned_until_collected(unique_name):
    with zl.Reader(unique_name, 4096) as reader, zl.Writer(unique_name) as writer:
        gc.disable()
        try:
            loan = writer.loan(32)
            cycle = [loan.data[:4]]
            cycle.append(cycle)
            loan.abandon()
            del cycle
            assert writer.loan_pinned  # unreachable, but not yet collected
            with pytest.raises(BufferError):
                writer.write(b"x")
        finally:
            gc.enable()
        gc.collect()
        assert not writer.loan_pinned
        assert writer.write(b"x") == 1
        assert read_all(reader) == [(1, b"x")]


def test_ring_views_in_another_thread(unique_name):
    with zl.Reader(unique_name, 4096) as reader, zl.Writer(unique_name) as writer:
        taken, wrote, drop, dropped = (threading.Event() for _ in range(4))
        errors = []

        def worker(data):
            try:
                view = np.frombuffer(data[:8], np.uint8)  # derived in this thread
                del data
                taken.set()
                assert wrote.wait(DEADLINE)
                view[:] = 9
                assert drop.wait(DEADLINE)
                del view  # the last view goes in this thread
                dropped.set()
            except BaseException as e:  # noqa: BLE001 - reported to the test thread
                errors.append(e)
                taken.set()
                dropped.set()

        # commit: refused while the other thread's view lives, allowed once that thread dropped it
        loan = writer.loan(8)
        t = threading.Thread(target=worker, args=(loan.data,))
        t.start()
        assert taken.wait(DEADLINE)
        wrote.set()
        with pytest.raises(BufferError):
            loan.commit()
        drop.set()
        assert dropped.wait(DEADLINE)
        t.join(DEADLINE)
        assert not errors
        loan.commit()
        assert read_all(reader) == [(1, b"\x09" * 8)]

        # abandon: the writer is blocked until the other thread drops the view (its weakref callback runs there)
        for e in (taken, wrote, drop, dropped):
            e.clear()
        loan = writer.loan(8)
        t = threading.Thread(target=worker, args=(loan.data,))
        t.start()
        assert taken.wait(DEADLINE)
        loan.abandon()
        wrote.set()
        with pytest.raises(BufferError):
            writer.write(b"y")
        drop.set()
        t.join(DEADLINE)
        assert not errors and not t.is_alive()
        assert not writer.loan_pinned
        assert writer.write(b"y") == 2
        assert read_all(reader) == [(2, b"y")]


def test_ring_wrapping_never_reaches_a_refused_loan(unique_name):
    """A small ring wraps many times; a view kept across a refused commit only ever writes its own, unpublished
    frame, and every frame read holds exactly what was committed."""
    with zl.Reader(unique_name, 256) as reader, zl.Writer(unique_name) as writer:
        for i in range(200):
            loan = writer.loan(40)
            loan.data[:] = bytes([i % 256]) * 40
            view = loan.data[:40]
            with pytest.raises(BufferError):
                loan.commit(40)
            view[:] = bytes([i % 256]) * 40  # allowed: the loan is still open
            del view
            assert loan.commit(40) == i + 1
            got = read_all(reader)
            assert got == [(i + 1, bytes([i % 256]) * 40)]


# ----------------------------------------------------------------------------------------------------------- topics


@pytest.mark.parametrize("kind", sorted(DERIVED))
def test_topic_commit_refuses_while_a_view_lives(unique_name, kind):
    with zl.Subscriber(unique_name) as sub, zl.Publisher(unique_name, slot_capacity=64, slots=2,
                                                          allow_growth=False) as pub:
        loan = pub.loan(32)
        loan.data[:4] = b"topi"
        view = DERIVED[kind](loan.data)
        with pytest.raises(BufferError, match=r"view of loan\.data .* still alive"):
            loan.commit(4)
        assert sub.try_read(0) is None  # nothing published
        del view
        assert loan.commit(4) == 1
        with sub.read(DEADLINE) as sample:
            assert (bytes(sample.data), sample.sequence) == (b"topi", 1)


def test_topic_normal_pattern_and_kept_data(unique_name):
    with zl.Subscriber(unique_name) as sub, zl.Publisher(unique_name, slot_capacity=64, allow_growth=False) as pub:
        with pub.loan(16) as loan:
            buf = loan.data
            buf[:3] = b"abc"
            loan.commit(3)
        with pytest.raises(ValueError):
            buf[0] = 1  # the commit released loan.data itself
        with sub.read(DEADLINE) as sample:
            assert bytes(sample.data) == b"abc"


def test_topic_abandoned_loan_with_a_live_view_keeps_its_slot(unique_name):
    with zl.Subscriber(unique_name) as sub, zl.Publisher(unique_name, slot_capacity=64, slots=2,
                                                          allow_growth=False) as pub:
        with pub.loan(16) as loan:
            kept = np.frombuffer(loan.data, np.uint8)
        assert pub.loan_pinned
        with pytest.raises(BufferError, match="abandoned loan .* still has a view"):
            pub.write(b"next")
        with pytest.raises(BufferError):
            pub.loan(8)
        kept[:] = 1
        del kept
        assert not pub.loan_pinned
        for i in range(10):  # every slot is used again, many times
            pub.write(bytes([65 + i]) * 5)
            with sub.read(DEADLINE) as sample:
                assert bytes(sample.data) == bytes([65 + i]) * 5


def test_topic_payload_writer_keeping_a_view_publishes_nothing(unique_name):
    class Keeper:
        kept = None

        def get_size(self):
            return 8

        def write_full(self, buf):
            buf[:] = b"12345678"
            self.kept = buf[:4]  # kept past write_full: refused

    with zl.Subscriber(unique_name) as sub, zl.Publisher(unique_name, slot_capacity=64, allow_growth=False) as pub:
        keeper = Keeper()
        with pytest.raises(BufferError, match="kept a view of the slot"):
            pub.write(keeper)
        assert pub.loan_pinned
        with pytest.raises(BufferError):
            pub.write(b"x")
        keeper.kept = None
        assert pub.write(b"x") == 1
        with sub.read(DEADLINE) as sample:
            assert (bytes(sample.data), sample.sequence) == (b"x", 1)


def test_topic_views_in_another_thread(unique_name):
    with zl.Subscriber(unique_name) as sub, zl.Publisher(unique_name, slot_capacity=64, allow_growth=False) as pub:
        taken, drop = threading.Event(), threading.Event()

        def worker(data):
            view = data[:4]
            del data
            taken.set()
            drop.wait(DEADLINE)
            view[:] = b"thrd"
            del view

        loan = pub.loan(4)
        t = threading.Thread(target=worker, args=(loan.data,))
        t.start()
        assert taken.wait(DEADLINE)
        with pytest.raises(BufferError):
            loan.commit()
        drop.set()
        t.join(DEADLINE)
        assert not t.is_alive()
        assert loan.commit() == 1
        with sub.read(DEADLINE) as sample:
            assert bytes(sample.data) == b"thrd"


# --------------------------------------------------------------------------------------------------- begin_message


def test_begin_message_commit_refuses_while_a_view_lives(unique_name):
    with zl.Reader(unique_name, 1 << 16) as reader, zl.Writer(unique_name) as writer:
        with begin_message(writer, 4, [16, 100]) as loan:
            loan.body[:] = b"head"
            tensor = np.frombuffer(loan.part(0), np.float32)
            tensor[:] = [1, 2, 3, 4]
            piece = loan.part(1)[:10]
            piece[:5] = b"cut!!"
            with pytest.raises(BufferError):
                loan.commit(5)
            del tensor
            with pytest.raises(BufferError):
                loan.commit(5)  # the slice of part 1 still lives
            del piece
            assert bytes(loan.body) == b"head"  # new views of the same bytes after the refusals
            loan.commit(5)
        with next_message(reader, timeout=DEADLINE) as message:
            assert bytes(message.body) == b"head"
            assert message.part_as_array(0, np.float32).tolist() == [1, 2, 3, 4]
            assert bytes(message.part(1)) == b"cut!!"


def test_begin_message_releases_its_views_at_commit(unique_name):
    with zl.Reader(unique_name, 1 << 16) as reader, zl.Writer(unique_name) as writer:
        loan = begin_message(writer, 3, [2])
        body, part = loan.body, loan.part(0)  # the loan's own views may be kept: the commit releases them
        body[:] = b"abc"
        part[:] = b"de"
        loan.commit()
        with pytest.raises(ValueError):
            body[0] = 0
        with next_message(reader, timeout=DEADLINE) as message:
            assert (bytes(message.body), bytes(message.part(0))) == (b"abc", b"de")


def test_begin_message_abandoned_with_a_live_view_blocks_the_writer(unique_name):
    with zl.Reader(unique_name, 1 << 16) as reader, zl.Writer(unique_name) as writer:
        with begin_message(writer, 8) as loan:
            kept = np.frombuffer(loan.body, np.uint8)
        with pytest.raises(BufferError):
            write_message(writer, Message(b"blocked"))
        with pytest.raises(BufferError):
            begin_message(writer, 4)
        kept[:] = 3
        del kept
        write_message(writer, Message(b"after"))
        with next_message(reader, timeout=DEADLINE) as message:
            assert bytes(message.body) == b"after"
        assert reader.try_read(0) is None
