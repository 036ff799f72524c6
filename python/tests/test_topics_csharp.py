"""Topics across languages and real processes: the C# tool (`zerolane pub` / `sub` / `topics`) against Python.

Waits for the other process are bounded polls on what it has done (a file in /dev/shm, the segment's "published" word,
a line on its output), never sleeps that must be long enough.
"""

import hashlib
import json
import os
import signal
import subprocess

import pytest

import zerolane
from zerolane import _posix as px
from zerolane import topics as zt

from test_topics import DEADLINE, read_line, wait_until


def files(topic: str, kind: str) -> list[str]:
    """The topic's publisher segments ('p') or subscriber semaphores ('s') in /dev/shm now."""
    prefix = f"zlt.{topic}.p." if kind == "p" else f"sem.zlt.{topic}.s."
    return [f for f in os.listdir("/dev/shm") if f.startswith(prefix)]


def published(topic: str) -> int:
    """The "published" word of the topic's one publisher segment (0 if there is none yet)."""
    segments = files(topic, "p")
    if not segments:
        return 0
    try:
        shm = px.SharedMemory.open(segments[0])
    except (FileNotFoundError, ValueError):
        return 0
    try:
        if shm.size < zt.HEADER_SIZE or px.load_u32(shm.mmap, zt.STATE) == zt.SEGMENT_CREATING:
            return 0
        return px.load_u64(shm.mmap, zt.PUBLISHED)
    finally:
        shm.close()


def read_all(sub, timeout=DEADLINE):
    got = []
    while True:
        try:
            sample = sub.read(timeout=timeout)
        except zerolane.WriterGoneError as gone:
            return got, gone.died
        with sample:
            got.append(bytes(sample.data))


def test_csharp_publisher_to_python_subscriber_lines(unique_name, cli):
    with zerolane.Subscriber(unique_name) as sub:
        pub = cli("pub", unique_name, "--subscribers", "1", stdin=subprocess.PIPE)
        pub.stdin.write(b"one\ntwo\nthree\n")
        pub.stdin.close()
        got, died = read_all(sub)
        assert pub.wait(DEADLINE) == 0, pub.stderr.read()
    assert (got, died) == ([b"one\n", b"two\n", b"three\n"], False)


def test_csharp_publisher_to_python_subscriber_binary_chunks(unique_name, cli, tmp_path):
    data = os.urandom(100_000)
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    with zerolane.Subscriber(unique_name, block_publisher=True) as sub:
        pub = cli("pub", unique_name, "--subscribers", "1", "--in", str(path), "--size", "4096", "--ack-timeout", "60")
        got, died = read_all(sub)
        assert pub.wait(DEADLINE) == 0, pub.stderr.read()
    assert not died
    assert [len(chunk) for chunk in got] == [4096] * 24 + [100_000 - 24 * 4096]
    assert b"".join(got) == data


def test_python_publisher_to_csharp_subscriber(unique_name, cli, tmp_path):
    # --out: a pipe the test does not read meanwhile would fill up and stop the subscriber.
    sub = cli("sub", unique_name, "-n", "50", "--overflow", "block", "--timeout", str(DEADLINE), "--out", str(tmp_path / "out"))
    expected = hashlib.sha256()
    with zerolane.Publisher(unique_name, slot_capacity=8192, slots=4, acknowledge_timeout=None) as pub:
        wait_until(lambda: pub.subscriber_count == 1, "the C# subscriber to join")
        for i in range(50):
            payload = bytes([i]) * (1 + i * 131 % 8000)
            expected.update(payload)
            pub.write(payload)
        out, err = sub.communicate(timeout=DEADLINE)
    assert sub.returncode == 0, err
    assert hashlib.sha256((tmp_path / "out").read_bytes()).hexdigest() == expected.hexdigest()


def test_csharp_subscriber_there_before_the_python_publisher_misses_nothing(unique_name, cli):
    sub = cli("sub", unique_name, "-n", "5", "--timeout", str(DEADLINE))
    wait_until(lambda: files(unique_name, "s"), "the C# subscriber's semaphore")
    with zerolane.Publisher(unique_name, slot_capacity=64, queue_depth=8) as pub:
        for i in range(5):
            pub.write(b"<%d>" % i)  # queued for it before it has looked at this publisher
        out, err = sub.communicate(timeout=DEADLINE)
    assert sub.returncode == 0, err
    assert out == b"<0><1><2><3><4>"


def test_python_subscriber_joins_a_csharp_publisher_late_and_gets_its_history(unique_name, cli):
    pub = cli("pub", unique_name, "--history", "3", "--slots", "8", stdin=subprocess.PIPE)
    pub.stdin.write(b"".join(b"%d\n" % i for i in range(6)))
    pub.stdin.flush()
    wait_until(lambda: published(unique_name) == 6, "the C# publisher to publish 6 samples")
    with zerolane.Subscriber(unique_name) as sub:
        got = [bytes(sub.read(DEADLINE).data) for _ in range(3)]
        assert got == [b"3\n", b"4\n", b"5\n"]
        pub.stdin.write(b"6\n")
        pub.stdin.close()
        rest, died = read_all(sub)
    assert (rest, died) == ([b"6\n"], False)
    assert pub.wait(DEADLINE) == 0


def test_kill9_of_a_csharp_publisher(unique_name, cli):
    with zerolane.Subscriber(unique_name) as sub:
        pub = cli("pub", unique_name, "--subscribers", "1", stdin=subprocess.PIPE)
        pub.stdin.write(b"a\nb\nc\n")
        pub.stdin.flush()
        wait_until(lambda: published(unique_name) == 3, "the C# publisher to publish 3 samples")
        os.kill(pub.pid, signal.SIGKILL)
        pub.wait()
        got, died = read_all(sub)
        assert (got, died) == ([b"a\n", b"b\n", b"c\n"], True)
        # The dead publisher's segment and semaphore were removed by the subscriber.
        assert not files(unique_name, "p")
        assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"sem.zlt.{unique_name}.p.")]


def test_kill9_of_a_python_subscriber_frees_the_csharp_publisher(unique_name, cli, python_child):
    child = python_child(
        "import sys, time, zerolane\n"
        "sub = zerolane.Subscriber(sys.argv[1])\n"
        "print('joined', flush=True)\n"
        "s = sub.read(60)\n"
        "print('holding', flush=True)\n"
        "time.sleep(600)\n", unique_name, bufsize=0)
    assert read_line(child) == "joined"
    pub = cli("pub", unique_name, "--subscribers", "1", "--slots", "1", "--ack-timeout", str(DEADLINE),
              stdin=subprocess.PIPE)
    pub.stdin.write(b"first\n")
    pub.stdin.flush()
    assert read_line(child) == "holding"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    # The only slot is held by the dead subscriber: the C# publisher takes it back at its liveness check.
    pub.stdin.write(b"second\n")
    pub.stdin.close()
    assert pub.wait(DEADLINE) == 0, pub.stderr.read()
    wait_until(lambda: not files(unique_name, "s"), "the dead subscriber's semaphore to be removed")


def test_kill9_of_a_python_publisher_seen_by_the_csharp_subscriber(unique_name, cli, python_child):
    sub = cli("sub", unique_name, "--timeout", str(DEADLINE))
    wait_until(lambda: files(unique_name, "s"), "the C# subscriber's semaphore")
    child = python_child(
        "import sys, time, zerolane\n"
        "pub = zerolane.Publisher(sys.argv[1], slot_capacity=64, queue_depth=8)\n"
        "for i in range(3): pub.write(b'p%d' % i)\n"
        "print('written', flush=True)\n"
        "time.sleep(600)\n", unique_name, bufsize=0)
    assert read_line(child) == "written"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    out, err = sub.communicate(timeout=DEADLINE)
    assert out == b"p0p1p2"
    assert sub.returncode == 1 and b"died" in err
    wait_until(lambda: not files(unique_name, "p"), "the dead publisher's segment to be removed")
    assert not [f for f in os.listdir("/dev/shm") if f.startswith(f"sem.zlt.{unique_name}.p.")]


def test_csharp_inspector_lists_python_participants(unique_name, cli):
    with zerolane.Publisher(unique_name, slot_capacity=64, history=1, slots=3) as pub, \
            zerolane.Subscriber(unique_name, block_publisher=True) as sub:
        pub.write(b"abc")
        out, err = cli("topics", "--json").communicate(timeout=DEADLINE)
        with sub.read(DEADLINE) as sample:
            assert bytes(sample.data) == b"abc"
    topics = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    mine = [t for t in topics if t["topic"] == unique_name]
    assert len(mine) == 1, (out, err)
    (publisher,) = mine[0]["publishers"]
    assert publisher["id"] == f"{pub.id:016x}" and publisher["alive"] and publisher["state"] == "open"
    assert publisher["samplesPublished"] == 1 and publisher["historyCapacity"] == 1 and publisher["maxSampleSize"] == 64
    (entry,) = publisher["subscribers"]
    assert entry["id"] == f"{sub.id:016x}" and entry["state"] == "active" and entry["overflow"] == "block"
    assert entry["queued"] == 1


def test_csharp_subscriber_follows_a_growing_python_publisher(unique_name, cli, tmp_path):
    out = tmp_path / "out"
    sub = cli("sub", unique_name, "-n", "30", "--overflow", "block", "--timeout", str(DEADLINE), "--out", str(out))
    wait_until(lambda: files(unique_name, "s"), "the C# subscriber's semaphore")
    expected = b""
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=4, history=2, acknowledge_timeout=None) as pub:
        for i in range(1, 31):
            payload = bytes([i]) * (i * 150)
            expected += payload
            pub.write(payload)
        assert pub.growth_count == 6  # 192, 384, 768, 1536, 3072, 6144 bytes
        _, err = sub.communicate(timeout=DEADLINE)
    assert sub.returncode == 0, err
    assert out.read_bytes() == expected


def test_python_subscriber_and_csharp_inspector_see_a_grown_python_publisher(unique_name, cli):
    with zerolane.Subscriber(unique_name) as sub, \
            zerolane.Publisher(unique_name, slot_capacity=64, queue_depth=8) as pub:
        pub.write(b"a" * 100)
        with sub.read(DEADLINE) as sample:
            assert len(sample.data) == 100
        out, _ = cli("topics", "--json").communicate(timeout=DEADLINE)
    (topic,) = [t for t in map(json.loads, out.decode().splitlines()) if t["topic"] == unique_name]
    (publisher,) = [p for p in topic["publishers"] if p["state"] == "open"]
    assert publisher["id"] == f"{pub.id:016x}" and publisher["maxSampleSize"] == 128
    assert publisher["predecessor"] != "0000000000000000"


def test_csharp_subscriber_joins_late_and_reads_python_history(unique_name, cli):
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=8, history=3) as pub:
        for i in range(6):
            pub.write(b"<%d>" % i)
        sub = cli("sub", unique_name, "-n", "4", "--timeout", str(DEADLINE))
        wait_until(lambda: pub.subscriber_count == 1, "the C# subscriber to join")
        pub.write(b"<6>")
        out, err = sub.communicate(timeout=DEADLINE)
    assert sub.returncode == 0, err
    assert out == b"<3><4><5><6>"


class Counter:
    """A payload writer of 64 KiB whose first 8 bytes count the samples: write_modified rewrites only those."""

    size = 65536

    def __init__(self):
        self.n = 0
        self.full = self.modified = 0

    def get_size(self):
        return self.size

    def write_full(self, buf):
        self.full += 1
        buf[8:] = b"\x5A" * (self.size - 8)
        return self.write_modified(buf, counted=False)

    def write_modified(self, buf, counted=True):
        self.modified += counted
        buf[:8] = self.n.to_bytes(8, "little")
        self.n += 1
        return True


def test_payload_writer_samples_read_by_a_csharp_subscriber(unique_name, cli, tmp_path):
    out = tmp_path / "out"
    sub = cli("sub", unique_name, "-n", "20", "--overflow", "block", "--timeout", str(DEADLINE), "--out", str(out))
    writer = Counter()
    with zerolane.Publisher(unique_name, slot_capacity=Counter.size, slots=2, queue_depth=1,
                            acknowledge_timeout=None) as pub:
        wait_until(lambda: pub.subscriber_count == 1, "the C# subscriber to join")
        for _ in range(20):
            pub.write(writer)
        _, err = sub.communicate(timeout=DEADLINE)
    assert sub.returncode == 0, err
    # However many were updated in place (it depends on how soon the subscriber released), every sample is whole.
    assert writer.full + writer.modified == 20 and writer.full >= 1
    assert (pub.full_writes, pub.modified_writes) == (writer.full, writer.modified)
    data = out.read_bytes()
    assert data == b"".join(i.to_bytes(8, "little") + b"\x5A" * (Counter.size - 8) for i in range(20))


def test_csharp_publisher_to_a_python_callback(unique_name, cli):
    seen = []
    with zerolane.Subscriber(unique_name, block_publisher=True) as sub:
        with sub.subscribe(lambda sample: seen.append(bytes(sample.data))) as subscription:
            pub = cli("pub", unique_name, "--subscribers", "1", "--ack-timeout", str(DEADLINE), stdin=subprocess.PIPE)
            pub.stdin.write(b"".join(b"line %d\n" % i for i in range(20)))
            pub.stdin.close()
            assert pub.wait(DEADLINE) == 0, pub.stderr.read()
            wait_until(lambda: len(seen) == 20, "the callback to see 20 samples")
            assert subscription.error is None
    assert seen == [b"line %d\n" % i for i in range(20)]


def test_a_200_character_topic_both_ways(unique_name, cli, tmp_path):
    topic = unique_name + "L" * (200 - len(unique_name))  # segment names of ~230 characters
    with zerolane.Subscriber(topic) as sub:
        pub = cli("pub", topic, "--subscribers", "1", stdin=subprocess.PIPE)
        pub.stdin.write(b"from C#\n")
        pub.stdin.close()
        got, died = read_all(sub)
        assert pub.wait(DEADLINE) == 0, pub.stderr.read()
    assert (got, died) == ([b"from C#\n"], False)
    sub = cli("sub", topic, "-n", "1", "--timeout", str(DEADLINE))
    wait_until(lambda: files(topic, "s"), "the C# subscriber's semaphore")
    with zerolane.Publisher(topic, slot_capacity=64) as pub:
        pub.write(b"from Python")
        out, err = sub.communicate(timeout=DEADLINE)
    assert (sub.returncode, out) == (0, b"from Python"), err


def test_csharp_subscriber_joining_a_busy_python_publisher_gets_history_then_everything_once(unique_name, cli, tmp_path):
    """Joining while samples keep coming: the kept samples, then every later one, each exactly once (13.6)."""
    import threading
    out = tmp_path / "out"
    stop = threading.Event()
    with zerolane.Publisher(unique_name, slot_capacity=64, slots=12, history=4, queue_depth=4,
                            acknowledge_timeout=None) as pub:
        for n in range(10):
            pub.write(b"%08d" % n)
        sub = cli("sub", unique_name, "-n", "200", "--overflow", "block", "--timeout", str(DEADLINE), "--out", str(out))
        wait_until(lambda: files(unique_name, "s"), "the C# subscriber's semaphore")
        # Keep publishing (numbers go on from 10) while it joins and reads.
        counter = iter(range(10, 10**9))
        worker = threading.Thread(target=lambda: [pub.write(b"%08d" % next(counter)) for _ in iter(stop.is_set, True)])
        worker.start()
        try:
            _, err = sub.communicate(timeout=DEADLINE)
        finally:
            stop.set()
            worker.join()
    assert sub.returncode == 0, err
    data = out.read_bytes()
    numbers = [int(data[i:i + 8]) for i in range(0, len(data), 8)]
    assert len(numbers) == 200
    assert numbers == list(range(numbers[0], numbers[0] + 200)), numbers[:20]


def test_python_subscriber_joining_a_busy_csharp_publisher_gets_history_then_everything_once(unique_name, cli):
    pub = cli("pub", unique_name, "--rate", "0", "--size", "64", "--history", "4", "--slots", "12",
              "--ack-timeout", str(DEADLINE))
    wait_until(lambda: published(unique_name) > 10, "the C# publisher to get going")
    with zerolane.Subscriber(unique_name, block_publisher=True) as sub:
        sequences = []
        for _ in range(300):
            with sub.read(DEADLINE) as sample:
                sequences.append(sample.sequence)
    pub.send_signal(signal.SIGINT)  # Ctrl+C: the tool leaves cleanly
    pub.wait(DEADLINE)
    assert sequences == list(range(sequences[0], sequences[0] + 300))
