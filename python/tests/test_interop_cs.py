"""Cross-language rings across real processes: the C# tool (`zerolane write` / `zerolane read`) and the Python client."""

import os
import random
import signal
import subprocess
import threading

import pytest

import zerolane as zl
from zerolane.errors import WriterGoneError


def _feed(pipe, data: bytes) -> None:
    try:
        pipe.write(data)
    finally:
        pipe.close()


def _payload(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.mark.parametrize("frame_size, total", [(1, 3000), (100, 200_000), (3000, 500_000), (8176, 100_000)])
def test_cs_writer_to_python_reader(unique_name, cli, frame_size, total):
    data = _payload(total, frame_size)
    with zl.Reader(unique_name, 8192, 4096) as reader:
        child = cli("write", unique_name, "--frame-size", str(frame_size), "-m", "meta from C#", stdin=subprocess.PIPE)
        feeder = threading.Thread(target=_feed, args=(child.stdin, data))  # the pipe holds less than the data
        feeder.start()
        got = bytearray()
        sequence = 0
        while True:
            try:
                frame = reader.read(120)
            except WriterGoneError as gone:
                assert gone.died is False
                break
            with frame:
                sequence += 1
                assert frame.sequence == sequence
                assert len(frame) == min(frame_size, total - len(got))
                got += frame.data
        assert bytes(got) == data
        assert bytes(reader.metadata()) == b"meta from C#"
        feeder.join(120)
        assert child.wait(120) == 0, child.stderr.read()


def test_python_writer_to_cs_reader(unique_name, cli, tmp_path):
    rng = random.Random(5)
    frames = [rng.randbytes(rng.randint(1, 5000)) for _ in range(2000)]
    out_path = tmp_path / "frames"  # a file, not a pipe: a full pipe would stop the reader and so the writer
    child = cli("read", unique_name, "--payload-size", "16K", "--metadata-size", "1K", "--print-metadata",
                "-o", str(out_path))
    with zl.Writer(unique_name, connect_timeout=120) as writer:
        writer.set_metadata(b"meta from Python")
        for i, frame in enumerate(frames):
            if i % 3 == 0:
                writer.write([frame[:10], frame[10:]], timeout=120)  # gathered
            elif i % 3 == 1:
                with writer.loan(len(frame) + 7, timeout=120) as loan:
                    loan.data[:len(frame)] = frame
                    loan.commit(len(frame))
            else:
                writer.write(frame, timeout=120)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert out_path.read_bytes() == b"".join(frames)
    assert b"meta from Python" in err


def test_cs_writer_killed_python_reader_reads_all_then_new_writer(unique_name, cli):
    with zl.Reader(unique_name, 65536) as reader:
        child = cli("write", unique_name, "--frame-size", "10", stdin=subprocess.PIPE)
        child.stdin.write(b"0123456789" * 5)
        child.stdin.flush()
        for _ in range(5):
            with reader.read(120) as frame:
                assert bytes(frame.data) == b"0123456789"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdin.close()
        with pytest.raises(WriterGoneError) as gone:
            reader.read(120)
        assert gone.value.died is True
        with zl.Writer(unique_name) as writer:
            writer.write(b"after")
        with reader.read(120) as frame:
            assert bytes(frame.data) == b"after" and frame.sequence == 1


def test_python_writer_sees_cs_reader_killed(unique_name, cli):
    child = cli("read", unique_name, "--payload-size", "4K", "-o", os.devnull)
    try:
        with zl.Writer(unique_name, connect_timeout=120) as writer:
            writer.write(b"x" * 100, timeout=120)
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            with pytest.raises(zl.ReaderGoneError):
                for _ in range(1000):
                    writer.write(b"x" * 1000, timeout=120)
    finally:
        zl.Reader(unique_name, 4096).close()  # removes the dead reader's objects
