"""Shared memory objects named after a topic: ``zlt.TOPIC.p.PID.ID`` (PROTOCOL.md 13.1).

A topic name may be 200 characters like a buffer name, so a publisher segment's name can be up to 234 characters:
longer than :func:`_posix.validate_name` allows for the objects it creates (200), still far below NAME_MAX (255).
These two functions do what :meth:`_posix.SharedMemory.create` / :meth:`~_posix.SharedMemory.open` do (plain ``os`` and
``mmap``, no libc) for such names, and return the same :class:`_posix.SharedMemory` objects.
TODO(core): drop this module once _posix's SharedMemory accepts a name checked by its caller.
"""

from __future__ import annotations

import errno
import mmap
import os

from . import _posix as px
from .errors import InvalidNameError

NAME_MAX = 255


def _path(name: str) -> str:
    # The caller built the name from a validated topic, a PID and a hex ID; check the shape again, cheaply.
    if not name.startswith("zlt.") or "/" in name or len(name) > NAME_MAX:
        raise InvalidNameError(f"'{name[:60]}' is not a topic segment name.")
    return f"{px.SHM_DIR}/{name}"


def create(name: str, size: int, mode: int = 0o600) -> px.SharedMemory:
    """Creates ``/dev/shm/NAME`` exclusively, sets the mode exactly, sizes and allocates it, maps it."""
    path = _path(name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        os.ftruncate(fd, size)
        try:
            os.posix_fallocate(fd, 0, size)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise OSError(
                    errno.ENOSPC,
                    f"/dev/shm has no room for topic segment '{name}' of {size:,} bytes. Free space there, make "
                    "/dev/shm larger (in Docker: --shm-size), or give the publisher fewer or smaller slots.") from None
            raise
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    except BaseException:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    os.close(fd)
    return px.SharedMemory(name, -1, size, mm)


def open(name: str) -> px.SharedMemory:  # noqa: A001 - mirrors SharedMemory.open
    """Opens and maps an existing segment; FileNotFoundError if there is none, ValueError while it is still empty."""
    path = _path(name)
    fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            raise ValueError(f"The topic segment '{path}' has size 0: its publisher has not sized it yet.")
        mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
    return px.SharedMemory(name, -1, size, mm)


def unlink(name: str) -> None:
    try:
        os.unlink(_path(name))
    except FileNotFoundError:
        pass
