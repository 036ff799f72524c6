"""The Python side of `zerolane bench --only python`: a ZeroLane Python Reader measured against the C# RingWriter.

Started by the bench (bench/ZeroLane.Bench/BenchRunner.Python.cs) with the ring peers' options and speaking their lines:
"ready" once its buffer exists, then one JSON report. Roles:
  reader  creates the buffer, reads every frame in place, touches it exactly as the C# reader does (FrameToucher: one
          8-byte word per 4 KiB page plus the last 8 bytes), releases it, and counts the frames between the C# writer's
          Start and Stop control frames;
  echo    creates the ping buffer, connects a Writer to the initiator's pong buffer after its Hello, and answers every
          frame with a frame of the same size, as the C# echo does (touch, reply, then release).
With the command name bench-peer-python-topic (part python-topic) the same roles run over topics: the reader is a
Subscriber asking to block the publisher (a C# Publisher sends), the echo a Subscriber on the ping topic and a Publisher
on the pong topic. Zero copy is checked by address: the first data frame of each phase has its memoryview's address (taken through the
buffer protocol, which works on read-only views) looked up in /proc/self/maps, and it must lie inside this process's
mapping of /dev/shm/NAME; otherwise the peer fails. The report says where it was.
Standard input is never written by the parent: its end means the parent is gone, and the peer gives up.
"""

import argparse
import ctypes
import json
import os
import struct
import sys
import threading
import time

import zerolane

HELLO, START, STOP, HALF = 0, 1, 2, 3
POLL_SECONDS = 0.1
DEADLINE_SLACK_SECONDS = 60
PAGE = 4096
WAITS = {
    "busy-spin": "BUSY_SPIN",
    "spin-then-block": "SPIN_THEN_BLOCK",
    "blocking": "BLOCKING",
}


class Abandoned(Exception):
    """The parent is gone or the partner stopped answering."""


class Channel:
    """The parent's side: stdin's end means it is gone; an overall deadline ends every wait."""

    def __init__(self, warmup, seconds):
        self.parent_gone = False
        self.deadline = time.monotonic() + warmup + seconds + DEADLINE_SLACK_SECONDS
        threading.Thread(target=self._watch, name="bench parent watch", daemon=True).start()

    def _watch(self):
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader holds its lock, which the interpreter's
        # shutdown then waits for and aborts on.
        try:
            while os.read(0, 64):
                pass
        except OSError:
            pass
        self.parent_gone = True

    def check(self):
        if self.parent_gone:
            raise Abandoned("the bench parent process is gone")
        if time.monotonic() > self.deadline:
            raise Abandoned("the bench peer gave up: its partner stopped responding")


def make_toucher(frame_bytes):
    """FrameToucher.Touch: the sum of the 8-byte words at every 4 KiB step below the last word, plus the last word."""
    if frame_bytes < 8:
        return lambda view: view[0] if frame_bytes else 0
    last = frame_bytes - 8
    pages = len(range(0, last, PAGE))
    # One unpack of every page's word (a word, then the rest of its page skipped), one of the last word.
    page_words = struct.Struct("<" + "Q4088x" * (pages - 1) + "Q") if pages else None
    last_word = struct.Struct("<Q")

    def touch(view):
        total = last_word.unpack_from(view, last)[0]
        if page_words is not None:
            total += sum(page_words.unpack_from(view))
        return total

    return touch


class _PyBuffer(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_PyBuffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_PyBuffer)]
_release_buffer.restype = None


def address_of(view):
    """The address of a buffer's first byte, read-only buffers included (PyObject_GetBuffer with PyBUF_SIMPLE)."""
    buffer = _PyBuffer()
    if _get_buffer(view, ctypes.byref(buffer), 0) != 0:
        raise RuntimeError("PyObject_GetBuffer failed")
    try:
        return buffer.buf
    finally:
        _release_buffer(ctypes.byref(buffer))


class ZeroCopyCheck:
    """Checks that frames' memoryviews lie inside this process's mapping of the shared memory they were sent in: the
    ring's /dev/shm/NAME, or for a topic one of its publishers' segments, /dev/shm/zlt.TOPIC.*."""

    def __init__(self, name, topic=False):
        self.what = f"/dev/shm/zlt.{name}.*" if topic else f"/dev/shm/{name}"
        self.matches = (lambda path: path.startswith(f"/dev/shm/zlt.{name}.")) if topic else (lambda path: path == self.what)
        self.checks = 0
        self.last = None

    def check(self, view):
        address = address_of(view)
        end = address + len(view)
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split(None, 5)
                if len(fields) == 6 and self.matches(fields[5].strip()):
                    start, stop = (int(part, 16) for part in fields[0].split("-"))
                    if start <= address and end <= stop:
                        self.checks += 1
                        self.last = {"view": address, "start": start, "end": stop, "path": fields[5].strip()}
                        return
        raise RuntimeError(
            f"zero copy check failed: a frame's memoryview at {address:#x} (+{len(view)} B) is not inside this process's "
            f"mapping of {self.what}"
        )

    def report(self):
        return {"checks": self.checks, **(self.last or {})}


def read_until_control(reader, frame_bytes, touch, channel, zero_copy, totals):
    """Reads, touches and releases data frames until a control frame arrives; returns its code and the data frames read."""
    count = 0
    read = reader.read
    check_first = True
    while True:
        try:
            frame = read(POLL_SECONDS)
        except TimeoutError:
            channel.check()
            continue
        data = frame.data
        if len(data) != frame_bytes:
            code = data[0]
            del data
            frame.release()
            return code, count
        if check_first:
            zero_copy.check(data)
            check_first = False
        totals[0] += touch(data)
        del data
        frame.release()
        count += 1


def expect(actual, expected):
    if actual != expected:
        raise RuntimeError(f"bench peers out of step: expected control frame {expected}, got {actual}")


def warm_sleep_path(reader):
    """Sleeps once on the empty buffer, as the C# peers do, so the first wait's set-up is not measured."""
    frame = reader.try_read(0.002)
    if frame is not None:
        frame.release()
        raise RuntimeError("a frame arrived before any writer was started")


def report(frames, elapsed_ns, checksum, zero_copy):
    # No allocation figures: the Python side is not .NET (the bench shows the C# writer's).
    print(json.dumps({
        "frames": frames,
        "elapsed_ns": elapsed_ns,
        "allocated_bytes": 0,
        "allocated_bytes_per_frame": 0,
        "checksum": checksum & 0xFFFF_FFFF_FFFF_FFFF,
        "zero_copy": zero_copy.report(),
    }), flush=True)


def run_reader(options, wait, channel):
    touch = make_toucher(options.frame_bytes)
    zero_copy = ZeroCopyCheck(options.name)
    totals = [0]
    with zerolane.Reader(options.name, options.payload_bytes, wait=wait) as reader:
        warm_sleep_path(reader)
        print("ready", flush=True)
        code, _ = read_until_control(reader, options.frame_bytes, touch, channel, zero_copy, totals)
        expect(code, START)
        started = time.perf_counter_ns()
        code, first_half = read_until_control(reader, options.frame_bytes, touch, channel, zero_copy, totals)
        expect(code, HALF)
        code, second_half = read_until_control(reader, options.frame_bytes, touch, channel, zero_copy, totals)
        elapsed = time.perf_counter_ns() - started
        expect(code, STOP)
    report(first_half + second_half, elapsed, totals[0], zero_copy)


def read_one(reader, channel):
    while True:
        try:
            return reader.read(POLL_SECONDS)
        except TimeoutError:
            channel.check()


def echo_until_control(reader, writer, reply, touch, channel, zero_copy, totals):
    """Answers every data frame with `reply` until a control frame arrives; returns its code and the frames answered."""
    count = 0
    frame_bytes = len(reply)
    read = reader.read
    write = writer.write
    check_first = True
    while True:
        try:
            frame = read(POLL_SECONDS)
        except TimeoutError:
            channel.check()
            continue
        data = frame.data
        if len(data) != frame_bytes:
            code = data[0]
            del data
            frame.release()
            return code, count
        if check_first:
            zero_copy.check(data)
            check_first = False
        totals[0] += touch(data)
        del data
        # Reply first, then release, as the C# echo does (the release stays off the round trip).
        write(reply)
        frame.release()
        count += 1


def run_echo(options, wait, channel):
    if not options.reply_name:
        raise ValueError("the echo needs --reply-name")
    touch = make_toucher(options.frame_bytes)
    zero_copy = ZeroCopyCheck(options.name)
    control = [bytes([code]) * (2 if options.frame_bytes == 1 else 1) for code in (HELLO, START, STOP, HALF)]
    # FrameToucher.FillPattern: byte i is i * 31 + 7, which repeats every 256 bytes.
    period = bytes((i * 31 + 7) & 0xFF for i in range(256))
    reply = (period * (options.frame_bytes // 256 + 1))[: options.frame_bytes]
    totals = [0]
    with zerolane.Reader(options.name, options.payload_bytes, wait=wait) as reader:
        warm_sleep_path(reader)
        print("ready", flush=True)
        # The initiator creates the reply buffer before it connects here, so its Hello means the reply buffer exists.
        hello = read_one(reader, channel)
        code = hello.data[0]
        hello.release()
        expect(code, HELLO)
        with zerolane.Writer(options.reply_name, wait=wait) as writer:
            writer.write(control[HELLO])
            code, _ = echo_until_control(reader, writer, reply, touch, channel, zero_copy, totals)
            expect(code, START)
            started = time.perf_counter_ns()
            writer.write(control[START])
            code, first_half = echo_until_control(reader, writer, reply, touch, channel, zero_copy, totals)
            expect(code, HALF)
            writer.write(control[HALF])
            code, second_half = echo_until_control(reader, writer, reply, touch, channel, zero_copy, totals)
            elapsed = time.perf_counter_ns() - started
            expect(code, STOP)
            writer.write(control[STOP])
    report(first_half + second_half, elapsed, totals[0], zero_copy)


TOPIC_COMMAND = "bench-peer-python-topic"
ACKNOWLEDGE_TIMEOUT_SECONDS = 10


def queue_depth_for(options):
    """TopicPeer.QueueDepthFor: about the ring's payload block in samples, from 4 to 128."""
    return max(4, min(128, options.payload_bytes // max(1, options.frame_bytes)))


def warm_subscriber(subscriber):
    sample = subscriber.try_read(0.002)
    if sample is not None:
        sample.release()
        raise RuntimeError("a sample arrived before any publisher was started")


def run_topic_subscriber(options, channel):
    touch = make_toucher(options.frame_bytes)
    zero_copy = ZeroCopyCheck(options.name, topic=True)
    totals = [0]
    # Blocking the publisher rather than losing samples, as the C# subscriber peers do: the rate is what really arrived.
    with zerolane.Subscriber(options.name, block_publisher=True) as subscriber:
        warm_subscriber(subscriber)
        print("ready", flush=True)
        code, _ = read_until_control(subscriber, options.frame_bytes, touch, channel, zero_copy, totals)
        expect(code, START)
        started = time.perf_counter_ns()
        code, first_half = read_until_control(subscriber, options.frame_bytes, touch, channel, zero_copy, totals)
        expect(code, HALF)
        code, second_half = read_until_control(subscriber, options.frame_bytes, touch, channel, zero_copy, totals)
        elapsed = time.perf_counter_ns() - started
        expect(code, STOP)
    report(first_half + second_half, elapsed, totals[0], zero_copy)


def run_topic_echo(options, channel):
    if not options.reply_name:
        raise ValueError("the echo needs --reply-name")
    touch = make_toucher(options.frame_bytes)
    zero_copy = ZeroCopyCheck(options.name, topic=True)
    control = [bytes([code]) * (2 if options.frame_bytes == 1 else 1) for code in (HELLO, START, STOP, HALF)]
    period = bytes((i * 31 + 7) & 0xFF for i in range(256))
    reply = (period * (options.frame_bytes // 256 + 1))[: options.frame_bytes]
    depth = queue_depth_for(options)
    totals = [0]
    with zerolane.Subscriber(options.name, block_publisher=True) as subscriber, zerolane.Publisher(
        options.reply_name, slot_capacity=max(options.frame_bytes, 2), slots=2 * depth, queue_depth=depth,
        acknowledge_timeout=ACKNOWLEDGE_TIMEOUT_SECONDS,
    ) as publisher:
        warm_subscriber(subscriber)
        print("ready", flush=True)
        # The initiator subscribes to the reply topic before it says Hello; wait until it has joined, then answer.
        hello = read_one(subscriber, channel)
        code = hello.data[0]
        hello.release()
        expect(code, HELLO)
        while publisher.subscriber_count < 1:
            channel.check()
            time.sleep(0.001)
        publisher.write(control[HELLO])
        code, _ = echo_until_control(subscriber, publisher, reply, touch, channel, zero_copy, totals)
        expect(code, START)
        started = time.perf_counter_ns()
        publisher.write(control[START])
        code, first_half = echo_until_control(subscriber, publisher, reply, touch, channel, zero_copy, totals)
        expect(code, HALF)
        publisher.write(control[HALF])
        code, second_half = echo_until_control(subscriber, publisher, reply, touch, channel, zero_copy, totals)
        elapsed = time.perf_counter_ns() - started
        expect(code, STOP)
        publisher.write(control[STOP])
    report(first_half + second_half, elapsed, totals[0], zero_copy)


def parse(arguments):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", help="bench-peer-python (rings) or bench-peer-python-topic (topics)")
    parser.add_argument("--role", required=True, choices=["reader", "subscriber", "echo"])
    parser.add_argument("--name", required=True)
    parser.add_argument("--reply-name")
    parser.add_argument("--frame-bytes", type=int, required=True)
    parser.add_argument("--payload-bytes", type=int, default=1 << 20)
    parser.add_argument("--wait", choices=sorted(WAITS), default="spin-then-block")
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=2)
    parser.add_argument("--max-samples", type=int, default=1_000_000)
    parser.add_argument("--cpu", type=int, default=-1)
    return parser.parse_args(arguments)


def main(arguments):
    options = parse(arguments)
    if options.cpu >= 0:
        # The parent chose a CPU this process may use; a refusal would make the row's "cpus" column a lie.
        os.sched_setaffinity(0, {options.cpu})
    channel = Channel(options.warmup, options.seconds)
    if options.command == TOPIC_COMMAND:
        # Python topics have no wait strategy of their own; --wait is the C# side's.
        if options.role in ("reader", "subscriber"):
            run_topic_subscriber(options, channel)
        else:
            run_topic_echo(options, channel)
        return
    wait = getattr(zerolane.WaitStrategy, WAITS[options.wait])
    if options.role == "reader":
        run_reader(options, wait, channel)
    else:
        run_echo(options, wait, channel)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except Exception as error:  # noqa: BLE001 -- the parent shows this line
        print(f"python bench peer: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
