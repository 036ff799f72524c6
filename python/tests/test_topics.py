"""Topics from Python (PROTOCOL.md section 13): layout, publishing, subscribing, lifetimes, crashes, child processes.

No test depends on timing to pass: waits for another process are bounded polls with generous deadlines, and
"nothing is free" is provoked with an acknowledge timeout of 0 (a deterministic refusal), never with a race.
"""

import gc
import hashlib
import os
import signal
import time

import pytest

import zerolane
from zerolane import _posix as px
from zerolane import topics as zt

DEADLINE = 60.0  # seconds a poll for another process's progress may take before the test fails


def wait_until(condition, what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


def read_line(child) -> str:
    """The child's next line of output; fails (rather than hangs) if none comes within DEADLINE. Children are started
    with bufsize=0, so no line can hide in a buffer that select does not see."""
    import select
    ready, _, _ = select.select([child.stdout], [], [], DEADLINE)
    if not ready:
        raise AssertionError(f"the child wrote no line within {DEADLINE} s")
    line = child.stdout.readline().decode().strip()
    if not line:
        raise AssertionError(f"child ended: rc={child.wait()} stderr={child.stderr.read().decode()}")
    return line


def drain(sub, timeout=5.0):
    """Every sample until the last publisher leaves: [(bytes, sequence)]."""
    got = []
    while True:
        try:
            sample = sub.read(timeout=timeout)
        except zerolane.WriterGoneError as gone:
            assert not gone.died
            return got
        with sample:
            got.append((bytes(sample.data), sample.sequence))


# ----------------------------------------------------------------------------------------------------- layout

def test_geometry_follows_the_protocol_layout():
    g = zt.Geometry(entries=16, slots=8, capacity=1 << 20, depth=4)
    assert g.entry(0) == 256 and g.entry(1) == 256 + 192
    assert g.queues == zt._align(256 + 192 * 16, 64)
    assert g.queue_stride == 64  # 4 x u32 rounded up to 64
    assert g.slots_offset == zt._align(g.queues + 16 * 64, 64)
    assert g.data % 4096 == 0 and g.data >= g.slots_offset + 8 * 64
    assert g.total == g.data + 8 * (1 << 20)
    assert zt.MAX_HISTORY == 26


def _fake_segment(topic: str, geometry: zt.Geometry, **fields):
    """A publisher segment of this (live) process with a header written by hand."""
    name = f"zlt.{topic}.p.{os.getpid()}.{1:016x}"
    shm = px.SharedMemory.create(name, geometry.total)
    mm = shm.mmap
    px.store_u32(mm, zt.MAGIC, fields.get("magic", zt.MAGIC_VALUE))
    px.store_u32(mm, zt.VERSION, fields.get("version", 1) | (256 << 16))
    px.store_u64(mm, zt.PUBLISHER_PID, os.getpid())
    px.store_u32(mm, zt.MAX_SUBSCRIBERS, fields.get("entries", geometry.entries))
    px.store_u32(mm, zt.SLOT_COUNT, fields.get("slots", geometry.slots))
    px.store_u64(mm, zt.SLOT_CAPACITY, fields.get("capacity", geometry.capacity))
    px.store_u32(mm, zt.QUEUE_DEPTH, geometry.depth)
    px.store_u32(mm, zt.HISTORY_CAPACITY, fields.get("history", 0))
    px.store_u32(mm, zt.STATE, fields.get("state", zt.SEGMENT_OPEN))
    return name, shm


@pytest.mark.parametrize("field,value,error", [
    ("magic", 0x12345678, zerolane.IncompatibleBufferError),
    ("version", 2, zerolane.IncompatibleBufferError),
    ("entries", 64, zerolane.BufferCorruptedError),
    ("slots", 0, zerolane.BufferCorruptedError),
    ("capacity", 100, zerolane.BufferCorruptedError),       # not a multiple of 64
    ("capacity", 1 << 20, zerolane.BufferCorruptedError),   # more than the segment holds
    ("history", 8, zerolane.BufferCorruptedError),          # not fewer than the slots
    ("state", 7, zerolane.BufferCorruptedError),
])
def test_a_subscriber_refuses_a_bad_segment_naming_it(unique_name, field, value, error):
    g = zt.Geometry(entries=2, slots=8, capacity=64, depth=4)
    name, shm = _fake_segment(unique_name, g, **{field: value})
    try:
        px.Semaphore.create("/" + name).close()
        with pytest.raises(error) as caught:
            zerolane.Subscriber(unique_name)
        assert name in str(caught.value)
        if error is zerolane.BufferCorruptedError:
            assert str(caught.value).startswith(f"Buffer '{name}' is corrupted: ")
    finally:
        zt._close_mapping(shm)
        px.SharedMemory.unlink(name)
        px.Semaphore.unlink("/" + name)


def test_a_segment_still_being_created_is_left_for_later(unique_name):
    g = zt.Geometry(entries=2, slots=2, capacity=64, depth=4)
    name, shm = _fake_segment(unique_name, g, state=zt.SEGMENT_CREATING)
    try:
        assert zt.validate(shm.mmap, shm.size, name) is None
        with zerolane.Subscriber(unique_name) as sub:
            assert sub.publisher_count == 0
    finally:
        zt._close_mapping(shm)
        px.SharedMemory.unlink(name)


def test_names_and_options_are_checked(unique_name):
    with pytest.raises(zerolane.InvalidNameError):
        zerolane.Publisher("a/b")
    with pytest.raises(zerolane.InvalidNameError):
        zerolane.Subscriber(".hidden")
    with pytest.raises(ValueError):
        zerolane.Publisher(unique_name, slots=4, history=4)
    with pytest.raises(ValueError):
        zerolane.Publisher(unique_name, max_subscribers=64)
    with pytest.raises(ValueError):
        zerolane.Subscriber(unique_name, max_held=0)


def test_objects_are_named_and_locked_as_the_protocol_says(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=100, slots=3) as pub, zerolane.Subscriber(unique_name) as sub:
        segment = f"/dev/shm/zlt.{unique_name}.p.{os.getpid()}.{pub.id:016x}"
        assert os.path.exists(segment) and os.path.exists(f"/dev/shm/sem.zlt.{unique_name}.p.{os.getpid()}.{pub.id:016x}")
        assert os.path.exists(f"/dev/shm/sem.zlt.{unique_name}.s.{os.getpid()}.{sub.id:016x}")
        assert pub.id & 1 and sub.id & 1
        assert os.stat(segment).st_mode & 0o777 == 0o600
        assert pub.max_sample_size == 128  # rounded up to 64
        # The owner's flock is held: a cleaner cannot remove a live participant's files.
        assert not zt.try_remove_stale(segment)
        assert zt.remove_stale(zt.Names(unique_name)) == 0


# ------------------------------------------------------------------------------------------- publish / subscribe

def test_publish_copies_gathers_and_loans(unique_name):
    with zerolane.Subscriber(unique_name) as sub, zerolane.Publisher(unique_name, slot_capacity=64, allow_growth=False) as pub:
        assert pub.write(b"hello") == 1
        assert pub.write([b"ab", bytearray(b"cd"), memoryview(b"ef")]) == 2
        with pub.loan(10) as loan:
            loan.data[:3] = b"xyz"
            assert loan.commit(3) == 3
        with pub.loan(10) as loan:
            loan.data[:] = b"0123456789"  # abandoned: nothing is published
        with pytest.raises(zerolane.FrameTooLargeError):
            pub.write(b"x" * 65)
        with pytest.raises(ValueError):
            pub.write(b"")
        got = [(bytes(s.data), s.sequence) for s in (sub.read(DEADLINE), sub.read(DEADLINE), sub.read(DEADLINE))]
        assert got == [(b"hello", 1), (b"abcdef", 2), (b"xyz", 3)]
        pub.close()
        assert drain(sub) == []


def test_sample_fields(unique_name):
    with zerolane.Subscriber(unique_name) as sub, zerolane.Publisher(unique_name, slot_capacity=64) as pub:
        before = time.time_ns()
        pub.write(b"abc")
        with sub.read(timeout=DEADLINE) as sample:
            assert sample.publisher_id == pub.id
            assert sample.sequence == 1 and len(sample) == 3
            assert before <= sample.timestamp_ns <= time.time_ns()
            assert abs(sample.timestamp - sample.timestamp_ns / 1e9) < 1e-3
            assert sample.data.readonly and sample.data.format == "B"
            with pytest.raises(TypeError):
                sample.data[0] = 1


def test_subscriber_there_before_the_publisher_misses_nothing(unique_name):
    with zerolane.Subscriber(unique_name) as sub:
        with zerolane.Publisher(unique_name, slot_capacity=64, queue_depth=8) as pub:
            for i in range(5):
                pub.write(b"%d" % i)  # before the subscriber has even looked
            got = []
            for _ in range(5):
                with sub.read(DEADLINE) as sample:
                    got.append(bytes(sample.data))
            assert got == [b"0", b"1", b"2", b"3", b"4"]
        assert drain(sub) == []


def test_joining_and_leaving_at_any_time(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64) as pub:
        pub.write(b"before anyone")
        first = zerolane.Subscriber(unique_name)
        pub.write(b"one")
        second = zerolane.Subscriber(unique_name)
        assert pub.subscriber_count == 2
        pub.write(b"two")
        assert bytes(first.read(DEADLINE).data) == b"one"
        assert bytes(second.read(DEADLINE).data) == b"two"
        first.close()
        pub.write(b"three")  # takes back the entry of the one that left
        assert pub.subscriber_count == 1
        with second.read(DEADLINE) as sample:
            assert bytes(sample.data) == b"three"
        second.close()
        pub.write(b"to nobody")
        assert pub.subscriber_count == 0


def test_history_for_late_joiners(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=8, history=3) as pub:
        for i in range(6):
            pub.write(b"%d" % i)
        with zerolane.Subscriber(unique_name) as sub:
            pub.write(b"6")
            got = []
            for _ in range(4):
                with sub.read(DEADLINE) as sample:
                    got.append((bytes(sample.data), sample.sequence))
            assert got == [(b"3", 4), (b"4", 5), (b"5", 6), (b"6", 7)]


def test_a_slow_subscriber_loses_its_oldest_and_slows_nobody(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=8, queue_depth=2, acknowledge_timeout=0) as pub:
        with zerolane.Subscriber(unique_name) as sub:
            for i in range(10):
                pub.write(b"%d" % i)
            assert pub.samples_dropped == 8
            assert sub.samples_dropped == 8
            assert [bytes(sub.read(DEADLINE).data) for _ in range(2)] == [b"8", b"9"]


def test_a_blocking_subscriber_makes_the_publisher_wait_then_drop(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=8, queue_depth=2, acknowledge_timeout=0) as pub:
        with zerolane.Subscriber(unique_name, block_publisher=True) as sub:
            for i in range(3):
                pub.write(b"%d" % i)  # the third waited 0 s for room, then dropped the oldest
            assert pub.samples_dropped == 1
            assert [bytes(sub.read(DEADLINE).data) for _ in range(2)] == [b"1", b"2"]


class CountingWriter:
    """A payload writer: 4 KiB, whose first byte counts the samples; write_modified rewrites only that byte."""

    def __init__(self, size=4096):
        self.size = size
        self.counter = 0
        self.full = 0
        self.modified = 0

    def get_size(self):
        return self.size

    def write_full(self, buf):
        self.full += 1
        buf[:] = bytes([self.counter % 256]) + b"\xAA" * (self.size - 1)
        self.counter += 1
        return True

    def write_modified(self, buf):
        self.modified += 1
        assert buf[1:] == b"\xAA" * (self.size - 1)  # the previous sample, byte for byte
        buf[0] = self.counter % 256
        self.counter += 1
        return True


def test_payload_writer_writes_modified_when_the_previous_slot_is_free(unique_name):
    writer = CountingWriter()
    with zerolane.Publisher(unique_name, slot_capacity=4096, slots=4) as pub, zerolane.Subscriber(unique_name) as sub:
        for i in range(5):
            assert pub.write(writer) == i + 1
            with sub.read(DEADLINE) as sample:
                assert sample.data[0] == i and bytes(sample.data[1:]) == b"\xAA" * 4095
        assert (writer.full, writer.modified) == (1, 4)
        assert (pub.full_writes, pub.modified_writes) == (1, 4)
        assert px.load_u64(pub._mm, zt.MODIFIED_WRITES) == 4
        # A sample still held: its slot is not free, so the next write is a full one into another slot.
        held = sub.read(DEADLINE) if pub.write(writer) else None
        pub.write(writer)
        assert writer.full == 2
        held.release()


def test_payload_writer_full_every_time_with_history_and_abandon(unique_name):
    writer = CountingWriter(64)
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=4, history=1) as pub:
        for _ in range(3):
            pub.write(writer)
        assert (writer.full, writer.modified) == (3, 0)

        class Abandoning:
            def get_size(self):
                return 8

            def write_full(self, buf):
                return False

        assert pub.write(Abandoning()) is None
        assert pub.samples_published == 3


# --------------------------------------------------------------------------------------------------- lifetimes

def test_a_view_keeps_the_slot_until_it_is_gone(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=1, queue_depth=1, acknowledge_timeout=0) as pub:
        with zerolane.Subscriber(unique_name) as sub:
            pub.write(b"first")
            sample = sub.read(DEADLINE)
            view = sample.data[1:3]
            sample.release()
            with pytest.raises(ValueError):
                sample.data
            assert sub.samples_held == 1  # deferred: the slice is alive
            with pytest.raises(TimeoutError):
                pub.write(b"second")  # the only slot is still held
            assert bytes(view) == b"ir"
            del view
            assert sub.samples_held == 0
            pub.write(b"second")
            with sub.read(DEADLINE) as again:
                assert bytes(again.data) == b"second"


def test_a_sample_never_released_goes_with_its_last_view(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=1, acknowledge_timeout=0) as pub:
        with zerolane.Subscriber(unique_name) as sub:
            pub.write(b"a")
            sub.read(DEADLINE)  # dropped at once
            gc.collect()
            assert sub.samples_held == 0
            pub.write(b"b")
            assert bytes(sub.read(DEADLINE).data) == b"b"


def test_numpy_view_keeps_the_sample_alive(unique_name):
    np = pytest.importorskip("numpy")
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=1, acknowledge_timeout=0) as pub:
        with zerolane.Subscriber(unique_name) as sub:
            pub.write(np.arange(8, dtype=np.int32))
            with sub.read(DEADLINE) as sample:
                array = np.frombuffer(sample.data, dtype=np.int32)
            assert not array.flags.writeable
            with pytest.raises(TimeoutError):
                pub.write(b"x")
            assert array.tolist() == list(range(8))
            # Zero copy: the array's memory lies in the publisher's segment, mapped here by the subscriber.
            del array
            pub.write(b"x")


def test_samples_released_in_another_thread_and_as_arrays(unique_name):
    np = pytest.importorskip("numpy")
    import threading
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=3, acknowledge_timeout=0) as pub:
        with zerolane.Subscriber(unique_name, max_held=3) as sub:
            for i in range(3):
                pub.write(np.full(4, i, dtype=np.uint16))
            samples = [sub.read(DEADLINE) for _ in range(3)]
            arrays = [s.as_array(np.uint16, (2, 2)) for s in samples]
            with pytest.raises(TimeoutError):
                pub.write(b"x")  # every slot is held
            worker = threading.Thread(target=lambda: [s.release() for s in samples])
            worker.start()
            worker.join()
            assert sub.samples_held == 3  # the arrays still hold them
            assert [a.tolist() for a in arrays] == [[[i, i], [i, i]] for i in range(3)]
            arrays.clear()
            assert sub.samples_held == 0
            pub.write(b"x")


def test_views_outlive_the_subscriber_and_the_publisher(unique_name):
    pub = zerolane.Publisher(unique_name, slot_capacity=64, slots=1, acknowledge_timeout=0)
    sub = zerolane.Subscriber(unique_name)
    pub.write(b"still here")
    view = sub.read(DEADLINE).data
    sub.close()
    with pytest.raises(TimeoutError):
        pub.write(b"x")  # the closed subscriber's entry stays while the view lives: the slot cannot be rewritten
    pub.close()  # the segment's name goes; the pages stay mapped while the view lives
    assert bytes(view) == b"still here"
    del view


def test_max_held(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64) as pub, zerolane.Subscriber(unique_name, max_held=2) as sub:
        for i in range(3):
            pub.write(b"%d" % i)
        a, b = sub.read(DEADLINE), sub.read(DEADLINE)
        with pytest.raises(ValueError, match="max_held"):
            sub.read(DEADLINE)
        a.release()
        assert bytes(sub.read(DEADLINE).data) == b"2"
        b.release()


def test_read_times_out(unique_name):
    with zerolane.Subscriber(unique_name) as sub:
        with pytest.raises(TimeoutError):
            sub.read(timeout=0)
        assert sub.try_read(0) is None


def test_subscribe_runs_a_callback_thread_until_closed(unique_name):
    seen = []
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=12, queue_depth=16) as pub, zerolane.Subscriber(unique_name) as sub:
        with sub.subscribe(lambda sample: seen.append((bytes(sample.data), sample.sequence))) as subscription:
            for i in range(10):
                pub.write(b"%d" % i)
            wait_until(lambda: len(seen) == 10, "the callback to see 10 samples")
            assert subscription.running and subscription.error is None
        assert not subscription.running
        assert seen == [(b"%d" % i, i + 1) for i in range(10)]
        assert sub.samples_held == 0


def test_subscription_reports_a_callback_error(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64) as pub, zerolane.Subscriber(unique_name) as sub:
        def fail(sample):
            raise RuntimeError("boom")

        subscription = sub.subscribe(fail)
        pub.write(b"x")
        wait_until(lambda: not subscription.running, "the subscription to stop")
        assert isinstance(subscription.error, RuntimeError)
        subscription.close()


def test_closing_the_subscriber_stops_its_subscriptions(unique_name):
    sub = zerolane.Subscriber(unique_name)
    subscription = sub.subscribe(lambda sample: None)
    sub.close()
    assert not subscription.running
    subscription.close()


# ------------------------------------------------------------------------------------------------ processes

SUBSCRIBER_CHILD = r"""
import hashlib, sys, zerolane
sub = zerolane.Subscriber(sys.argv[1], block_publisher=True)
print("joined", flush=True)
digest, count = hashlib.sha256(), 0
for sample in sub:
    digest.update(sample.data)
    count += 1
sub.close()
print(count, digest.hexdigest(), flush=True)
"""


def test_python_publisher_to_python_subscribers_in_child_processes(unique_name, python_child):
    children = [python_child(SUBSCRIBER_CHILD, unique_name, bufsize=0) for _ in range(3)]
    for child in children:
        assert read_line(child) == "joined"
    expected = hashlib.sha256()
    with zerolane.Publisher(unique_name, slot_capacity=4096, slots=4, queue_depth=2, acknowledge_timeout=None) as pub:
        wait_until(lambda: pub.subscriber_count == 3, "3 subscribers")
        for i in range(200):
            payload = bytes([i % 256]) * (1 + i * 17 % 4000)
            expected.update(payload)
            pub.write(payload)
    for child in children:
        assert read_line(child) == f"200 {expected.hexdigest()}"
        assert child.wait(DEADLINE) == 0


HOLDING_SUBSCRIBER = r"""
import sys, zerolane, time
sub = zerolane.Subscriber(sys.argv[1])
print("joined", flush=True)
sample = sub.read(60)
print("holding", bytes(sample.data).decode(), flush=True)
time.sleep(600)
"""


def test_kill9_of_a_subscriber_gives_its_slots_back(unique_name, python_child):
    child = python_child(HOLDING_SUBSCRIBER, unique_name, bufsize=0)
    assert read_line(child) == "joined"
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=1, acknowledge_timeout=0) as pub:
        wait_until(lambda: pub.subscriber_count == 1, "the child to join")
        pub.write(b"mine")
        assert read_line(child) == "holding mine"
        with pytest.raises(TimeoutError):
            pub.write(b"x")  # the child holds the only slot
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        # The next write with time to wait checks liveness, takes the dead entry back and its slot.
        pub.write(b"after", timeout=DEADLINE)
        assert pub.subscriber_count == 0
        # Its semaphore went with it (the publisher removed it as stale).
        assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"sem.zlt.{unique_name}.s.")]


PUBLISHER_CHILD = r"""
import sys, zerolane, time
pub = zerolane.Publisher(sys.argv[1], slot_capacity=64, queue_depth=8)
print("ready", flush=True)
sys.stdin.readline()
for i in range(3):
    pub.write(b"s%d" % i)
print("written", flush=True)
time.sleep(600)
"""


def test_kill9_of_the_publisher_ends_with_writer_died_after_its_samples(unique_name, python_child):
    import subprocess
    child = python_child(PUBLISHER_CHILD, unique_name, stdin=subprocess.PIPE, bufsize=0)
    assert read_line(child) == "ready"
    with zerolane.Subscriber(unique_name) as sub:
        wait_until(lambda: sub.publisher_count == 1 or sub.try_read(0) is not None, "the subscriber to find the child")
        child.stdin.write(b"go\n")
        child.stdin.flush()
        assert read_line(child) == "written"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        got = []
        with pytest.raises(zerolane.WriterGoneError) as gone:
            while True:
                with sub.read(DEADLINE) as sample:
                    got.append(bytes(sample.data))
        assert gone.value.died
        assert got == [b"s0", b"s1", b"s2"]
        # The dead publisher's files were removed; a new publisher is joined like any other.
        assert not [f for f in os.listdir("/dev/shm") if f".{unique_name}.p." in f]
        with zerolane.Publisher(unique_name, slot_capacity=64) as pub:
            pub.write(b"new")
            with sub.read(DEADLINE) as sample:
                assert bytes(sample.data) == b"new"


def test_stale_files_of_dead_participants_are_removed(unique_name, python_child):
    child = python_child(
        "import sys, zerolane, os, signal\n"
        "p = zerolane.Publisher(sys.argv[1], slot_capacity=64)\n"
        "s = zerolane.Subscriber(sys.argv[1])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n", unique_name)
    child.wait()
    assert len([f for f in os.listdir("/dev/shm") if unique_name in f]) == 3
    assert zt.remove_stale(zt.Names(unique_name)) == 2
    assert not [f for f in os.listdir("/dev/shm") if unique_name in f]


# ------------------------------------------------------------------------------------------------------ growth

def test_growth_moves_subscribers_to_larger_slots_losing_nothing(unique_name):
    with zerolane.Subscriber(unique_name) as early:
        with zerolane.Publisher(unique_name, slot_capacity=64, slots=4, queue_depth=8, history=2) as pub:
            pub.write(b"small-1")
            pub.write(b"small-2")
            first_segment = pub.segment_name
            big = bytes(range(256)) * 4
            pub.write(big)  # 1024 bytes: grows to slots of at least 1024
            assert pub.growth_count == 1 and pub.max_sample_size == 1024
            assert pub.segment_name != first_segment
            pub.write(b"small-3")
            got = []
            for _ in range(4):
                with early.read(DEADLINE) as sample:
                    got.append((bytes(sample.data), sample.sequence, sample.publisher_id))
            assert got == [(b"small-1", 1, pub.id), (b"small-2", 2, pub.id), (big, 3, pub.id), (b"small-3", 4, pub.id)]
            # A subscriber that comes now joins the new segment and gets the kept history (copied over).
            with zerolane.Subscriber(unique_name) as late:
                pub.write(b"x" * 2000)  # grows again
                assert pub.growth_count == 2
                seen = [bytes(late.read(DEADLINE).data) for _ in range(3)]
                assert seen == [big, b"small-3", b"x" * 2000]
            with early.read(DEADLINE) as sample:
                assert bytes(sample.data) == b"x" * 2000
        assert drain(early) == []
    assert not [f for f in os.listdir("/dev/shm") if unique_name in f]


GROWING_PUBLISHER = r"""
import sys, zerolane
pub = zerolane.Publisher(sys.argv[1], slot_capacity=64, slots=4, queue_depth=4, acknowledge_timeout=None)
print("ready", flush=True)
sys.stdin.readline()
for i in range(1, 41):
    pub.write(bytes([i]) * (i * 100))  # grows four times on the way
print(pub.growth_count, flush=True)
pub.close()
"""


def test_growth_across_processes(unique_name, python_child):
    import subprocess
    child = python_child(GROWING_PUBLISHER, unique_name, stdin=subprocess.PIPE, bufsize=0)
    with zerolane.Subscriber(unique_name, block_publisher=True) as sub:
        assert read_line(child) == "ready"
        wait_until(lambda: sub.try_read(0) is not None or sub.publisher_count == 1, "the subscriber to join")
        child.stdin.write(b"go\n")
        child.stdin.flush()
        got = drain(sub, timeout=DEADLINE)
    assert [data for data, _ in got] == [bytes([i]) * (i * 100) for i in range(1, 41)]
    assert read_line(child) == "6"
    assert child.wait(DEADLINE) == 0


def test_the_readme_example_runs(unique_name):
    pytest.importorskip("numpy")
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("\n## Topics", 1)[1].split("\n## ", 1)[0]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block.replace('"camera"', repr(unique_name)), "python/README.md, Topics", "exec"), {})


def test_two_publishers_one_subscriber(unique_name):
    with zerolane.Subscriber(unique_name) as sub:
        with zerolane.Publisher(unique_name, slot_capacity=64, queue_depth=8) as a, \
                zerolane.Publisher(unique_name, slot_capacity=64, queue_depth=8) as b:
            for i in range(3):
                a.write(b"a%d" % i)
                b.write(b"b%d" % i)
            got = {}
            for _ in range(6):
                with sub.read(DEADLINE) as sample:
                    got.setdefault(sample.publisher_id, []).append(bytes(sample.data))
            assert got == {a.id: [b"a0", b"a1", b"a2"], b.id: [b"b0", b"b1", b"b2"]}
            a.close()
            b.write(b"b3")  # one publisher leaving is not the end
            with sub.read(DEADLINE) as sample:
                assert bytes(sample.data) == b"b3"
        assert drain(sub) == []


def test_a_subscriber_finding_every_entry_taken_joins_when_one_frees(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64, max_subscribers=1) as pub:
        first = zerolane.Subscriber(unique_name)
        second = zerolane.Subscriber(unique_name)
        assert second.try_read(0) is None  # looked, found no free entry
        pub.write(b"for the first")
        assert bytes(first.read(DEADLINE).data) == b"for the first"
        assert second.try_read(0) is None
        first.close()
        pub.write(b"frees the entry")  # takes back the entry of the one that left
        assert second.try_read(0) is None  # joins now (the sample before it joined is not for it)
        pub.write(b"for the second")
        with second.read(DEADLINE) as sample:
            assert bytes(sample.data) == b"for the second"
        second.close()


def test_a_held_view_is_never_rewritten_however_often_the_publisher_goes_round(unique_name):
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=2, queue_depth=1, acknowledge_timeout=0) as pub, \
            zerolane.Subscriber(unique_name) as holder, zerolane.Subscriber(unique_name) as reader:
        pub.write(b"keep me")
        view = holder.read(DEADLINE).data  # the sample itself is dropped at once; the view holds its slot
        with reader.read(DEADLINE) as sample:
            assert bytes(sample.data) == b"keep me"
        for i in range(20):
            pub.write(b"overwrite %d" % i)  # the other slot, again and again (the holder's queued ones are dropped)
            with reader.read(DEADLINE) as sample:
                assert bytes(sample.data) == b"overwrite %d" % i
        assert bytes(view) == b"keep me"
        assert holder.samples_dropped == 19
        del view
        assert holder.samples_held == 0


def test_a_python_subscriber_joining_a_busy_publisher_gets_history_then_everything_once(unique_name):
    import threading
    stop = threading.Event()
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=12, history=4, queue_depth=4,
                            acknowledge_timeout=None) as pub:
        for n in range(10):
            pub.write(b"%08d" % n)
        worker = threading.Thread(target=lambda: [pub.write(b"x") for _ in iter(stop.is_set, True)])
        worker.start()
        try:
            with zerolane.Subscriber(unique_name, block_publisher=True) as sub:
                sequences = []
                for _ in range(200):
                    with sub.read(DEADLINE) as sample:
                        sequences.append(sample.sequence)
        finally:
            stop.set()
            worker.join()
    assert sequences == list(range(sequences[0], sequences[0] + 200))


def test_closing_a_publisher_wakes_a_write_waiting_in_another_thread(unique_name):
    import threading
    with zerolane.Subscriber(unique_name) as sub:
        pub = zerolane.Publisher(unique_name, slot_capacity=64, slots=1, acknowledge_timeout=None)
        pub.write(b"held")
        held = sub.read(DEADLINE)
        outcome = []

        def write():
            try:
                pub.write(b"waits")  # the only slot is held: waits until the close
            except ValueError as error:
                outcome.append(error)

        writer = threading.Thread(target=write)
        writer.start()
        wait_until(lambda: pub._waiting == 1, "the write to wait")
        pub.close()
        writer.join()
        assert len(outcome) == 1 and "closed" in str(outcome[0])
        held.release()


def test_kill9_of_a_blocking_subscriber_frees_a_publisher_waiting_for_it_forever(unique_name, python_child):
    import threading
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=4, queue_depth=1, acknowledge_timeout=None) as pub:
        child = python_child(
            "import sys, time, zerolane\n"
            "sub = zerolane.Subscriber(sys.argv[1], block_publisher=True)\n"  # joins the publisher
            "print('joined', flush=True)\n"
            "time.sleep(600)\n", unique_name, bufsize=0)  # and never reads
        assert read_line(child) == "joined"
        assert pub.subscriber_count == 1
        pub.write(b"fills its queue")
        done = threading.Event()
        writer = threading.Thread(target=lambda: (pub.write(b"waits for room"), done.set()))
        writer.start()
        wait_until(lambda: pub._waiting == 1, "the write to wait for the subscriber")
        assert not done.is_set()
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        writer.join(DEADLINE)
        assert done.is_set()
        pub.write(b"and on")
        assert pub.subscriber_count == 0


def test_kill9_of_a_subscriber_before_it_took_over_its_entry(unique_name, python_child):
    child = python_child(
        "import sys, time, zerolane\n"
        "sub = zerolane.Subscriber(sys.argv[1])\n"  # there before the publisher; never reads, so never takes over
        "print('there', flush=True)\n"
        "time.sleep(600)\n", unique_name, bufsize=0)
    assert read_line(child) == "there"
    with zerolane.Publisher(unique_name, slot_capacity=64) as pub:
        assert pub.subscriber_count == 1  # the entry the publisher made for it (13.4)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        # Writes go on; a liveness check lets go of the entry, and the dead subscriber's file goes with it.
        wait_until(lambda: pub.write(b"x") and pub.subscriber_count == 0, "the publisher to let go of the entry")
        assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"sem.zlt.{unique_name}.s.")]
