"""Rings: :class:`Reader`, :class:`Writer`, :class:`Frame`, :class:`Loan`, :class:`WaitStrategy`.

ZeroBuffer v1 byte for byte, with ZeroLane's extensions (docs/PROTOCOL.md sections 1-6): start-time liveness, frames
released in ring order, wrap markers published on their own, clean disconnect, writer resync after a crash.

Frame lifetimes (docs/PROTOCOL.md, "Python client: frame lifetimes"): ``frame.data`` is a read-only memoryview whose
exporter is a ``ctypes`` array made with ``from_buffer`` on the shared mapping, watched with a weak reference. A
frame's space goes back to the writer only when the frame is released (``release()``, the end of a ``with`` block,
or the Frame object being collected) AND every view derived from ``.data`` (slices, casts, ``np.frombuffer``) is gone.
Frames are held any number at a time, released in any order and from any thread, and credited in ring order.

Loans (the same section, "Loans"): ``loan.data`` is exported the same way. ``commit`` raises ``BufferError`` while a view
derived from it lives (the loan stays open); a loan abandoned while views live pins the writer, which refuses writes
and loans with ``BufferError`` (and defers a close's disconnect) until a weakref callback reports the views gone.
"""

from __future__ import annotations

import atexit
import collections
import ctypes
import enum
import os
import struct
import threading
import time
import weakref

from . import _posix
from ._closing import Closeable
from .errors import (
    BufferCorruptedError,
    BufferNotFoundError,
    FrameTooLargeError,
    IncompatibleBufferError,
    MetadataAlreadyWrittenError,
    MetadataTooLargeError,
    ReaderAlreadyConnectedError,
    ReaderGoneError,
    WriterAlreadyConnectedError,
    WriterGoneError,
)

__all__ = ["WaitStrategy", "Reader", "Writer", "Frame", "Loan"]

# ------------------------------------------------------------------------------------------------------- the layout

OIEB_SIZE = 128
ALIGN = 64
HEADER = 16
OFF_OIEB_SIZE = 0
OFF_VERSION = 4
OFF_METADATA_SIZE = 8
OFF_METADATA_FREE = 16
OFF_METADATA_WRITTEN = 24
OFF_PAYLOAD_SIZE = 32
OFF_PAYLOAD_FREE = 40
OFF_WRITE_POS = 48
OFF_READ_POS = 56
OFF_WRITTEN_COUNT = 64
OFF_READ_COUNT = 72
OFF_WRITER_PID = 80
OFF_READER_PID = 88
OFF_WRITER_START = 96
OFF_READER_START = 104
OFF_EXT_MAGIC = 112
OFF_EXT_FLAGS = 116
OFF_WRITER_STATE = 120
EXT_MAGIC = 0x314E4C5A
FLAG_COUNTS_FRAMES = 1
WRITER_CONNECTED = 1
SEMAPHORE_DRAIN_BATCH = 64
SPIN_LIMIT = 300  # a Python spin iteration (a look at the ring) costs about what 10 of C#'s do
MASK64 = (1 << 64) - 1

_HEADER = struct.Struct("<QQ")
_U64 = struct.Struct("<Q")
_unpack_header = _HEADER.unpack_from
_pack_header = _HEADER.pack_into
_unpack_u64 = _U64.unpack_from
_weakref = weakref.ref
_monotonic = time.monotonic


def _align64(n: int) -> int:
    return (n + ALIGN - 1) & ~(ALIGN - 1)


def _corrupted(name: str, what: str) -> BufferCorruptedError:
    return BufferCorruptedError(
        f"Buffer '{name}' is corrupted: {what}. The ring cannot continue; dispose the reader and recreate the buffer."
    )


def _describe(timeout) -> str:
    return "no time limit" if timeout is None else f"{timeout * 1000:.3f}".rstrip("0").rstrip(".") + " ms"


class WaitStrategy(enum.Enum):
    """How a read or write waits: spin (BUSY_SPIN), spin about 2,000 times then sleep (SPIN_THEN_BLOCK), or sleep at
    once (BLOCKING). Sleeps are on the buffer's semaphore, in slices of at most the peer check interval."""

    BUSY_SPIN = "busy_spin"
    SPIN_THEN_BLOCK = "spin_then_block"
    BLOCKING = "blocking"


# Readers and writers still open: closed at interpreter exit, so a forgotten close leaves no buffer behind.
_open_ends: "weakref.WeakSet" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for end in list(_open_ends):
        try:
            end.close()
        except Exception:  # noqa: BLE001 -- exiting: close what can be closed
            pass


# Array types per length for the views' exporters. Bounded: a ring of frames of every size must not grow it forever.
_array_types: dict[int, type] = {}


def _array_type(n: int) -> type:
    t = _array_types.get(n)
    if t is None:
        if len(_array_types) >= 4096:
            _array_types.clear()
        t = _array_types[n] = ctypes.c_ubyte * n
    return t


def _check_timeout(timeout) -> None:
    if timeout is not None and timeout < 0:
        raise ValueError(f"timeout must be None (wait as long as it takes) or 0 or more seconds, not {timeout}")


def _peek_reader(name: str) -> tuple[int, int] | None:
    """The reader (pid, start time) recorded in segment NAME, read without mapping it; None if there is none."""
    try:
        fd = os.open(_posix.SharedMemory.path(name), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size < OIEB_SIZE:
            return None
        pid = _unpack_u64(os.pread(fd, 8, OFF_READER_PID))[0]
        start = _unpack_u64(os.pread(fd, 8, OFF_READER_START))[0]
        return pid, start
    finally:
        os.close(fd)


def _alive(pid: int, start: int) -> bool:
    return 0 < pid <= 0x7FFFFFFF and _posix.process_alive(pid, start)


def _remove_objects_if_reader_dead(name: str) -> bool:
    reader = _peek_reader(name)
    if reader is not None and reader[0] != 0 and _alive(*reader):
        return False
    _posix.SharedMemory.unlink(name)
    _posix.Semaphore.unlink(f"/sem-w-{name}")
    _posix.Semaphore.unlink(f"/sem-r-{name}")
    return True


def remove_stale_buffers(lock_dir: str = "/tmp/zerobuffer", except_name: str | None = None) -> list[str]:
    """PROTOCOL.md section 6: for every ``*.lock`` in ``lock_dir`` that nobody holds, remove that buffer's segment and
    semaphores (unless the segment records a live reader) and the lock file. Always works under the name's lock."""
    removed: list[str] = []
    try:
        entries = os.listdir(lock_dir)
    except OSError:
        return removed
    for entry in entries:
        if not entry.endswith(".lock"):
            continue
        name = entry[:-5]
        if name == except_name:
            continue
        try:
            _posix.validate_name(name)
        except ValueError:
            continue
        try:
            lock = _posix.LockFile.acquire(lock_dir, name, 0o600)
            if lock is None:
                continue
            try:
                if _remove_objects_if_reader_dead(name):
                    removed.append(name)
            finally:
                lock.release()
        except OSError:
            continue  # another user's buffer, or raced with its owner: leave it
    return removed


# ------------------------------------------------------------------------------------------------------------ frame


class Frame:
    """A frame read in place. ``data`` is a read-only memoryview (format 'B') of the payload bytes in shared memory.

    Release it with :meth:`release` or a ``with`` block. The space goes back to the writer once the frame is released
    AND every view derived from ``data`` is gone; a frame never released is released when it and its views are
    collected. After release, ``data`` raises ``ValueError``; views taken before stay valid until dropped."""

    __slots__ = ("_reader", "_ticket", "_offset", "_size", "sequence", "_view", "_released")

    def __init__(self, reader: "Reader", ticket: int, offset: int, size: int, sequence: int) -> None:
        self._reader = reader
        self._ticket = ticket
        self._offset = offset
        self._size = size
        self.sequence = sequence
        self._view = None
        self._released = False

    @property
    def data(self) -> memoryview:
        view = self._view
        reader = self._reader
        if view is not None and not reader._closed:
            return view
        if self._released:
            raise ValueError("operation forbidden on a released frame: its space may already be the writer's again")
        # The exporter, a ctypes array on the mapping, takes over the frame's hold: the weak reference kept in the
        # ticket's slot releases it when the exporter, and so every view derived from it, is gone. No lock: the
        # unreleased frame's hold keeps its slot.
        mm = reader._mm
        ticket = self._ticket
        slot = reader._slots.get(ticket)
        if reader._closed or mm is None or slot is None:
            raise ValueError(f"operation forbidden on a frame of the closed reader of buffer '{reader.name}'")
        exporter = _array_type(self._size).from_buffer(mm, self._offset)
        watch = slot[_WATCH] = _weakref(exporter, reader._on_view_gone)
        reader._watched[id(watch)] = ticket
        view = self._view = memoryview(exporter).cast("B").toreadonly()
        return view

    def __len__(self) -> int:
        return self._size

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> None:
        """Ends the frame. Its space returns to the writer when no view derived from ``data`` remains (at once if
        there is none). A second call does nothing."""
        if self._released:
            return
        self._released = True
        if self._view is None:
            self._reader._release_hold(self._ticket)
        else:
            # The frame's one hold passed to the view's exporter when .data was made: dropping our reference lets
            # the exporter go with the last view, and its weak reference's callback releases the hold then.
            self._view = None

    def as_array(self, dtype, shape=None):
        """The payload as a read-only NumPy array, zero copy (see :func:`zerolane.arrays.as_array`)."""
        from .arrays import as_array

        return as_array(self.data, dtype, shape)

    def __enter__(self) -> "Frame":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        if not self._released and self._view is None:
            self._released = True
            try:
                self._reader._release_hold(self._ticket)
            except Exception:
                pass

    def __repr__(self) -> str:
        state = "released" if self._released else "held"
        return f"<Frame sequence={self.sequence} size={self._size} {state}>"


# ----------------------------------------------------------------------------------------------------------- reader

# Ledger slot fields: [holds, credit, count, end position, wrap tail, watch]
_HOLDS, _CREDIT, _COUNT, _END, _WRAPTAIL, _WATCH = range(6)


class Reader(Closeable):
    """The reading end of a ring: creates the buffer NAME (segment, semaphores, lock file) and owns it until closed.

    ``read(timeout=None)`` returns the next :class:`Frame` in place; it raises ``TimeoutError``, ``WriterGoneError``
    (``died`` says whether the writer crashed; every frame it committed has been read first) or
    ``BufferCorruptedError``. Frames may be held several at a time and released in any order, from any thread."""

    def __init__(
        self,
        name: str,
        payload_size: int,
        metadata_size: int = 0,
        *,
        wait: WaitStrategy = WaitStrategy.SPIN_THEN_BLOCK,
        mode: int = 0o600,
        lock_dir: str = "/tmp/zerobuffer",
        peer_check_interval: float = 0.1,
    ) -> None:
        _posix.validate_name(name)
        if not isinstance(payload_size, int) or payload_size < ALIGN:
            raise ValueError(
                f"payload_size must be at least {ALIGN} bytes (the smallest block that holds a header and one byte), "
                f"not {payload_size}"
            )
        if not isinstance(metadata_size, int) or metadata_size < 0:
            raise ValueError(f"metadata_size must be 0 (no metadata) or more, not {metadata_size}")
        if payload_size > 1 << 46 or metadata_size > 1 << 46:
            raise ValueError("payload_size and metadata_size must each be below 64 TiB")
        if not peer_check_interval > 0:
            raise ValueError(f"peer_check_interval must be positive, not {peer_check_interval}")
        if not isinstance(wait, WaitStrategy):
            raise TypeError(f"wait must be a WaitStrategy, not {wait!r}")
        self.name = name
        self._wait = wait
        self._mode = mode
        self._lock_dir = lock_dir
        self._peer_interval = float(peer_check_interval)
        self._metadata_size = _align64(metadata_size)
        self._payload_size = P = _align64(payload_size)
        self._metadata_offset = OIEB_SIZE
        self._payload_offset = OIEB_SIZE + self._metadata_size
        self._max_unread = P // HEADER
        self._closed = True
        self._lockfile = None
        self._shm = None
        self._sem_w = self._sem_r = None
        self._words: list[_posix.AtomicU64] = []
        self._create()

        # read state (under self._lock)
        self._lock = threading.Lock()
        self._pending: collections.deque[int] = collections.deque()
        self._slots: dict[int, list] = {}
        self._head = 0
        self._next = 0
        self._cursor = 0
        self._consumed = 0
        self._known_written = 0
        self._expected_seq = 1
        self._writer_seen = False
        self._connections_ended = 0
        self._uncounted_wraps = 0
        self._runs_taken = 0
        self._run_writer = (0, 0)
        self._writer_change_seen = False
        self._corruption: str | None = None
        self._read_count = 0
        self._frames_read = 0
        self._bytes_read = 0
        self._reader_thread = threading.get_ident()
        # credits retired but not yet published (PROTOCOL.md 4.3: batches of up to 1/8 of the block)
        self._batch = max(P // 8, 1)
        self._pc = 0
        self._pn = 0
        self._pe = -1
        self._pw = 0
        self._active_waits = 0
        self._waits_done = threading.Condition(threading.Lock())
        self._on_view_gone = self._view_gone  # one bound method for every watch
        self._watched: dict[int, int] = {}  # id(weak reference to a view exporter) -> ticket
        self._gone_later: str | None = None  # a writer departure to report once the frames found with it are read
        self._closed = False
        _open_ends.add(self)

    # ---------------------------------------------------------------------------------------------- creation

    def _create(self) -> None:
        name = self.name
        _posix.ensure_lock_directory(self._lock_dir)
        remove_stale_buffers(self._lock_dir, except_name=name)
        self._lockfile = self._acquire_lock()
        sem_w = sem_r = shm = None
        try:
            reader = _peek_reader(name)
            if reader is not None and reader[0] != 0 and reader[0] != os.getpid() and _alive(*reader):
                raise ReaderAlreadyConnectedError(
                    f"Buffer '{name}' already exists and its reader (pid {reader[0]}) is alive, although it holds no lock "
                    f"at {self._lockfile.path} (a peer using another lock directory?). Stop that reader or choose "
                    "another name."
                )
            _posix.SharedMemory.unlink(name)
            _posix.Semaphore.unlink(f"/sem-w-{name}")
            _posix.Semaphore.unlink(f"/sem-r-{name}")
            # Semaphores before memory: a writer that finds the memory also finds the semaphores.
            sem_w = _posix.Semaphore.create(f"/sem-w-{name}", self._mode, 0)
            sem_r = _posix.Semaphore.create(f"/sem-r-{name}", self._mode, 0)
            total = OIEB_SIZE + self._metadata_size + self._payload_size
            try:
                shm = _posix.SharedMemory.create(name, total, self._mode)
            except OSError as e:
                if e.errno == 28:  # ENOSPC
                    raise OSError(
                        e.errno,
                        f"{e.strerror} Buffers left behind by dead readers take room there too: 'zerolane clean' "
                        "removes them.",
                    ) from None
                raise
            mm = shm.mmap
            mm[OFF_VERSION:OFF_VERSION + 3] = bytes((1, 0, 0))
            _U64.pack_into(mm, OFF_METADATA_SIZE, self._metadata_size)
            _U64.pack_into(mm, OFF_METADATA_FREE, self._metadata_size)
            _U64.pack_into(mm, OFF_PAYLOAD_SIZE, self._payload_size)
            _posix.store_u64(mm, OFF_PAYLOAD_FREE, self._payload_size)
            pid = os.getpid()
            _posix.store_u64(mm, OFF_READER_START, _posix.process_start_time(pid))
            _posix.store_u64(mm, OFF_READER_PID, pid)
            _posix.store_u32(mm, OFF_EXT_FLAGS, FLAG_COUNTS_FRAMES)
            _posix.store_u32(mm, OFF_EXT_MAGIC, EXT_MAGIC)
            # release [OIEB-ready]: the whole OIEB is set before oieb_size
            _posix.store_u32(mm, OFF_OIEB_SIZE, OIEB_SIZE)
        except BaseException:
            if shm is not None:
                shm.close()
                _posix.SharedMemory.unlink(name)
            for sem, sem_name in ((sem_w, f"/sem-w-{name}"), (sem_r, f"/sem-r-{name}")):
                if sem is not None:
                    sem.close()
                    _posix.Semaphore.unlink(sem_name)
            self._lockfile.release()
            raise
        self._shm = shm
        self._mm = mm = shm.mmap
        self._sem_w = sem_w
        self._sem_r = sem_r
        self._w_written = _posix.AtomicU64(mm, OFF_WRITTEN_COUNT)
        self._w_free = _posix.AtomicU64(mm, OFF_PAYLOAD_FREE)
        self._w_read_pos = _posix.AtomicU64(mm, OFF_READ_POS)
        self._w_read_count = _posix.AtomicU64(mm, OFF_READ_COUNT)
        self._w_write_pos = _posix.AtomicU64(mm, OFF_WRITE_POS)
        self._w_writer_pid = _posix.AtomicU64(mm, OFF_WRITER_PID)
        self._w_writer_start = _posix.AtomicU64(mm, OFF_WRITER_START)
        self._w_writer_state = _posix.AtomicU64(mm, OFF_WRITER_STATE)
        self._w_meta_written = _posix.AtomicU64(mm, OFF_METADATA_WRITTEN)
        self._w_reader_pid = _posix.AtomicU64(mm, OFF_READER_PID)
        self._w_reader_start = _posix.AtomicU64(mm, OFF_READER_START)
        self._words = [
            self._w_written, self._w_free, self._w_read_pos, self._w_read_count, self._w_write_pos,
            self._w_writer_pid, self._w_writer_start, self._w_writer_state, self._w_meta_written,
            self._w_reader_pid, self._w_reader_start,
        ]

    def _acquire_lock(self) -> _posix.LockFile:
        give_up = time.monotonic() + 2.0
        while True:
            lock = _posix.LockFile.acquire(self._lock_dir, self.name, self._mode)
            if lock is not None:
                return lock
            reader = _peek_reader(self.name)
            if time.monotonic() >= give_up or (reader is not None and reader[0] != 0 and _alive(*reader)):
                path = _posix.LockFile.lock_path(self._lock_dir, self.name)
                raise ReaderAlreadyConnectedError(
                    f"Buffer '{self.name}' already has a live reader (it holds the lock {path}). A buffer has one "
                    "reader; stop that reader or choose another name."
                )
            time.sleep(0.005)

    # ---------------------------------------------------------------------------------------------- properties

    @property
    def payload_capacity(self) -> int:
        return self._payload_size

    @property
    def metadata_capacity(self) -> int:
        return self._metadata_size

    @property
    def frames_read(self) -> int:
        return self._frames_read

    @property
    def bytes_read(self) -> int:
        return self._bytes_read

    @property
    def frames_held(self) -> int:
        with self._lock:
            return sum(1 for s in self._slots.values() if s[_HOLDS] > 0)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def writer_connected(self) -> bool:
        self._check_open()
        pid = self._w_writer_pid.load()
        return pid != 0 and _alive(pid, self._w_writer_start.load())

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"operation on a closed reader of buffer '{self.name}'")

    # ---------------------------------------------------------------------------------------------- locking

    def _unlock(self) -> None:
        """Releases the ledger lock after handling every release queued meanwhile (by callbacks or other threads)."""
        pending = self._pending
        while True:
            while pending:
                self._drop_hold(pending.popleft())
            self._lock.release()
            if not pending or not self._lock.acquire(False):
                return

    def _release_hold(self, ticket: int) -> None:
        """A ticket's hold ends (from Frame.release, a collected Frame, or the callback of its view exporter's weak
        reference, in any thread, perhaps inside the collector while this thread holds the lock). Never blocks and
        never re-enters the ledger: handled at once if the lock is free, else queued for the thread that holds it."""
        lock = self._lock
        if lock.acquire(False):
            slot = self._slots.get(ticket)
            if slot is not None:
                slot[_HOLDS] = 0
                if ticket == self._head:
                    self._retire()
            if self._pending:
                self._unlock()
                return
            lock.release()
            if self._pending and lock.acquire(False):
                self._unlock()
            return
        self._pending.append(ticket)
        if lock.acquire(False):
            self._unlock()

    def _view_gone(self, watch) -> None:
        ticket = self._watched.pop(id(watch), None)
        if ticket is not None:
            self._release_hold(ticket)

    def _drop_hold(self, ticket: int) -> None:
        """Under the lock: ``ticket``'s hold ends; retire the head in ring order."""
        slot = self._slots.get(ticket)
        if slot is None:
            return
        slot[_HOLDS] = 0
        if ticket == self._head:
            self._retire()

    def _retire(self) -> None:
        """Under the lock: retires every released slot at the head, accumulating its credit; publishes per 4.3."""
        slots = self._slots
        head = self._head
        nxt = self._next
        pc = self._pc
        pn = self._pn
        pe = self._pe
        pw = self._pw
        while head < nxt:
            slot = slots[head]
            if slot[_HOLDS] > 0:
                break
            del slots[head]
            head += 1
            pc += slot[_CREDIT]
            pn += slot[_COUNT]
            pe = slot[_END]
            if slot[_WRAPTAIL] > pw:
                pw = slot[_WRAPTAIL]
        self._head = head
        self._pc, self._pn, self._pe, self._pw = pc, pn, pe, pw
        if pe >= 0 and (
            pc >= self._batch
            or self._known_written == self._consumed
            or threading.get_ident() != self._reader_thread
        ):
            self._publish_credit()

    def _publish_credit(self) -> None:
        """Under the lock: 4.3 steps 1-4 for the credits retired so far."""
        if self._pe < 0 or self._closed:
            return
        credit, count, end, wrap_tail = self._pc, self._pn, self._pe, self._pw
        self._pc = self._pn = self._pw = 0
        self._pe = -1
        # release [space-freed]
        free = self._w_free.add(credit)
        if free > self._payload_size + wrap_tail and self._corruption is None:
            self._corruption = (
                f"payload_free_bytes was {free} after this reader gave back {credit} bytes, more than the "
                f"{self._payload_size}-byte payload block"
                + ("" if wrap_tail == 0 else f" plus the {wrap_tail}-byte tail of the wrap marker just passed")
                + "; another process added to it, or the writer subtracted less than it wrote"
            )
        self._w_read_pos.store(end)
        self._read_count += count
        # release [ring-drained]
        self._w_read_count.store(self._read_count)
        if self._sem_r.value() <= 0:
            self._sem_r.post()

    def _add_released(self, credit: int, count: int, end: int, wrap_tail: int = 0) -> None:
        self._slots[self._next] = [0, credit, count, end, wrap_tail, None]
        self._next += 1
        if self._head == self._next - 1:
            self._retire()

    # ---------------------------------------------------------------------------------------------- reading

    def _try_take(self):
        """Takes the next frame if one is published; never waits. Returns a Frame or None."""
        self._lock.acquire()
        try:
            if self._closed:
                raise ValueError(f"operation on a closed reader of buffer '{self.name}'")
            P = self._payload_size
            mm = self._mm
            while True:
                if self._corruption is not None:
                    raise _corrupted(self.name, self._corruption)
                if self._known_written == self._consumed:
                    # acquire [frame-published]
                    known = self._known_written = self._w_written.load()
                    if known == self._consumed:
                        self._uncounted_wraps = 0
                        if self._pe >= 0:
                            self._publish_credit()  # caught up: give back what is retired
                        return None
                    if (known - self._consumed) & MASK64 > self._max_unread + self._uncounted_wraps:
                        self._impossible_written_count(known)
                if (
                    self._uncounted_wraps
                    and self._known_written - self._consumed <= self._uncounted_wraps
                    and self._skip_phantoms()
                ):
                    continue
                cursor = self._cursor
                space_to_end = P - cursor
                if space_to_end < HEADER:
                    # implicit wrap (only a peer writer leaves such a tail)
                    self._cursor = 0
                    self._uncounted_wraps = (
                        0 if self._known_written - self._consumed == 1
                        else min(self._uncounted_wraps + 1, self._max_unread)
                    )
                    self._add_released(space_to_end, 0, 0)
                    continue
                header = self._payload_offset + cursor
                size, sequence = _unpack_header(mm, header)
                if size == 0:
                    if sequence != 0:
                        raise _corrupted(
                            self.name,
                            f"a frame header at payload offset {cursor} has size 0 and sequence {sequence}; only a "
                            "wrap marker (size 0, sequence 0) may have size 0",
                        )
                    if cursor == 0:
                        raise _corrupted(self.name, "a wrap marker at payload offset 0, where no frame can fail to fit")
                    self._consumed += 1
                    self._cursor = 0
                    self._add_released(space_to_end, 1, 0, space_to_end)
                    continue
                if size > space_to_end - HEADER:
                    raise _corrupted(
                        self.name,
                        f"a frame header at payload offset {cursor} claims {size} bytes but only "
                        f"{space_to_end - HEADER} remain before the end of the {P}-byte payload block",
                    )
                if sequence != self._expected_seq or sequence == 1:
                    self._start_run(sequence)
                self._expected_seq = sequence + 1
                total = HEADER + size
                end = cursor + total
                if end == P:
                    end = 0
                ticket = self._next
                self._slots[ticket] = [1, total, 1, end, 0, None]
                self._next = ticket + 1
                self._consumed += 1
                self._cursor = end
                self._frames_read += 1
                self._bytes_read += size
                self._writer_seen = True
                if not ticket & (SEMAPHORE_DRAIN_BATCH - 1):
                    # take back the sem-w units of the frames consumed, in batches, so its value stays bounded even
                    # for a reader that never sleeps (every sleep is preceded by a drain and a look anyway)
                    self._sem_w.drain()
                return Frame(self, ticket, header + HEADER, size, sequence)
        finally:
            if self._pending:
                self._unlock()
            else:
                self._lock.release()
                if self._pending and self._lock.acquire(False):
                    self._unlock()

    def _skip_phantoms(self) -> bool:
        written = self._w_written.load()
        write_pos = self._w_write_pos.load()
        unread = (written - self._consumed) & MASK64
        if unread > self._max_unread + self._uncounted_wraps:
            self._impossible_written_count(written)
        if written < self._known_written:
            raise _corrupted(
                self.name,
                f"payload_written_count went back from {self._known_written} to {written}; the writer only ever "
                "increments it, so another process overwrote it",
            )
        self._known_written = written
        if write_pos > self._payload_size:
            raise _corrupted(
                self.name, f"payload_write_pos is {write_pos}, beyond the end of the {self._payload_size}-byte payload block"
            )
        if unread == 0:
            self._uncounted_wraps = 0
            return True
        position = 0 if write_pos == self._payload_size else write_pos
        if unread > self._uncounted_wraps or position != self._cursor:
            return False
        self._consumed += unread
        self._uncounted_wraps -= unread
        self._add_released(0, unread, self._cursor)
        return True

    def _impossible_written_count(self, written: int):
        if written < self._consumed:
            raise _corrupted(
                self.name,
                f"payload_written_count is {written}, below the {self._consumed} items this reader has already "
                "consumed; the writer only ever increments it, so another process overwrote it",
            )
        raise _corrupted(
            self.name,
            f"payload_written_count is {written}, {written - self._consumed} items ahead of the {self._consumed} this "
            f"reader has consumed, but the {self._payload_size}-byte payload block holds at most "
            f"{self._max_unread + self._uncounted_wraps} (every item takes at least a 16-byte header); another "
            "process overwrote it",
        )

    def _writer_identity(self) -> tuple[int, int]:
        return self._w_writer_pid.load(), self._w_writer_start.load()

    def _writer_connections(self) -> int:
        return self._w_writer_state.load() >> 1

    def _start_run(self, sequence: int) -> None:
        if sequence != 1:
            raise _corrupted(
                self.name,
                f"sequence gap: expected {self._expected_seq}, got {sequence}"
                + (
                    "; an older frame was read again, so payload_written_count is probably ahead of what was written"
                    if sequence < self._expected_seq
                    else ""
                ),
            )
        writer = self._writer_identity()
        connections = self._writer_connections()
        if (
            self._runs_taken != 0
            and self._runs_taken >= connections
            and writer == self._run_writer
            and not self._writer_change_seen
        ):
            raise _corrupted(
                self.name,
                f"sequence restart: a frame with sequence 1 follows sequence {self._expected_seq - 1}, but the writer "
                f"identity words show no new writer (writer_pid {writer[0]}, start time {writer[1]}, as when the "
                f"current writer's sequence 1 was read; {connections} ZeroLane writer connections for "
                f"{self._runs_taken + 1} sequence runs). The frame is stale, read again because payload_written_count "
                "was set ahead of what was written",
            )
        self._runs_taken += 1
        self._run_writer = writer
        self._writer_change_seen = False

    def _session_over(self) -> tuple[bool, int]:
        connections = self._writer_connections()
        return (self._writer_seen or connections != self._connections_ended) and self._w_writer_pid.load() == 0, connections

    def _end_session(self, connections: int) -> None:
        self._writer_seen = False
        self._writer_change_seen = True
        self._connections_ended = connections

    def _check_writer(self) -> str | None:
        """None while the writer lives (or none came yet); 'died' or 'disconnected' otherwise."""
        connections = self._writer_connections()
        writer = self._writer_identity()
        if writer != self._run_writer:
            self._writer_change_seen = True
        pid, start = writer
        if pid != 0:
            if _alive(pid, start):
                self._writer_seen = True
                return None
            # clear the dead writer's claim (loses harmlessly to a new writer that got there first)
            if self._w_writer_pid.cas(pid, 0):
                self._w_writer_start.cas(start, 0)
            self._writer_seen = False
            self._connections_ended = connections
            return "died"
        if self._writer_seen or connections != self._connections_ended:
            self._end_session(connections)
            return "disconnected"
        return None

    def _gone_error(self, how: str) -> WriterGoneError:
        if how == "died":
            return WriterGoneError(
                f"The writer of '{self.name}' died without disconnecting; every frame it committed has been read. "
                "A new writer may connect.",
                died=True,
            )
        return WriterGoneError(
            f"The writer of '{self.name}' disconnected and every frame it wrote has been read.", died=False
        )

    def try_read(self, timeout: float | None = 0):
        """The next frame, or None if none arrived within ``timeout`` seconds (None: wait as long as it takes).
        Raises WriterGoneError / BufferCorruptedError like :meth:`read`."""
        _check_timeout(timeout)
        self._reader_thread = threading.get_ident()
        frame = self._try_take()
        if frame is not None:
            return frame
        return self._wait_for_frame(timeout)

    def read(self, timeout: float | None = None) -> Frame:
        """The next frame, waiting at most ``timeout`` seconds (None: as long as it takes).

        Raises ``TimeoutError`` when none arrived in time, ``WriterGoneError`` when the writer has gone and every
        frame it committed has been read, ``BufferCorruptedError`` when the ring holds an impossible state."""
        if timeout is not None and timeout < 0:
            _check_timeout(timeout)
        self._reader_thread = threading.get_ident()
        frame = self._try_take()
        if frame is not None:
            return frame
        frame = self._wait_for_frame(timeout)
        if frame is None:
            raise TimeoutError(f"No frame arrived in '{self.name}' within {_describe(timeout)}.")
        return frame

    def _wait_for_frame(self, timeout):
        with self._waits_done:
            self._check_open()
            self._active_waits += 1
        try:
            now = time.monotonic()
            deadline = None if timeout is None else now + timeout
            next_check = now + self._peer_interval
            spins = {WaitStrategy.BUSY_SPIN: -1, WaitStrategy.SPIN_THEN_BLOCK: SPIN_LIMIT}.get(self._wait, 0)
            drained = False
            sem_w = self._sem_w
            while True:
                frame = self._try_take()
                if frame is not None:
                    return frame
                if self._closed:
                    raise ValueError(f"the reader of buffer '{self.name}' was closed while reading")
                if self._gone_later is not None:
                    # the writer's departure was seen with a frame still to read; that frame has been read now
                    gone, self._gone_later = self._gone_later, None
                    raise self._gone_error(gone)
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + self._peer_interval
                    with self._ledger():
                        gone = self._check_writer()
                    if gone is not None:
                        frame = self._try_take()
                        if frame is not None:
                            self._gone_later = gone
                            return frame
                        raise self._gone_error(gone)
                with self._ledger():
                    over, connections = self._session_over()
                if over:
                    frame = self._try_take()
                    if frame is not None:
                        return frame  # the session ends at the next look, after this frame
                    with self._ledger():
                        self._end_session(connections)
                    raise self._gone_error("disconnected")
                if deadline is not None and now >= deadline:
                    return self._try_take()
                if spins != 0:
                    spins -= 1
                    continue
                if not drained:
                    with self._ledger():
                        self._publish_credit()
                    sem_w.drain()
                    drained = True
                    continue
                slice_ = next_check - now
                if deadline is not None and deadline - now < slice_:
                    slice_ = deadline - now
                if sem_w.wait(max(slice_, 0.0005)):
                    drained = False
        finally:
            with self._waits_done:
                self._active_waits -= 1
                self._waits_done.notify_all()

    def _ledger(self):
        return _LedgerLock(self)

    def __iter__(self):
        """Frames until the writer disconnects cleanly (a writer that died raises WriterGoneError). Release each
        frame (``with frame:``) or drop it; a dropped frame is released when it and its views are collected."""
        while True:
            try:
                frame = self.read()
            except WriterGoneError as gone:
                if gone.died:
                    raise
                return
            yield frame

    # ---------------------------------------------------------------------------------------------- metadata

    def metadata(self) -> memoryview | None:
        """The metadata the writer wrote, in place and read-only; None if none has been written yet."""
        self._check_open()
        written = self._w_meta_written.load()
        if written == 0:
            return None
        length = _unpack_u64(self._mm, self._metadata_offset)[0]
        if written != length + 8 or length == 0 or length > max(0, self._metadata_size - 8):
            raise BufferCorruptedError(
                f"Buffer '{self.name}' is corrupted: metadata_written_bytes is {written} but the metadata prefix says "
                f"{length} bytes in a {self._metadata_size}-byte block. The ring cannot continue; dispose the reader "
                "and recreate the buffer."
            )
        start = self._metadata_offset + 8
        return memoryview(self._mm)[start:start + length].toreadonly()

    # ---------------------------------------------------------------------------------------------- closing

    def close(self) -> None:
        """Removes the buffer: vacates reader_pid (a writer sees the reader gone), unlinks the segment and both
        semaphores, releases the lock. The mapping is unmapped only once no view of a frame remains, so views taken
        before stay readable (and never see freed memory). A second call does nothing."""
        if getattr(self, "_closed", True) or self._shm is None:
            return
        self._closed = True
        # wake and wait out every read sleeping on sem-w before the semaphore goes
        with self._waits_done:
            while self._active_waits:
                self._sem_w.post()
                self._waits_done.wait(0.05)
        self._lock.acquire()
        try:
            errors = []
            try:
                self._w_reader_start.store(0)
                self._w_reader_pid.store(0)
                self._sem_r.post()
            except Exception as e:  # noqa: BLE001 -- every step is attempted
                errors.append(e)
            for unlink, what in (
                (_posix.SharedMemory.unlink, self.name),
                (_posix.Semaphore.unlink, f"/sem-w-{self.name}"),
                (_posix.Semaphore.unlink, f"/sem-r-{self.name}"),
            ):
                try:
                    unlink(what)
                except OSError as e:
                    errors.append(e)
            self._slots.clear()  # drops the weak references too: views that outlive the reader credit nothing
            self._watched.clear()
            self._pending.clear()
            for word in self._words:
                word.close()
            self._words = []
            self._shm.close()  # unmaps unless views still export it: then the last view unmaps it
            self._shm = None
            self._mm = None
            self._sem_w.close()
            self._sem_r.close()
            self._lockfile.release()
        finally:
            self._lock.release()
        if errors:
            raise OSError(f"Buffer '{self.name}' was closed, but removing its objects failed: {errors[0]}")

    def __repr__(self) -> str:
        return f"<Reader {self.name!r} payload={self._payload_size}{' closed' if self._closed else ''}>"


class _Held:
    """Releases an already acquired lock at the end of a with block."""

    __slots__ = ("_lock",)

    def __init__(self, lock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        self._lock.release()


class _LedgerLock:
    __slots__ = ("_reader",)

    def __init__(self, reader: Reader) -> None:
        self._reader = reader

    def __enter__(self) -> None:
        self._reader._lock.acquire()

    def __exit__(self, *exc) -> None:
        self._reader._unlock()


# ----------------------------------------------------------------------------------------------------------- writer

_HERE, _AFTER_WRAP, _WRAP_FIRST, _WAIT = range(4)


_VIEWS_ALIVE = (
    "a view of loan.data (a slice, cast or NumPy array) is still alive; delete it before commit - the loan stays open"
)

# Abandoned loans whose views are alive (each keeps its writer and the weak reference whose callback unpins it).
_pinned: set = set()


class Loan:
    """Space for one frame in the ring, filled in place: ``with writer.loan(n) as loan: loan.data[:k] = ...;
    loan.commit(k)``. Leaving the block without ``commit`` publishes nothing (the loan is abandoned).

    Lifetime rule (docs/PROTOCOL.md 4.7): ``commit`` raises ``BufferError`` while any view derived from ``data`` (a
    slice, a cast, a NumPy array) is alive, and leaves the loan open; delete the views and commit again. ``data``
    itself is released by the commit. An abandoned loan whose views are alive keeps its space: the writer refuses
    writes and loans with ``BufferError`` until the last view is gone, and never publishes that space."""

    __slots__ = ("_writer", "_position", "_wrap_from", "_size", "_view", "_open", "_watch", "_pin")

    def __init__(self, writer: "Writer", position: int, wrap_from: int, size: int, exporter) -> None:
        self._writer = writer
        self._position = position
        self._wrap_from = wrap_from
        self._size = size
        # The only strong reference to the exporter is through this view's buffer (and those of views derived from
        # it): when the weak reference is dead, no view of the loan's memory remains.
        self._view = memoryview(exporter).cast("B")
        self._watch = _weakref(exporter)
        self._open = True
        self._pin = None

    @property
    def data(self) -> memoryview:
        """The writable span of the loan (format 'B')."""
        if not self._open:
            raise ValueError("operation forbidden on a committed or abandoned loan")
        return self._view

    def __len__(self) -> int:
        return self._size

    @property
    def open(self) -> bool:
        return self._open

    def _remake(self) -> memoryview:
        exporter = self._watch()
        if exporter is None:  # nothing else held it: make a new exporter on the same span
            w = self._writer
            exporter = _array_type(self._size).from_buffer(w._mm, w._payload_offset + self._position + HEADER)
            self._watch = _weakref(exporter)
        return memoryview(exporter).cast("B")

    def _let_go(self) -> bool:
        """Releases our view of the span; True when no view of it remains (the loan can end)."""
        try:
            self._view.release()
        except BufferError:
            return False  # a NumPy array (or another buffer export) of our view: it stays as it is
        if self._watch() is None:
            return True
        self._view = self._remake()
        return False

    def commit(self, size: int | None = None) -> int:
        """Publishes the first ``size`` bytes (default: all) as one frame; returns its sequence number.

        Raises ``BufferError`` (the loan stays open) while a view derived from ``data`` is alive."""
        if not self._open:
            raise ValueError("this loan was already committed or abandoned")
        if self._writer._closed:
            self.abandon()
            raise ValueError(f"the writer of buffer '{self._writer.name}' was closed; the loan was abandoned")
        if size is None:
            size = self._size
        if not 1 <= size <= self._size:
            raise ValueError(f"commit between 1 and {self._size} bytes of this loan, not {size}")
        w = self._writer
        remainder = w._payload_size - (self._position + HEADER + size)
        if 0 < remainder < HEADER:
            raise ValueError(
                f"Committing {size} bytes of a loan of the whole block would leave a tail of {remainder} bytes, too "
                f"short for a header. Commit at most {w._payload_size - 2 * HEADER} bytes or exactly "
                f"{w._payload_size - HEADER}; the loan stays open."
            )
        # The hot path: our view had no export and was the exporter's last holder.
        view = self._view
        try:
            view.release()
        except BufferError:
            raise BufferError(_VIEWS_ALIVE) from None
        if self._watch() is not None:
            self._view = self._remake()
            raise BufferError(_VIEWS_ALIVE)
        self._open = False
        w._loan = None
        return w._publish(self._position, self._wrap_from, size)

    def abandon(self) -> None:
        """Publishes nothing. If views derived from ``data`` are still alive, the space stays out of use: the writer
        refuses writes and loans (``BufferError``) until the last of them is gone."""
        if not self._open:
            return
        self._open = False
        if self._let_go():
            self._writer._loan = None
            return
        # Views live: the loan stays the writer's pending loan, pinned, until the exporter is collected.
        view, self._view = self._view, None
        exporter = self._watch()
        del view
        if exporter is None:  # the last view went meanwhile (another thread)
            self._writer._loan = None
            return
        self._pin = _weakref(exporter, self._views_gone)
        del exporter
        _pinned.add(self)
        if self._watch() is None:  # gone between the check and the callback's registration
            self._views_gone(None)

    def _views_gone(self, _ref) -> None:
        # Runs in any thread, possibly inside the collector: no locks, no allocation beyond the set's.
        _pinned.discard(self)
        self._pin = None
        w = self._writer
        if w._loan is self:
            w._loan = None
            if w._closed and w._shm is not None:
                try:
                    w._disconnect()
                except Exception:  # noqa: BLE001 -- a callback must not raise
                    pass

    def __enter__(self) -> "Loan":
        return self

    def __exit__(self, *exc) -> None:
        self.abandon()


class Writer(Closeable):
    """The writing end of a ring: connects to the buffer NAME, which its reader created.

    ``write(data)`` copies one buffer-protocol object, or a list of them gathered into ONE frame, and returns the
    frame's sequence number; ``loan(n)`` hands out space to fill in place; ``set_metadata(data)`` writes the metadata
    once. Raises ``ReaderGoneError`` when the reader has gone, ``TimeoutError`` when no space came free in time."""

    def __init__(
        self,
        name: str,
        *,
        wait: WaitStrategy = WaitStrategy.SPIN_THEN_BLOCK,
        connect_timeout: float = 0,
        peer_check_interval: float = 0.1,
    ) -> None:
        _posix.validate_name(name)
        if connect_timeout is not None and connect_timeout < 0:
            raise ValueError(f"connect_timeout must be None or 0 or more seconds, not {connect_timeout}")
        if not peer_check_interval > 0:
            raise ValueError(f"peer_check_interval must be positive, not {peer_check_interval}")
        if not isinstance(wait, WaitStrategy):
            raise TypeError(f"wait must be a WaitStrategy, not {wait!r}")
        self.name = name
        self._wait = wait
        self._peer_interval = float(peer_check_interval)
        self._closed = True
        self._shm = None
        self._loan = None
        self._words: list[_posix.AtomicU64] = []
        deadline = None if connect_timeout is None else time.monotonic() + connect_timeout
        retry = 0.001
        while True:
            try:
                self._connect()
                break
            except (BufferNotFoundError, ReaderGoneError) as refusal:
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    if connect_timeout == 0:
                        raise
                    raise TimeoutError(
                        f"No live reader created buffer '{name}' within {_describe(connect_timeout)}. {refusal}"
                    ) from refusal
                sleep = min(retry, self._peer_interval)
                if deadline is not None:
                    sleep = min(sleep, deadline - now)
                time.sleep(max(sleep, 0))
                retry = min(retry * 2, self._peer_interval)
        self._closed = False
        _open_ends.add(self)

    def _not_found(self, why: str) -> BufferNotFoundError:
        return BufferNotFoundError(
            f"Buffer '{self.name}' was not found: {why}. A reader creates the buffer and the writer connects to it, "
            "so start the reader first."
        )

    def _connect(self) -> None:
        name = self.name
        try:
            shm = _posix.SharedMemory.open(name)
        except FileNotFoundError:
            raise self._not_found("no shared memory of that name exists") from None
        except ValueError:
            raise self._not_found("its reader is still creating it") from None
        sem_w = sem_r = None
        words: list[_posix.AtomicU64] = []
        try:
            mm = shm.mmap
            if shm.size < OIEB_SIZE:
                raise self._not_found("its reader is still creating it")
            oieb_size = _posix.load_u32(mm, OFF_OIEB_SIZE)
            if oieb_size == 0:
                raise self._not_found("its reader is still creating it")
            if oieb_size != OIEB_SIZE:
                raise IncompatibleBufferError(
                    f"Buffer '{name}' has oieb_size {oieb_size}; ZeroBuffer v1 requires 128. It was written by an "
                    "incompatible implementation or is corrupted."
                )
            if mm[OFF_VERSION] != 1:
                raise IncompatibleBufferError(
                    f"Buffer '{name}' uses protocol version {mm[4]}.{mm[5]}.{mm[6]}; ZeroLane speaks major version 1 only."
                )
            meta_size = _unpack_u64(mm, OFF_METADATA_SIZE)[0]
            P = _unpack_u64(mm, OFF_PAYLOAD_SIZE)[0]
            if P <= HEADER or OIEB_SIZE + meta_size + P > shm.size:
                raise BufferCorruptedError(
                    f"Buffer '{name}' is corrupted: metadata_size {meta_size} and payload_size {P} do not fit its "
                    f"{shm.size}-byte segment."
                )
            if meta_size % ALIGN or P % ALIGN:
                raise BufferCorruptedError(
                    f"Buffer '{name}' is corrupted: metadata_size {meta_size} and payload_size {P} must be multiples of "
                    f"{ALIGN}, as every reader makes them. Recreate the buffer."
                )
            self._metadata_size = meta_size
            self._payload_size = P
            self._metadata_offset = OIEB_SIZE
            self._payload_offset = OIEB_SIZE + meta_size
            rpid = _posix.load_u64(mm, OFF_READER_PID)
            rstart = _posix.load_u64(mm, OFF_READER_START)
            if rpid == 0 or not _alive(rpid, rstart):
                raise ReaderGoneError(
                    f"Buffer '{name}' exists but its reader (pid {rpid}) is gone. Start a reader; it will remove the "
                    "stale buffer and create a fresh one."
                )
            try:
                sem_w = _posix.Semaphore.open(f"/sem-w-{name}")
                sem_r = _posix.Semaphore.open(f"/sem-r-{name}")
            except FileNotFoundError as e:
                raise self._not_found(f"its semaphore {e.filename} is missing") from None
            counts_frames = (
                _posix.load_u32(mm, OFF_EXT_MAGIC) == EXT_MAGIC
                and _posix.load_u32(mm, OFF_EXT_FLAGS) & FLAG_COUNTS_FRAMES != 0
            )
            write_pos = _posix.load_u64(mm, OFF_WRITE_POS)
            if write_pos == P:
                write_pos = 0
            if write_pos >= P:
                raise BufferCorruptedError(
                    f"Buffer '{name}' is corrupted: write_pos {write_pos} lies outside the {P}-byte payload block."
                )
            read_count = _posix.load_u64(mm, OFF_READ_COUNT)
            written_count = _posix.load_u64(mm, OFF_WRITTEN_COUNT)
            if read_count > written_count:
                raise BufferCorruptedError(
                    f"Buffer '{name}' is corrupted: payload_read_count is {read_count}, above payload_written_count "
                    f"{written_count}; a reader cannot finish more items than were written, so another process "
                    "overwrote one of them. Recreate the buffer."
                )
            # claim writer_pid last: nothing after it can fail
            me = os.getpid()
            my_start = _posix.process_start_time(me)
            for _attempt in range(100):
                pid_word = _posix.load_u64(mm, OFF_WRITER_PID)
                if pid_word != 0:
                    start = _posix.load_u64(mm, OFF_WRITER_START)
                    if _alive(pid_word, start):
                        raise WriterAlreadyConnectedError(
                            f"Buffer '{name}' already has a live writer (pid {pid_word}). A buffer takes one writer at "
                            "a time; wait for it to disconnect or use another buffer."
                        )
                    if _posix.cas_u64(mm, OFF_WRITER_PID, pid_word, 0):
                        _posix.cas_u64(mm, OFF_WRITER_START, start, 0)
                    continue
                _posix.store_u64(mm, OFF_WRITER_START, 0)
                if _posix.cas_u64(mm, OFF_WRITER_PID, 0, me):
                    _posix.store_u64(mm, OFF_WRITER_START, my_start)
                    break
            else:
                raise WriterAlreadyConnectedError(f"Other processes kept claiming the writer of '{name}'; could not take it.")
            # writer state: 2 x (connections + 1) + 1; bit 0 already set means the predecessor died connected
            while True:
                state = _posix.load_u64(mm, OFF_WRITER_STATE)
                new_state = (((state >> 1) + 1) << 1) | WRITER_CONNECTED
                if _posix.cas_u64(mm, OFF_WRITER_STATE, state, new_state):
                    break
            self._needs_resync = counts_frames and bool(state & WRITER_CONNECTED)
            self._counts_frames = counts_frames
            self._written_count = _posix.load_u64(mm, OFF_WRITTEN_COUNT)
            self._write_pos = write_pos
            self._known_free = 0  # the first placement reads (and checks) the shared value
            self._pid = me
            self._start = my_start
            words = [
                _posix.AtomicU64(mm, OFF_PAYLOAD_FREE),
                _posix.AtomicU64(mm, OFF_WRITE_POS),
                _posix.AtomicU64(mm, OFF_WRITTEN_COUNT),
                _posix.AtomicU64(mm, OFF_READ_COUNT),
                _posix.AtomicU64(mm, OFF_READ_POS),
                _posix.AtomicU64(mm, OFF_READER_PID),
                _posix.AtomicU64(mm, OFF_READER_START),
                _posix.AtomicU64(mm, OFF_METADATA_WRITTEN),
            ]
        except BaseException:
            for word in words:
                word.close()
            for sem in (sem_w, sem_r):
                if sem is not None:
                    sem.close()
            shm.close()
            raise
        (self._w_free, self._w_write_pos, self._w_written, self._w_read_count, self._w_read_pos,
         self._w_reader_pid, self._w_reader_start, self._w_meta_written) = words
        self._words = words
        self._shm = shm
        self._mm = shm.mmap
        self._sem_w = sem_w
        self._sem_r = sem_r
        self._sequence = 1
        self._frames_written = 0
        self._bytes_written = 0
        self._next_reader_check = 0.0
        self._lock = threading.Lock()
        self._disconnecting = threading.Lock()  # taken once, by whoever disconnects

    # ---------------------------------------------------------------------------------------------- properties

    @property
    def payload_capacity(self) -> int:
        return self._payload_size

    @property
    def metadata_capacity(self) -> int:
        return self._metadata_size

    @property
    def max_frame_size(self) -> int:
        return self._payload_size - HEADER

    @property
    def frames_written(self) -> int:
        return self._frames_written

    @property
    def bytes_written(self) -> int:
        return self._bytes_written

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def reader_connected(self) -> bool:
        self._check_open()
        return self._reader_alive()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"operation on a closed writer of buffer '{self.name}'")

    def _reader_alive(self) -> bool:
        pid = self._w_reader_pid.load()
        return pid != 0 and _alive(pid, self._w_reader_start.load())

    # ---------------------------------------------------------------------------------------------- writing

    def write(self, data, timeout: float | None = None) -> int:
        """Copies ``data`` (any buffer-protocol object, or a list/tuple of them gathered into ONE frame, one copy per
        segment) into the ring as one frame; returns its sequence number. Waits up to ``timeout`` seconds for room."""
        if isinstance(data, (list, tuple)):
            segments = []
            length = 0
            for item in data:
                mv = memoryview(item)
                if mv.format != "B" or mv.ndim != 1:
                    mv = mv.cast("B")  # raises for non-contiguous memory, which cannot be copied without a gather
                segments.append(mv)
                length += mv.nbytes
        else:
            segments = None
            if type(data) is bytes or type(data) is bytearray:
                length = len(data)
            else:
                data = memoryview(data)
                if data.format != "B" or data.ndim != 1:
                    data = data.cast("B")
                length = data.nbytes
        lock = self._lock
        lock.acquire()
        try:
            if self._closed or self._loan is not None:
                self._check_open()
                self._refuse_for_loan()
            P = self._payload_size
            total = HEADER + length
            if length <= 0 or (total != P and total > P - HEADER):
                self._check_length(length, False)
            # The path of a frame that fits (4.1): the reader checks of _reserve, then "here" from the cached free bytes.
            position = -1
            if self._w_reader_pid.load() != 0 and _monotonic() < self._next_reader_check and not self._needs_resync:
                write_pos = self._write_pos
                used = P - self._known_free
                if used == 0:
                    contiguous = P - write_pos
                elif used == P:
                    contiguous = 0
                else:
                    oldest = write_pos - used
                    if oldest < 0:
                        oldest += P
                    contiguous = P - write_pos if oldest < write_pos else oldest - write_pos
                remainder = P - write_pos - total
                if total <= contiguous and (remainder >= HEADER or remainder == 0):
                    position = write_pos
                    wrap_from = -1
            if position < 0:
                position, wrap_from = self._reserve(total, False, timeout)
            mm = self._mm
            start = self._payload_offset + position + HEADER
            if segments is None:
                mm[start:start + length] = data
            else:
                for mv in segments:
                    n = mv.nbytes
                    mm[start:start + n] = mv
                    start += n
            return self._publish(position, wrap_from, length)
        finally:
            lock.release()

    def loan(self, size: int, timeout: float | None = None) -> Loan:
        """Space for a frame of up to ``size`` bytes, filled in place through ``loan.data``; ``loan.commit(k)``
        publishes the first k bytes. Waits up to ``timeout`` seconds for room."""
        with self._lock:
            self._check_open()
            if self._loan is not None:
                self._refuse_for_loan()
            total = self._check_length(size, True)
            position, wrap_from = self._reserve(total, True, timeout)
            exporter = _array_type(size).from_buffer(self._mm, self._payload_offset + position + HEADER)
            loan = self._loan = Loan(self, position, wrap_from, size, exporter)
            return loan

    def _refuse_for_loan(self) -> None:
        loan = self._loan
        if loan is None:
            return
        if loan._open:
            raise RuntimeError(
                f"A loan is open on buffer '{self.name}': commit or abandon it before writing or loaning again "
                "(frames are written in order)."
            )
        raise BufferError(
            f"An abandoned loan of buffer '{self.name}' still has a view of its data alive (a slice, cast or NumPy "
            "array); its space cannot be reused while the view lives. Delete the view: the writer then goes on."
        )

    @property
    def loan_pinned(self) -> bool:
        """True while an abandoned loan's views are alive, so that writes and loans raise ``BufferError``."""
        loan = self._loan
        return loan is not None and not loan._open

    def set_metadata(self, data) -> None:
        """Writes the buffer's metadata (once per buffer lifetime)."""
        self._check_open()
        mv = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else data
        n = len(mv)
        if self._metadata_size == 0:
            raise MetadataTooLargeError(
                f"Buffer '{self.name}' was created without a metadata block (metadata size 0), so it takes no metadata."
            )
        if n == 0:
            raise ValueError("Metadata must hold at least one byte.")
        if n + 8 > self._metadata_size:
            raise MetadataTooLargeError(
                f"Metadata of {n} bytes does not fit: buffer '{self.name}' has a {self._metadata_size}-byte metadata "
                f"block, which holds at most {self._metadata_size - 8} bytes after the 8-byte size prefix. Have the "
                "reader create the buffer with a larger metadata_size."
            )
        if self._w_meta_written.load() != 0:
            raise MetadataAlreadyWrittenError(
                f"Metadata was already written to buffer '{self.name}'; it can be written once per buffer lifetime."
            )
        mm = self._mm
        off = self._metadata_offset
        _U64.pack_into(mm, off, n)
        mm[off + 8:off + 8 + n] = mv
        _posix.store_u64(mm, OFF_METADATA_FREE, self._metadata_size - 8 - n)
        # release [metadata-published]
        self._w_meta_written.store(n + 8)

    def _check_length(self, length: int, loan: bool) -> int:
        total = HEADER + length
        P = self._payload_size
        if length <= 0 or (total != P and total > P - HEADER):
            if length <= 0:
                raise ValueError("A frame must hold at least one byte: a zero-length frame has the same header as a wrap marker.")
            mx = P - HEADER
            if length > mx:
                raise FrameTooLargeError(
                    f"A frame of {length} bytes can never fit in buffer '{self.name}': its {P}-byte payload block holds at "
                    f"most {mx} bytes (the block less a 16-byte header). Create the buffer with a larger payload size."
                )
            raise FrameTooLargeError(
                f"A frame of {length} bytes would leave a tail of {P - HEADER - length} bytes in buffer '{self.name}', "
                f"too short for the next frame's header. Frames here may be at most {mx - HEADER} bytes, or exactly {mx}."
            )
        return total

    def _reader_gone_error(self) -> ReaderGoneError:
        return ReaderGoneError(
            f"The reader of '{self.name}' is gone (it died or disposed the buffer); frames can no longer be delivered."
        )

    def _reserve(self, total: int, loan: bool, timeout) -> tuple[int, int]:
        if self._w_reader_pid.load() == 0:
            raise self._reader_gone_error()
        now = time.monotonic()
        if now >= self._next_reader_check:
            self._next_reader_check = now + self._peer_interval
            if not self._reader_alive():
                raise self._reader_gone_error()
        placement, position, wrap_from = self._place(total, loan)
        if placement == _HERE:
            return position, wrap_from
        return self._wait_for_space(total, loan, timeout)

    def _try_place_now(self, total: int, loan: bool):
        while True:
            placement, position, wrap_from = self._place(total, loan)
            if placement == _HERE or placement == _AFTER_WRAP:
                return position, wrap_from
            if placement == _WRAP_FIRST:
                self._publish_wrap()
                continue
            return None

    def _wait_for_space(self, total: int, loan: bool, timeout) -> tuple[int, int]:
        _check_timeout(timeout)
        now = time.monotonic()
        deadline = None if timeout is None else now + timeout
        next_check = now + self._peer_interval
        spins = {WaitStrategy.BUSY_SPIN: -1, WaitStrategy.SPIN_THEN_BLOCK: SPIN_LIMIT}.get(self._wait, 0)
        drained = False
        sem_r = self._sem_r
        while True:
            placed = self._try_place_now(total, loan)
            if placed is not None:
                return placed
            if self._closed:
                raise ValueError(f"the writer of buffer '{self.name}' was closed while writing")
            now = time.monotonic()
            if self._w_reader_pid.load() == 0:
                raise self._reader_gone_error()
            if now >= next_check:
                next_check = now + self._peer_interval
                if not self._reader_alive():
                    raise self._reader_gone_error()
            if deadline is not None and now >= deadline:
                placed = self._try_place_now(total, loan)
                if placed is not None:
                    return placed
                raise TimeoutError(
                    f"No space became free in '{self.name}' within {_describe(timeout)}: the reader is not keeping up "
                    "or holds its frames."
                )
            if spins != 0:
                spins -= 1
                continue
            if not drained:
                sem_r.drain()
                drained = True
                continue
            slice_ = next_check - now
            if deadline is not None and deadline - now < slice_:
                slice_ = deadline - now
            if sem_r.wait(max(slice_, 0.0005)):
                drained = False

    def _place(self, total: int, loan: bool):
        if self._needs_resync and not self._try_resync():
            return _WAIT, 0, -1
        result = self._place_with_free(total, loan, self._known_free)
        if result[0] == _HERE or result[0] == _AFTER_WRAP:
            return result
        # acquire [space-freed]
        free = self._w_free.load()
        self._check_counters(free)
        self._known_free = free
        return self._place_with_free(total, loan, free)

    def _check_counters(self, free: int) -> None:
        P = self._payload_size
        if free > P:
            raise _corrupted(
                self.name,
                f"payload_free_bytes is {free}, more than the {P}-byte payload block; another process added to it, so "
                "this writer will not trust it",
            )
        written = self._w_written.load()
        if self._counts_frames and written != self._written_count:
            raise _corrupted(
                self.name,
                f"payload_written_count is {written}, but this writer has published {self._written_count} items and is "
                "the only one that may change it; another process overwrote it",
            )
        read_count = self._w_read_count.load()
        if read_count > written:
            raise _corrupted(
                self.name,
                f"payload_read_count is {read_count}, above payload_written_count {written}; a reader cannot finish "
                "more items than were written",
            )
        read_pos = self._w_read_pos.load()
        if read_pos > P:
            raise _corrupted(self.name, f"payload_read_pos is {read_pos}, beyond the end of the {P}-byte payload block")

    def _tail_allowed(self, remainder: int, loan: bool, total: int) -> bool:
        return remainder >= HEADER or (remainder == 0 and (not loan or total == self._payload_size))

    def _place_with_free(self, total: int, loan: bool, free: int):
        P = self._payload_size
        write = self._write_pos
        used = P - free
        space_to_end = P - write
        if used == 0:
            oldest = write
            contiguous = space_to_end
            tail_free = True
        elif used == P:
            return _WAIT, write, -1
        else:
            oldest = write - used
            if oldest < 0:
                oldest += P
            tail_free = oldest < write
            contiguous = space_to_end if tail_free else oldest - write
        if total <= contiguous and self._tail_allowed(space_to_end - total, loan, total):
            return _HERE, write, -1
        if not tail_free or write == 0:
            return _WAIT, write, -1
        if total <= oldest and self._tail_allowed(P - total, loan, total):
            return _AFTER_WRAP, 0, write
        if self._counts_frames and space_to_end >= HEADER:
            return _WRAP_FIRST, write, -1
        if used == 0 or (used == space_to_end and space_to_end < HEADER):
            raise FrameTooLargeError(
                f"A frame of {total - HEADER} bytes cannot be placed in buffer '{self.name}': it does not fit between "
                f"write position {write} and the end of the {P}-byte block, and behind a wrap it would overwrite the "
                "wrap marker the reader has not passed, and the wrap cannot be published on its own (the reader is not "
                "a ZeroLane reader, or the tail is too short for a marker); use smaller frames or a payload block at "
                "least twice the largest frame."
            )
        return _WAIT, write, -1

    def _try_resync(self) -> bool:
        written = self._w_written.load()
        released = self._w_read_count.load()
        if released > written:
            raise _corrupted(
                self.name,
                f"payload_read_count is {released}, above payload_written_count {written}; a reader cannot finish more "
                "items than were written",
            )
        if written != released:
            return False
        read_pos = self._w_read_pos.load()
        if read_pos >= self._payload_size:
            raise _corrupted(self.name, f"read_pos {read_pos} lies outside the {self._payload_size}-byte payload block")
        self._write_pos = read_pos
        self._w_write_pos.store(read_pos)
        while True:  # exchange
            old = self._w_free.load()
            if self._w_free.cas(old, self._payload_size):
                break
        self._known_free = self._payload_size
        self._written_count = written
        self._needs_resync = False
        return True

    def _free_corrupted(self, free: int, reserved: int) -> BufferCorruptedError:
        signed = free - (1 << 64) if free >= 1 << 63 else free
        return _corrupted(
            self.name,
            f"payload_free_bytes is {signed} after this writer reserved {reserved} bytes, outside the "
            f"{self._payload_size}-byte payload block (this writer had {self._known_free} bytes of it to itself); "
            "another process changed it",
        )

    def _publish_wrap(self) -> None:
        write = self._write_pos
        space_to_end = self._payload_size - write
        marker = space_to_end >= HEADER
        if marker:
            _pack_header(self._mm, self._payload_offset + write, 0, 0)
        free = self._w_free.add(-space_to_end)
        if free > self._payload_size:
            raise self._free_corrupted(free, space_to_end)
        self._known_free = free
        self._write_pos = 0
        self._w_write_pos.store(0)
        if marker:
            self._written_count += 1
            # release [frame-published]
            self._w_written.store(self._written_count)
            self._sem_w.post()

    def _publish(self, position: int, wrap_from: int, length: int) -> int:
        P = self._payload_size
        mm = self._mm
        total = HEADER + length
        sequence = self._sequence
        _pack_header(mm, self._payload_offset + position, length, sequence)
        consumed = total
        items = 1
        if wrap_from >= 0:
            space_to_end = P - wrap_from
            consumed += space_to_end
            if space_to_end >= HEADER:
                _pack_header(mm, self._payload_offset + wrap_from, 0, 0)
                items = 2
        # space first, count last
        free = self._w_free.add(-consumed)
        if free > P:
            raise self._free_corrupted(free, consumed)
        self._known_free -= consumed
        end = position + total
        self._write_pos = 0 if end == P else end
        self._w_write_pos.store(self._write_pos)
        self._written_count += items
        # release [frame-published]
        self._w_written.store(self._written_count)
        self._sem_w.post()
        self._sequence = sequence + 1
        self._frames_written += 1
        self._bytes_written += length
        return sequence

    # ---------------------------------------------------------------------------------------------- closing

    def close(self) -> None:
        """Disconnects cleanly: clears bit 0 of writer state, then writer_pid, and wakes the reader. An open loan is
        abandoned. A second call does nothing."""
        if getattr(self, "_closed", True) or self._shm is None:
            return
        self._closed = True
        # A write waiting for room in another thread holds the lock: wake it (it sees the writer closed) and take over.
        while not self._lock.acquire(timeout=0.05):
            self._sem_r.post()
        with _Held(self._lock):
            if self._loan is not None:
                self._loan.abandon()
            if self._loan is not None:
                # An abandoned loan's views are alive: stay connected (no other writer may take the ring and have
                # its frames written through them) until the last one goes; its callback disconnects then.
                return
            self._disconnect()

    def _disconnect(self) -> None:
        """Clears bit 0 of writer state, then writer_pid, wakes the reader and lets go of the mapping."""
        # close() and a pinned loan's callback (any thread) may both get here: one does it, without blocking.
        if not self._disconnecting.acquire(False):
            return
        if self._shm is None:
            return
        mm = self._mm
        try:
            if _posix.load_u64(mm, OFF_WRITER_PID) == self._pid:
                while True:
                    state = _posix.load_u64(mm, OFF_WRITER_STATE)
                    if _posix.cas_u64(mm, OFF_WRITER_STATE, state, state & ~WRITER_CONNECTED):
                        break
                if _posix.cas_u64(mm, OFF_WRITER_PID, self._pid, 0):
                    _posix.cas_u64(mm, OFF_WRITER_START, self._start, 0)
            self._sem_w.post()
        finally:
            for word in self._words:
                word.close()
            self._words = []
            self._shm.close()
            self._shm = None
            self._mm = None
            self._sem_w.close()
            self._sem_r.close()

    def __repr__(self) -> str:
        return f"<Writer {self.name!r}{' closed' if self._closed else ''}>"
