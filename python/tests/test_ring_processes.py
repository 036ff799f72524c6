"""Rings across real processes: Python writer to Python reader, kill -9 of either side, resync after a crash."""

import os
import signal
import subprocess

import pytest

import zerolane as zl
from zerolane.errors import ReaderGoneError, WriterGoneError

from ringutil import OFF_WRITER_PID, OFF_WRITER_STATE, fill, free_bytes, pattern, word

WRITER_CHILD = r"""
import sys, zerolane as zl
sys.path.insert(0, sys.argv[3])
from ringutil import pattern
name, count = sys.argv[1], int(sys.argv[2])
with zl.Writer(name, connect_timeout=60) as w:
    for i in range(1, count + 1):
        w.write(pattern(i, 1 + (i * 37) % 900), timeout=60)
print("done", flush=True)
"""

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def test_python_writer_to_python_reader(unique_name, python_child):
    count = 5000
    with zl.Reader(unique_name, 16384) as reader:
        child = python_child(WRITER_CHILD, unique_name, str(count), TESTS_DIR)
        for i in range(1, count + 1):
            with reader.read(60) as frame:
                assert frame.sequence == i
                assert bytes(frame.data) == pattern(i, 1 + (i * 37) % 900)
        with pytest.raises(WriterGoneError) as gone:
            reader.read(60)
        assert gone.value.died is False
        assert child.wait(60) == 0, child.stderr.read()


def test_python_reader_child_to_python_writer(unique_name, python_child):
    code = r"""
import sys, zerolane as zl
with zl.Reader(sys.argv[1], 4096) as r:
    print("ready", flush=True)
    total = 0
    for frame in r:
        with frame:
            total += sum(frame.data)
    print(total, flush=True)
"""
    child = python_child(code, unique_name)
    assert child.stdout.readline().strip() == b"ready"
    expected = 0
    with zl.Writer(unique_name) as writer:
        for i in range(1, 3001):
            data = pattern(i, 1 + i % 300)
            expected += sum(data)
            writer.write(data, timeout=60)
    assert int(child.stdout.readline()) == expected
    assert child.wait(60) == 0


def test_kill_writer_reader_reads_everything_then_new_writer(unique_name, python_child):
    # The child writes 5 frames, then reserves space it never publishes (as a writer killed between reserving and
    # publishing would), then waits to be killed.
    code = r"""
import sys, zerolane as zl
w = zl.Writer(sys.argv[1])
for i in range(1, 6):
    w.write(bytes([i]) * 100)
w._w_free.add(-300)  # reserved, never published
print("ready", flush=True)
sys.stdin.read()
"""
    with zl.Reader(unique_name, 1024) as reader:
        child = python_child(code, unique_name, stdin=subprocess.PIPE)
        assert child.stdout.readline().strip() == b"ready"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        for i in range(1, 6):
            with reader.read(60) as frame:
                assert frame.sequence == i and bytes(frame.data) == bytes([i]) * 100
        with pytest.raises(WriterGoneError) as gone:
            reader.read(60)
        assert gone.value.died is True and "died" in str(gone.value)
        assert word(unique_name, OFF_WRITER_PID) == 0  # the reader cleared the dead writer's claim
        assert word(unique_name, OFF_WRITER_STATE) & 1 == 1  # it died connected
        # A new writer resynchronises (the 300 bytes come back) and continues; its frames start at sequence 1.
        with zl.Writer(unique_name) as writer:
            for i in range(1, 6):
                writer.write(bytes([i]) * 84, timeout=60)  # 100 bytes each with the header
            # resync put write_pos at read_pos (5 x 116 = 580): four frames up to 980, the fifth after a wrap that
            # wastes the 44-byte tail. Without the resync the 300 reserved bytes would be missing too.
            assert free_bytes(unique_name) == 1024 - 500 - 44
            for i in range(1, 6):
                with reader.read(60) as frame:
                    assert frame.sequence == i and bytes(frame.data) == bytes([i]) * 84


def test_kill_reader_writer_gets_reader_gone(unique_name, python_child):
    code = r"""
import sys, zerolane as zl
r = zl.Reader(sys.argv[1], 1024)
print("ready", flush=True)
sys.stdin.read()
"""
    child = python_child(code, unique_name, stdin=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    try:
        with zl.Writer(unique_name) as writer:
            fill(writer, 100)
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            with pytest.raises(ReaderGoneError, match="is gone"):
                writer.write(b"x" * 100, timeout=60)  # wakes at its next peer check and sees the reader dead
        # Another process's reader may meanwhile have removed the dead reader's buffer as stale (PROTOCOL.md
        # section 6), which the full suite's parallel tests do: then there is no buffer at all.
        with pytest.raises((ReaderGoneError, zl.BufferNotFoundError)):
            zl.Writer(unique_name)
    finally:
        # a new reader of the name removes the dead reader's objects; closing it removes its own
        zl.Reader(unique_name, 1024).close()


def test_reader_close_wakes_blocked_writer(unique_name, python_child):
    code = r"""
import sys, zerolane as zl
r = zl.Reader(sys.argv[1], 1024, peer_check_interval=3600)
print("ready", flush=True)
sys.stdin.readline()
r.close()
print("closed", flush=True)
sys.stdin.read()
"""
    child = python_child(code, unique_name, stdin=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"ready"
    with zl.Writer(unique_name, peer_check_interval=3600) as writer:
        fill(writer, 100)
        child.stdin.write(b"go\n")
        child.stdin.flush()
        # the reader posts sem-r when it closes: the writer notices at once, not at a peer check an hour away
        with pytest.raises(ReaderGoneError):
            writer.write(b"x" * 100, timeout=120)
    assert child.stdout.readline().strip() == b"closed"
    child.stdin.close()
    assert child.wait(60) == 0


def test_forgotten_close_leaves_nothing_at_exit(unique_name, python_child):
    code = r"""
import sys, zerolane as zl
reader = zl.Reader(sys.argv[1], 1024)
writer = zl.Writer(sys.argv[1])
writer.write(b"x")
frame = reader.read(5)
view = frame.data  # still held at exit
print("ok", flush=True)
"""
    child = python_child(code, unique_name)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == b"ok" and b"Exception" not in err, err
    # the unique_name fixture checks that nothing is left in /dev/shm or the lock directory
