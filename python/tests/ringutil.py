"""Helpers shared by the ring tests."""

import os

from zerolane import _posix

OFF_PAYLOAD_FREE = 40
OFF_WRITTEN_COUNT = 64
OFF_READ_COUNT = 72
OFF_WRITER_PID = 80
OFF_READER_PID = 88
OFF_WRITER_STATE = 120


def word(name: str, offset: int) -> int:
    """One OIEB word of buffer NAME, read through a mapping of our own."""
    shm = _posix.SharedMemory.open(name)
    try:
        return _posix.load_u64(shm.mmap, offset)
    finally:
        shm.close()


def free_bytes(name: str) -> int:
    return word(name, OFF_PAYLOAD_FREE)


def pattern(sequence: int, size: int) -> bytes:
    """Distinct bytes per frame, so a frame overwritten by another shows."""
    seed = (sequence * 131 + size * 7) & 0xFF
    return bytes((seed + i) & 0xFF for i in range(size))


def fill(writer, size: int, limit: int = 100000) -> int:
    """Writes frames of ``size`` bytes with timeout 0 until the ring is full; returns how many were written."""
    n = 0
    while n < limit:
        try:
            writer.write(b"\xee" * size, timeout=0)
        except TimeoutError:
            return n
        n += 1
    raise AssertionError("the ring never filled")


def mapped(name: str) -> bool:
    """True while this process still maps /dev/shm/NAME (even after it was unlinked)."""
    with open(f"/proc/{os.getpid()}/maps") as f:
        return any(f"/dev/shm/{name}" in line for line in f)
