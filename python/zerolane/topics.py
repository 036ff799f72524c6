"""Topics: publish/subscribe in shared memory, speaking ZeroLane's topic layout (docs/PROTOCOL.md section 13).

A :class:`Publisher` owns one segment of slots; each :class:`Subscriber` owns one semaphore and claims an entry in every
publisher's segment of the topic. Samples are written once and read in place by every subscriber. Python and C#
publishers and subscribers of one topic interoperate: the bytes in shared memory are the same.

Everything that touches libc goes through :mod:`zerolane._posix`; this module adds the layout, the rules, and flock on
the participants' own files (``fcntl``, standard library).
"""

from __future__ import annotations

import fcntl
import os
import platform
import secrets
import threading
import time
import weakref

from . import _posix as px
from ._closing import Closeable
from .ring import _array_type  # the exporters' ctypes array types, cached and bounded (shared with ring frames)
from .errors import (
    BufferCorruptedError,
    FrameTooLargeError,
    IncompatibleBufferError,
    WriterGoneError,
)

__all__ = ["Publisher", "Subscriber", "Sample", "Subscription", "TopicLoan"]

# ---------------------------------------------------------------------------------------------------------------------
# Layout (PROTOCOL.md 13.2; src/ZeroLane/Topics/TopicLayout.cs)

HEADER_SIZE = 256
MAGIC = 0
VERSION = 4
HEADER_SIZE_FIELD = 6
PUBLISHER_PID = 8
PUBLISHER_START_TIME = 16
MAX_SUBSCRIBERS = 24
SLOT_COUNT = 28
SLOT_CAPACITY = 32
QUEUE_DEPTH = 40
STATE = 44
PUBLISHER_ID = 56
HISTORY_CAPACITY = 64
SUCCESSOR = 72
PREDECESSOR = 80
PUBLISHED = 88
FULL_WRITES = 128
MODIFIED_WRITES = 136
HISTORY_HEAD = 144
HISTORY_RING = 152
MAX_HISTORY = (HEADER_SIZE - HISTORY_RING) // 4  # 26

MAGIC_VALUE = 0x31544C5A  # "ZLT1"
VERSION_VALUE = 1

ENTRY_SIZE = 192
ENTRY_PID = 0
ENTRY_START_TIME = 8
ENTRY_ID = 16
ENTRY_STATE = 24
ENTRY_FLAGS = 28
ENTRY_DROPPED = 32
ENTRY_HISTORY_FROM = 40
ENTRY_HEAD = 64
ENTRY_TAIL = 128

SLOT_ENTRY_SIZE = 64
SLOT_HOLDERS = 0
SLOT_SEQUENCE = 8
SLOT_LENGTH = 16
SLOT_TIMESTAMP = 24

HISTORY_BIT = 1 << 63
MAX_SUBSCRIBER_ENTRIES = 63
ALIGNMENT = 64
DATA_ALIGNMENT = 4096
MAX_SLOT_CAPACITY = 1 << 30

SEGMENT_CREATING, SEGMENT_OPEN, SEGMENT_CLOSED = 0, 1, 2
ENTRY_FREE, ENTRY_ACTIVE, ENTRY_LEAVING = 0, 1, 2
FLAG_BLOCK_PUBLISHER, FLAG_INHERITED = 1, 2
BLOCKS_PUBLISHER_ID_BIT = 2

DEVICE_DIRECTORY = "/dev/shm"
_U64 = (1 << 64) - 1


# Loads and stores of shared words. On x86-64 every aligned load is an acquire and every aligned store a release (the
# orderings the C# side uses for these words), so a plain access through a cached memoryview cast over the mapping
# (one C-level aligned read or write, tens of nanoseconds) does what _posix.load_*/store_* (a libatomic call, about a
# microsecond from Python) does; compare-and-set and fetch-add always go through _posix. Elsewhere, _posix's.
# The casts are buffer exports of the mmap: _forget_words drops them before the mapping is closed.
_words: dict[int, tuple[object, memoryview, memoryview]] = {}
_words_lock = threading.Lock()


def _words_of(mm) -> tuple[object, memoryview, memoryview]:
    with _words_lock:
        entry = _words.get(id(mm))
        if entry is None or entry[0] is not mm:
            raw = memoryview(mm)
            entry = _words[id(mm)] = (mm, raw[: len(raw) // 4 * 4].cast("I"), raw[: len(raw) // 8 * 8].cast("Q"))
            raw.release()
        return entry


def _forget_words(mm) -> None:
    with _words_lock:
        entry = _words.get(id(mm))
        if entry is not None and entry[0] is mm:
            del _words[id(mm)]
            for view in entry[1:]:
                try:
                    view.release()
                except BufferError:
                    pass


if platform.machine() in ("x86_64", "AMD64"):
    def _ld32(mm, off: int) -> int:
        entry = _words.get(id(mm))
        if entry is None or entry[0] is not mm:
            entry = _words_of(mm)
        return entry[1][off >> 2]

    def _ld64(mm, off: int) -> int:
        entry = _words.get(id(mm))
        if entry is None or entry[0] is not mm:
            entry = _words_of(mm)
        return entry[2][off >> 3]

    def _st32(mm, off: int, value: int) -> None:
        entry = _words.get(id(mm))
        if entry is None or entry[0] is not mm:
            entry = _words_of(mm)
        entry[1][off >> 2] = value & 0xFFFFFFFF

    def _st64(mm, off: int, value: int) -> None:
        entry = _words.get(id(mm))
        if entry is None or entry[0] is not mm:
            entry = _words_of(mm)
        entry[2][off >> 3] = value & _U64
else:
    _ld32 = px.load_u32
    _ld64 = px.load_u64
    _st32 = px.store_u32
    _st64 = px.store_u64


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


class Geometry:
    """Where the blocks of a publisher segment lie, from its four sizes (PROTOCOL.md 13.2)."""

    __slots__ = ("entries", "slots", "capacity", "depth", "queue_stride", "queues", "slots_offset", "data", "total")

    def __init__(self, entries: int, slots: int, capacity: int, depth: int) -> None:
        self.entries = entries
        self.slots = slots
        self.capacity = capacity
        self.depth = depth
        self.queue_stride = _align(depth * 4, ALIGNMENT)
        self.queues = _align(HEADER_SIZE + entries * ENTRY_SIZE, ALIGNMENT)
        self.slots_offset = _align(self.queues + entries * self.queue_stride, ALIGNMENT)
        self.data = _align(self.slots_offset + slots * SLOT_ENTRY_SIZE, DATA_ALIGNMENT)
        self.total = self.data + slots * capacity

    def entry(self, i: int) -> int:
        return HEADER_SIZE + i * ENTRY_SIZE

    def queue(self, i: int) -> int:
        return self.queues + i * self.queue_stride

    def slot(self, s: int) -> int:
        return self.slots_offset + s * SLOT_ENTRY_SIZE

    def slot_data(self, s: int) -> int:
        return self.data + s * self.capacity

    def __repr__(self) -> str:
        return f"Geometry(entries={self.entries}, slots={self.slots}, capacity={self.capacity}, depth={self.depth})"


def corrupt(name: str, what: str) -> BufferCorruptedError:
    return BufferCorruptedError(
        f"Buffer '{name}' is corrupted: topic segment {what}. Its publisher must recreate it "
        "(close and start the publisher again).")


def validate(mm, size: int, name: str) -> Geometry | None:
    """Checks a mapped segment's header (13.2) and returns its geometry; None while the publisher is still creating it.

    Raises IncompatibleBufferError for a foreign magic or version, BufferCorruptedError for impossible sizes.
    """
    if size < HEADER_SIZE:
        return None
    state = _ld32(mm, STATE)
    if state == SEGMENT_CREATING:
        return None
    if _ld32(mm, MAGIC) != MAGIC_VALUE:
        raise IncompatibleBufferError(
            f"Topic segment '{name}' does not start with ZeroLane's topic magic; it is not a topic segment or was corrupted.")
    version = _ld32(mm, VERSION) & 0xFFFF
    if version != VERSION_VALUE:
        raise IncompatibleBufferError(
            f"Topic segment '{name}' has layout version {version}; this ZeroLane reads version {VERSION_VALUE}.")
    entries = _ld32(mm, MAX_SUBSCRIBERS)
    slots = _ld32(mm, SLOT_COUNT)
    capacity = _ld64(mm, SLOT_CAPACITY)
    depth = _ld32(mm, QUEUE_DEPTH)
    history = _ld32(mm, HISTORY_CAPACITY)
    if history > MAX_HISTORY or (history > 0 and history >= slots):
        raise corrupt(name, f"'{name}' keeps {history} samples of history in {slots} slots "
                            f"(at most {MAX_HISTORY}, and fewer than the slots)")
    if (not 1 <= entries <= MAX_SUBSCRIBER_ENTRIES or not 1 <= slots <= 1 << 20 or not 1 <= depth <= 1 << 16
            or not 1 <= capacity <= 2**31 - 1 or capacity % ALIGNMENT != 0 or state not in (SEGMENT_OPEN, SEGMENT_CLOSED)):
        raise corrupt(name, f"'{name}' says {entries} subscriber entries, {slots} slots of {capacity} bytes, "
                            f"queues of {depth}, state {state}")
    geometry = Geometry(entries, slots, capacity, depth)
    if geometry.total > size:
        raise corrupt(name, f"'{name}' needs {geometry.total} bytes but the segment has {size}")
    return geometry


# ---------------------------------------------------------------------------------------------------------------------
# Names, discovery, owner locks, stale cleanup (13.1, 13.8)

def new_id() -> int:
    """A random participant ID: 16 hex digits, odd."""
    return secrets.randbits(63) | 1


class Names:
    """The names of a topic's objects (src/ZeroLane/Topics/TopicNames.cs)."""

    def __init__(self, topic: str) -> None:
        px.validate_name(topic)
        self.topic = topic

    def publisher_segment(self, pid: int, ident: int) -> str:
        return f"zlt.{self.topic}.p.{pid}.{ident:016x}"

    def subscriber_semaphore(self, pid: int, ident: int) -> str:
        return f"/zlt.{self.topic}.s.{pid}.{ident:016x}"

    @staticmethod
    def publisher_semaphore(segment: str) -> str:
        return "/" + segment

    @staticmethod
    def segment_path(segment: str) -> str:
        return f"{DEVICE_DIRECTORY}/{segment}"

    @staticmethod
    def semaphore_path(semaphore: str) -> str:
        return f"{DEVICE_DIRECTORY}/sem.{semaphore.lstrip('/')}"

    def find_publishers(self) -> list[tuple[str, int, int]]:
        return self._find(f"zlt.{self.topic}.p.", strip="")

    def find_publisher_semaphores(self) -> list[tuple[str, int, int]]:
        return self._find(f"sem.zlt.{self.topic}.p.", strip="sem.", slash=True)

    def find_subscribers(self) -> list[tuple[str, int, int]]:
        return self._find(f"sem.zlt.{self.topic}.s.", strip="sem.", slash=True)

    @staticmethod
    def _find(prefix: str, strip: str, slash: bool = False) -> list[tuple[str, int, int]]:
        found = []
        try:
            files = os.listdir(DEVICE_DIRECTORY)
        except OSError:
            return found
        for file in sorted(files):
            if not file.startswith(prefix):
                continue
            rest = file[len(prefix):].split(".")
            if len(rest) != 2 or not rest[0].isdigit() or len(rest[1]) != 16:
                continue
            try:
                pid, ident = int(rest[0]), int(rest[1], 16)
            except ValueError:
                continue
            name = file[len(strip):]
            found.append(("/" + name if slash else name, pid, ident))
        return found


class OwnerLock:
    """The flock an owner holds on its object's own file while it lives (13.1); O_NOFOLLOW, so a planted symlink is
    refused. Released through :class:`_posix.LockFile` (removes the file, then drops the lock)."""

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BaseException:
            os.close(fd)
            raise
        self._lock = px.LockFile(path, fd)

    def release(self) -> None:
        self._lock.release()


def try_remove_stale(path: str) -> bool:
    """Removes ``path`` if nobody holds the flock on it (its owner is gone). Never follows a symlink."""
    try:
        return px.LockFile.try_remove_stale(path)
    except OSError:
        return False  # another user's object, or a race with its owner or another cleaner


def _unlink_semaphore(name: str) -> None:
    try:
        px.Semaphore.unlink(name)
    except OSError:
        pass


def _alive(pid: int, start_time: int = 0) -> bool:
    if pid <= 0 or pid > 2**31 - 1:
        return False
    return px.process_alive(pid, start_time)


def remove_stale(names: Names) -> int:
    """Removes the files of the topic's participants that died (13.8); returns how many participants' files went."""
    removed = 0
    for segment, pid, _ in names.find_publishers():
        if not _alive(pid):
            _unlink_semaphore(Names.publisher_semaphore(segment))
            if try_remove_stale(Names.segment_path(segment)):
                removed += 1
    for semaphore, pid, _ in names.find_publisher_semaphores():
        if not _alive(pid) and not os.path.exists(Names.segment_path(semaphore.lstrip("/"))):
            _unlink_semaphore(semaphore)
    for semaphore, pid, _ in names.find_subscribers():
        if not _alive(pid) and try_remove_stale(Names.semaphore_path(semaphore)):
            removed += 1
    return removed


def _self_identity() -> tuple[int, int]:
    pid = os.getpid()
    return pid, px.process_start_time(pid)


# ---------------------------------------------------------------------------------------------------------------------
# Shared-word helpers over one mapping

class _Segment:
    """Typed access to a mapped publisher segment (src/ZeroLane/Topics/TopicSegment.cs)."""

    __slots__ = ("mm", "g", "name")

    def __init__(self, mm, geometry: Geometry, name: str) -> None:
        self.mm = mm
        self.g = geometry
        self.name = name

    def state(self) -> int:
        return _ld32(self.mm, STATE)

    def entry_state(self, i: int) -> int:
        return _ld32(self.mm, self.g.entry(i) + ENTRY_STATE)

    def entry_states(self) -> list[int]:
        """Every entry's state word, in one pass (each word loaded on its own, as entry_state does)."""
        if _ld32 is px.load_u32:
            return [self.entry_state(i) for i in range(self.g.entries)]
        first = (HEADER_SIZE + ENTRY_STATE) >> 2
        stride = ENTRY_SIZE >> 2
        return _words_of(self.mm)[1][first:first + stride * self.g.entries:stride].tolist()

    def set_entry_state(self, i: int, state: int) -> None:
        _st32(self.mm, self.g.entry(i) + ENTRY_STATE, state)

    def entry_flags(self, i: int) -> int:
        return _ld32(self.mm, self.g.entry(i) + ENTRY_FLAGS)

    def set_entry_flags(self, i: int, flags: int) -> None:
        _st32(self.mm, self.g.entry(i) + ENTRY_FLAGS, flags)

    def entry_id(self, i: int) -> int:
        return _ld64(self.mm, self.g.entry(i) + ENTRY_ID)

    def set_entry_id(self, i: int, ident: int) -> None:
        _st64(self.mm, self.g.entry(i) + ENTRY_ID, ident)

    def entry_pid(self, i: int) -> int:
        return _ld64(self.mm, self.g.entry(i) + ENTRY_PID)

    def entry_identity(self, i: int) -> tuple[int, int]:
        off = self.g.entry(i)
        return _ld64(self.mm, off + ENTRY_PID), _ld64(self.mm, off + ENTRY_START_TIME)

    def entry_alive(self, i: int) -> bool:
        pid, start = self.entry_identity(i)
        return pid != 0 and _alive(pid, start)

    def try_claim_if_free(self, i: int, pid: int, start: int) -> bool:
        off = self.g.entry(i)
        if _ld64(self.mm, off + ENTRY_PID) != 0:
            return False
        _st64(self.mm, off + ENTRY_START_TIME, 0)
        if not px.cas_u64(self.mm, off + ENTRY_PID, 0, pid):
            return False
        _st64(self.mm, off + ENTRY_START_TIME, start)
        return True

    def initialize_entry_identity(self, i: int, pid: int, start: int) -> None:
        off = self.g.entry(i)
        _st64(self.mm, off + ENTRY_START_TIME, start)
        _st64(self.mm, off + ENTRY_PID, pid)

    def try_clear_entry(self, i: int, pid: int, start: int) -> bool:
        off = self.g.entry(i)
        if not px.cas_u64(self.mm, off + ENTRY_PID, pid, 0):
            return False
        px.cas_u64(self.mm, off + ENTRY_START_TIME, start, 0)
        return True

    def try_end_inheritance(self, i: int, next_state: int) -> bool:
        """One compare-and-set of the state and flags words together (13.7): take over (active) or let go (leaving)."""
        off = self.g.entry(i) + ENTRY_STATE
        word = _ld64(self.mm, off)
        flags = word >> 32
        if word & 0xFFFFFFFF != ENTRY_ACTIVE or not flags & FLAG_INHERITED:
            return False
        return px.cas_u64(self.mm, off, word, next_state | ((flags & ~FLAG_INHERITED) << 32))

    def is_awaited(self, i: int) -> bool:
        return self.entry_state(i) == ENTRY_ACTIVE and bool(self.entry_flags(i) & FLAG_INHERITED)

    def head_offset(self, i: int) -> int:
        return self.g.entry(i) + ENTRY_HEAD

    def tail_offset(self, i: int) -> int:
        return self.g.entry(i) + ENTRY_TAIL

    def dropped_offset(self, i: int) -> int:
        return self.g.entry(i) + ENTRY_DROPPED

    def history_from_offset(self, i: int) -> int:
        return self.g.entry(i) + ENTRY_HISTORY_FROM

    def queued_slot(self, i: int, position: int) -> int:
        """The slot index at a queue position, checked: a queue is written by subscribers too."""
        slot = _ld32(self.mm, self.g.queue(i) + 4 * (position % self.g.depth))
        if slot >= self.g.slots:
            raise corrupt(self.name, f"'{self.name}' has subscriber queue {i} naming slot {slot} of {self.g.slots}")
        return slot

    def set_queued_slot(self, i: int, position: int, slot: int) -> None:
        _st32(self.mm, self.g.queue(i) + 4 * (position % self.g.depth), slot)

    def holders_offset(self, slot: int) -> int:
        return self.g.slot(slot) + SLOT_HOLDERS

    def holders(self, slot: int) -> int:
        return _ld64(self.mm, self.g.slot(slot) + SLOT_HOLDERS)

    def clear_holders(self, slot: int, bits: int) -> None:
        off = self.g.slot(slot) + SLOT_HOLDERS
        while True:
            holders = _ld64(self.mm, off)
            if not holders & bits or px.cas_u64(self.mm, off, holders, holders & ~bits & _U64):
                return

    def queued_count(self, i: int, tail: int, head: int) -> int:
        count = (tail - head) & _U64
        if count > self.g.depth:
            raise corrupt(self.name, f"'{self.name}' has subscriber queue {i} running from position {head} to {tail}, "
                                     f"more than its depth {self.g.depth}")
        return count


def _close_mapping(shm) -> None:
    """Unmaps a SharedMemory, or, while views into it are still exported, leaves the mapping to go with the last of
    them (SharedMemory.close), so no view can ever read unmapped memory."""
    if shm.mmap is not None:
        _forget_words(shm.mmap)
    shm.close()


def _bytes_of(data) -> memoryview:
    view = memoryview(data)
    if view.format != "B" or view.ndim != 1 or not view.c_contiguous:
        view = view.cast("B") if view.c_contiguous else memoryview(view.tobytes())
    return view


# ---------------------------------------------------------------------------------------------------------------------
# Publisher

_LOAN_VIEWS_ALIVE = (
    "a view of loan.data (a slice, cast or NumPy array) is still alive; delete it before commit - the loan stays open"
)

# Loans abandoned with views alive, kept (with the weak reference whose callback unpins them) until the views go.
_pinned_loans: set = set()


class TopicLoan:
    """A slot lent for one sample: fill ``data`` (writable, ``n`` bytes) in place, then ``commit(k)``.

    Leaving the ``with`` block without committing publishes nothing. Lifetime rule (docs/PROTOCOL.md 4.7, as for ring
    loans): ``commit`` raises ``BufferError`` while a view derived from ``data`` (a slice, a cast, a NumPy array) is
    alive, and the loan stays open; the commit releases ``data`` itself. A loan abandoned while such views live keeps
    its slot out of use: the publisher refuses writes and loans with ``BufferError`` until the last view is gone.
    """

    __slots__ = ("_publisher", "_slot", "_size", "_view", "_watch", "_open", "_pin", "sequence")

    def __init__(self, publisher: "Publisher", slot: int, size: int) -> None:
        self._publisher = publisher
        self._slot = slot
        self._size = size
        exporter = publisher._slot_exporter(slot, size)
        # Our view's buffer is the exporter's only strong holder besides the views derived from it.
        self._view: memoryview | None = memoryview(exporter).cast("B")
        self._watch = weakref.ref(exporter)
        self._open = True
        self._pin = None
        self.sequence: int | None = None

    @property
    def data(self) -> memoryview:
        if not self._open:
            raise ValueError("the loan is committed or abandoned; its memory belongs to the publisher again")
        return self._view

    def __len__(self) -> int:
        return self._size

    def _let_go(self) -> bool:
        """Releases our view; True when no view of the slot remains. Otherwise the loan keeps a (new) view."""
        try:
            self._view.release()
        except BufferError:
            return False  # a NumPy array (or another export) of our view itself
        if self._watch() is None:
            return True
        exporter = self._watch()
        if exporter is None:
            exporter = self._publisher._slot_exporter(self._slot, self._size)
            self._watch = weakref.ref(exporter)
        self._view = memoryview(exporter).cast("B")
        return False

    def commit(self, length: int | None = None) -> int:
        """Publishes the first ``length`` bytes (default: all of them); returns the sample's sequence number.
        Raises ``BufferError`` (the loan stays open) while a view derived from ``data`` is alive."""
        if not self._open:
            raise ValueError("the loan is already committed or abandoned")
        length = self._size if length is None else length
        if not 1 <= length <= self._size:
            raise ValueError(f"commit {length} bytes: a loan of {self._size} bytes commits 1 to {self._size}")
        if not self._let_go():
            raise BufferError(_LOAN_VIEWS_ALIVE)
        self._open = False
        self._view = None
        self._publisher._loan = None
        self.sequence = self._publisher._publish(self._slot, length)
        return self.sequence

    def abandon(self) -> None:
        """Publishes nothing. While views derived from ``data`` live, the slot stays out of use and the publisher
        refuses writes and loans (``BufferError``) until the last of them is gone."""
        if not self._open:
            return
        self._open = False
        if self._let_go():
            self._view = None
            self._publisher._loan = None
            return
        self._view = None
        exporter = self._watch()
        if exporter is None:  # the last view went meanwhile (another thread)
            self._publisher._loan = None
            return
        self._pin = weakref.ref(exporter, self._views_gone)
        del exporter
        _pinned_loans.add(self)
        if self._watch() is None:
            self._views_gone(None)

    def _views_gone(self, _ref) -> None:
        # Any thread, possibly inside the collector: no locks.
        _pinned_loans.discard(self)
        self._pin = None
        if self._publisher._loan is self:
            self._publisher._loan = None

    def __enter__(self) -> "TopicLoan":
        return self

    def __exit__(self, *exc) -> None:
        self.abandon()


class _OwnedSegment:
    """A publisher segment as its publisher owns it: mapped, flocked, with its "slot released" semaphore."""

    def __init__(self, name: str, ident: int, shm, lock: OwnerLock, geometry: Geometry) -> None:
        self.name = name
        self.id = ident
        self.shm = shm
        self.lock = lock
        self.mm = shm.mmap
        self.g = geometry
        self.seg = _Segment(self.mm, geometry, name)
        self.released = None
        self.disposed = False

    @classmethod
    def create(cls, names: Names, pid: int, start_time: int, ident: int, publisher_id: int, predecessor: int,
               geometry: Geometry, history: int, mode: int, full_writes: int = 0,
               modified_writes: int = 0) -> "_OwnedSegment":
        """Creates the segment and writes its header, all but the state word (subscribers leave it alone until open)."""
        name = names.publisher_segment(pid, ident)
        shm = px.SharedMemory.create(name, geometry.total, mode, px.DERIVED_NAME_LENGTH)
        try:
            lock = OwnerLock(Names.segment_path(name))
        except BaseException:
            shm.close()
            px.SharedMemory.unlink(name, px.DERIVED_NAME_LENGTH)
            raise
        owned = cls(name, ident, shm, lock, geometry)
        mm = owned.mm
        _st32(mm, MAGIC, MAGIC_VALUE)
        _st32(mm, VERSION, VERSION_VALUE | (HEADER_SIZE << 16))
        _st64(mm, PUBLISHER_START_TIME, start_time)
        _st64(mm, PUBLISHER_PID, pid)
        _st32(mm, MAX_SUBSCRIBERS, geometry.entries)
        _st32(mm, SLOT_COUNT, geometry.slots)
        _st64(mm, SLOT_CAPACITY, geometry.capacity)
        _st32(mm, QUEUE_DEPTH, geometry.depth)
        _st64(mm, PUBLISHER_ID, publisher_id)
        _st64(mm, PREDECESSOR, predecessor)
        _st64(mm, FULL_WRITES, full_writes)
        _st64(mm, MODIFIED_WRITES, modified_writes)
        _st32(mm, HISTORY_CAPACITY, history)
        return owned

    def preregister_waiting_subscribers(self, names: Names) -> int:
        """Gives each live subscriber already there an inherited entry, so it misses nothing (13.4)."""
        entries = 0
        nxt = 0
        for _, pid, ident in names.find_subscribers():
            if nxt == self.g.entries:
                break
            if not _alive(pid) or not self.seg.try_claim_if_free(nxt, pid, 0):
                continue
            self.seg.set_entry_id(nxt, ident)
            flags = FLAG_INHERITED | (FLAG_BLOCK_PUBLISHER if ident & BLOCKS_PUBLISHER_ID_BIT else 0)
            self.seg.set_entry_flags(nxt, flags)
            self.seg.set_entry_state(nxt, ENTRY_ACTIVE)
            entries |= 1 << nxt
            nxt += 1
        return entries

    def open(self, mode: int) -> None:
        # release [segment-ready], then the semaphore: its appearance tells subscribers the publisher is ready.
        _st32(self.mm, STATE, SEGMENT_OPEN)
        self.released = px.Semaphore.create(Names.publisher_semaphore(self.name), mode, 0)

    def close_state(self) -> None:
        _st32(self.mm, STATE, SEGMENT_CLOSED)  # release [segment-closed]

    def dispose(self) -> None:
        """Removes the segment's name and semaphore and unmaps it (subscribers still mapping it keep its pages)."""
        if self.disposed:
            return
        self.disposed = True
        _st64(self.mm, PUBLISHER_START_TIME, 0)
        _st64(self.mm, PUBLISHER_PID, 0)
        self.lock.release()  # removes the segment's name
        _close_mapping(self.shm)
        if self.released is not None:
            self.released.close()
            _unlink_semaphore(Names.publisher_semaphore(self.name))
            self.released = None


class Publisher(Closeable):
    """Publishes samples on a topic, in place in shared memory of its own, to every subscriber at once.

    ``slot_capacity`` is the largest sample at first (rounded up to 64 bytes). A larger sample moves the publisher to a
    new segment with slots at least twice as large (up to 1 GiB), without losing, tearing or repeating a sample for any
    subscriber (13.7); with ``allow_growth=False`` it raises FrameTooLargeError. One writing thread at a time.
    """

    def __init__(self, topic: str, *, slot_capacity: int = 1 << 20, slots: int = 8, max_subscribers: int = 16,
                 queue_depth: int = 4, history: int = 0, acknowledge_timeout: float | None = 1.0, mode: int = 0o600,
                 peer_check_interval: float = 0.1, allow_growth: bool = True) -> None:
        self._names = Names(topic)
        if not 1 <= slot_capacity <= MAX_SLOT_CAPACITY:
            raise ValueError(f"slot_capacity must be from 1 byte to {MAX_SLOT_CAPACITY} bytes, not {slot_capacity}")
        if not 1 <= slots <= 1 << 16:
            raise ValueError(f"slots must be from 1 to 65,536, not {slots}")
        if not 1 <= max_subscribers <= MAX_SUBSCRIBER_ENTRIES:
            raise ValueError(f"max_subscribers must be from 1 to {MAX_SUBSCRIBER_ENTRIES}, not {max_subscribers}")
        if not 0 <= history <= MAX_HISTORY or (history > 0 and slots <= history):
            raise ValueError(f"history must be from 0 to {MAX_HISTORY}, and slots more than history (kept samples pin "
                             f"their slots): history {history}, slots {slots}")
        if not 1 <= queue_depth <= 1 << 16:
            raise ValueError(f"queue_depth must be from 1 to 65,536, not {queue_depth}")
        if acknowledge_timeout is not None and acknowledge_timeout < 0:
            raise ValueError("acknowledge_timeout must be 0 or more seconds, or None (wait forever)")
        if peer_check_interval <= 0:
            raise ValueError("peer_check_interval must be positive")
        self._history = history
        self._ack_timeout = acknowledge_timeout
        self._mode = mode
        self._peer_interval = peer_check_interval
        self._pid, self._start_time = _self_identity()
        self.id = new_id()
        self._closed = False
        self._closing = False
        self._waiting = 0
        self._loan: TopicLoan | None = None
        self._last_slot = -1
        self._last_length = 0
        self._next_search = 0
        self._sequence = 1
        self._history_head = 0
        self._previous_present = 0
        self._sems: dict[int, tuple[int, object]] = {}  # entry -> (subscriber id, Semaphore or None)
        self.samples_published = 0
        self.full_writes = 0
        self.modified_writes = 0
        self.samples_dropped = 0
        self._allow_growth = allow_growth
        self._retired: list[_OwnedSegment] = []
        self.growth_count = 0
        geometry = Geometry(max_subscribers, slots, _align(slot_capacity, ALIGNMENT), queue_depth)
        remove_stale(self._names)
        owned = _OwnedSegment.create(self._names, self._pid, self._start_time, self.id, self.id, 0, geometry,
                                     history, mode)
        try:
            waiting = owned.preregister_waiting_subscribers(self._names)
            owned.open(mode)
        except BaseException:
            owned.dispose()
            raise
        self._use(owned)
        self._previous_present = waiting
        self._next_liveness = time.monotonic() + peer_check_interval

    def _use(self, owned: "_OwnedSegment") -> None:
        self._owned = owned
        self.segment_name = owned.name
        self._mm = owned.mm
        self._seg = owned.seg
        self._g = owned.g
        self._released = owned.released
        self._last_slot = -1
        self._next_search = 0

    # -- properties -----------------------------------------------------------------------------------------------
    @property
    def topic(self) -> str:
        return self._names.topic

    @property
    def max_sample_size(self) -> int:
        return self._g.capacity

    @property
    def subscriber_count(self) -> int:
        self._check_open()
        return sum(1 for i in range(self._g.entries) if self._seg.entry_state(i) == ENTRY_ACTIVE)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the publisher of topic '{self.topic}' is closed")

    # -- setup / teardown -----------------------------------------------------------------------------------------
    def close(self) -> None:
        """Stops publishing: marks the segment closed (subscribers read what is queued for them, then learn that the
        publisher left) and removes its segment and semaphore. Subscribers still mapping it keep its pages."""
        if self._closed or self._closing:
            return
        self._closing = True
        while self._waiting:  # a write waiting in another thread: wake it (it raises) before the semaphore goes
            self._released.post()
            time.sleep(0.001)
        if self._loan is not None:
            self._loan.abandon()
        self._await_inheritors()
        self._closed = True
        self._owned.close_state()
        for i in range(self._g.entries):
            if self._seg.entry_state(i) == ENTRY_ACTIVE:
                sem = self._sem_of(i)
                if sem is not None:
                    sem.post()
        for _, sem in self._sems.values():
            if sem is not None:
                sem.close()
        self._sems.clear()
        for retired in self._retired:
            retired.dispose()
        self._retired.clear()
        self._owned.dispose()

    def _await_inheritors(self) -> None:
        """Waits, at most the acknowledge timeout, for subscribers the publisher made entries for to take them over."""
        if not self._retired and not self._has_awaited(self._seg):
            return
        timeout = 10.0 if self._ack_timeout is None else self._ack_timeout
        deadline = time.monotonic() + timeout
        while True:
            self._check_inherited()
            if (not self._retired and not self._has_awaited(self._seg)) or time.monotonic() >= deadline:
                return
            time.sleep(0.002)

    def _has_awaited(self, seg: _Segment) -> bool:
        return any(seg.is_awaited(i) for i in range(seg.g.entries))

    # -- writing --------------------------------------------------------------------------------------------------
    def write(self, data, timeout=...) -> int | None:
        """Publishes one sample and returns its sequence number.

        ``data`` is any buffer-protocol object (copied once into a slot), a list or tuple of them (gathered into one
        sample), or a payload writer: an object with ``get_size()``, ``write_full(buf)`` and optionally
        ``write_modified(buf)`` that fills the slot in place (PROTOCOL.md 13.5); a writer returning False abandons the
        sample and ``write`` returns None. Waits at most ``timeout`` seconds (default: the acknowledge timeout; None:
        forever) for a free slot, then raises TimeoutError.
        """
        self._check_open()
        self._check_no_loan()
        if hasattr(data, "get_size") and hasattr(data, "write_full"):
            return self._write_payload(data, timeout)
        if isinstance(data, (list, tuple)):
            parts = [_bytes_of(part) for part in data]
        else:
            parts = [_bytes_of(data)]
        size = sum(len(p) for p in parts)
        self._check_length(size)
        slot = self._acquire_slot(timeout)
        self._last_slot = -1  # should a copy fail half-way, the slot no longer holds the previous sample
        base = self._g.slot_data(slot)
        mm = self._mm
        for part in parts:
            n = len(part)
            mm[base:base + n] = part
            base += n
        return self._publish(slot, size)

    def _write_payload(self, writer, timeout) -> int | None:
        size = int(writer.get_size())
        self._check_length(size)
        slot = self._acquire_slot(timeout)
        modified = slot == self._last_slot and size == self._last_length
        # Whatever happens next, the slot no longer holds the previous sample for certain.
        self._last_slot = -1
        # The payload writer fills the slot through a loan: a view of it kept past write_full (a slice, a NumPy
        # array) would write into a published or reused slot, so the sample is then not published (BufferError) and
        # the slot stays out of use until the view goes, as for an abandoned loan.
        loan = self._loan = TopicLoan(self, slot, size)
        try:
            if modified:
                method = getattr(writer, "write_modified", None) or writer.write_full
                ok = method(loan._view)
            else:
                ok = writer.write_full(loan._view)
        except BaseException:
            loan.abandon()
            raise
        if ok is False:
            loan.abandon()
            return None
        if not loan._let_go():
            loan.abandon()
            raise BufferError(
                f"the payload writer {type(writer).__name__} kept a view of the slot it filled (a slice, cast or "
                f"NumPy array) past write_full; the sample of topic '{self.topic}' was not published. Do not keep "
                "views of the buffer: the publisher refuses writes until that view is gone.")
        loan._open = False
        loan._view = None
        self._loan = None
        if modified:
            self.modified_writes += 1
            _st64(self._mm, MODIFIED_WRITES, self.modified_writes)
        else:
            self.full_writes += 1
            _st64(self._mm, FULL_WRITES, self.full_writes)
        return self._publish(slot, size)

    def loan(self, n: int, timeout=...) -> TopicLoan:
        """Lends a slot for a sample of up to ``n`` bytes: ``with pub.loan(n) as loan: loan.data[:k] = ...; loan.commit(k)``."""
        self._check_open()
        self._check_no_loan()
        self._check_length(n)
        slot = self._acquire_slot(timeout)
        self._last_slot = -1
        self._loan = TopicLoan(self, slot, n)
        return self._loan

    def _slot_exporter(self, slot: int, size: int):
        """A ctypes array on the slot's first ``size`` bytes: the exporter of a loan's views, watched by weakref."""
        return _array_type(size).from_buffer(self._mm, self._g.slot_data(slot))

    def _check_no_loan(self) -> None:
        loan = self._loan
        if loan is not None:
            if not loan._open:
                raise BufferError(
                    f"An abandoned loan of topic '{self.topic}' still has a view of its data alive (a slice, cast or "
                    "NumPy array); its slot cannot be reused while the view lives. Delete the view: the publisher "
                    "then goes on.")
            raise ValueError(f"a loan is open on topic '{self.topic}': commit or abandon it before writing or loaning again")

    @property
    def loan_pinned(self) -> bool:
        """True while an abandoned loan's views are alive, so that writes and loans raise ``BufferError``."""
        loan = self._loan
        return loan is not None and not loan._open

    def _check_length(self, length: int) -> None:
        if length <= 0:
            raise ValueError("a sample must hold at least one byte")
        if length > self._g.capacity:
            if not self._allow_growth or length > MAX_SLOT_CAPACITY:
                raise FrameTooLargeError(
                    f"A sample of {length} bytes does not fit topic '{self.topic}': this publisher's slots take at most "
                    f"{self._g.capacity} bytes" + (
                        f" and grow to at most {MAX_SLOT_CAPACITY} bytes. Split the sample." if self._allow_growth else
                        ". Create the Publisher with a larger slot_capacity, or with allow_growth=True."))
            self._grow(length)

    # -- slots ----------------------------------------------------------------------------------------------------
    def _acquire_slot(self, timeout) -> int:
        slot = self._try_get_slot()
        if slot >= 0:
            return slot
        if timeout is ...:
            timeout = self._ack_timeout
        slot = self._wait_for_free_slot(timeout)
        if slot < 0:
            # Subscribers that asked to block the publisher have had their time: as a last resort, their oldest go.
            slot = self._drop_oldest_until_free(include_blocking=True)
        if slot < 0:
            raise TimeoutError(
                f"No slot of topic '{self.topic}' became free within {timeout} s: every slot is held by a subscriber "
                "that has not released it. Have subscribers release samples sooner, or give the publisher more slots.")
        return slot

    def _wait_for_free_slot(self, timeout) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        self._reclaim_departed(check_liveness=True)
        next_check = time.monotonic() + self._peer_interval
        while True:
            slot = self._try_get_slot()
            if slot >= 0:
                return slot
            now = time.monotonic()
            if now >= next_check:
                self._reclaim_departed(check_liveness=True)
                next_check = now + self._peer_interval
            if deadline is not None and now >= deadline:
                return -1
            wait = next_check - now if deadline is None else min(next_check, deadline) - now
            self._sleep(wait)

    def _sleep(self, seconds: float) -> None:
        """Waits on the "slot released" semaphore; close() from another thread wakes it and makes the write fail."""
        if self._closing:
            raise ValueError(f"the publisher of topic '{self.topic}' is closed")
        self._waiting += 1
        try:
            self._released.wait(max(seconds, 0.0))
        finally:
            self._waiting -= 1
        if self._closing:
            raise ValueError(f"the publisher of topic '{self.topic}' was closed while a write waited")

    def _try_get_slot(self) -> int:
        self._reclaim_departed(check_liveness=time.monotonic() >= self._next_liveness)
        seg = self._seg
        if self._last_slot >= 0 and seg.holders(self._last_slot) == 0:
            return self._last_slot
        n = self._g.slots
        for k in range(n):
            candidate = (self._next_search + k) % n
            if seg.holders(candidate) == 0:
                self._next_search = (candidate + 1) % n
                return candidate
        return self._drop_oldest_until_free(include_blocking=False)

    def _blocks(self, i: int) -> bool:
        return bool(self._seg.entry_flags(i) & FLAG_BLOCK_PUBLISHER)

    def _drop_oldest_until_free(self, include_blocking: bool) -> int:
        seg, mm = self._seg, self._mm
        while True:
            oldest_entry, oldest_head, oldest_sequence = -1, 0, _U64 + 1
            for i in range(self._g.entries):
                if seg.entry_state(i) != ENTRY_ACTIVE or (not include_blocking and self._blocks(i)):
                    continue
                head = _ld64(mm, seg.head_offset(i))
                if seg.queued_count(i, _ld64(mm, seg.tail_offset(i)), head) == 0:
                    continue
                sequence = _ld64(mm, self._g.slot(seg.queued_slot(i, head)) + SLOT_SEQUENCE)
                if sequence < oldest_sequence:
                    oldest_entry, oldest_head, oldest_sequence = i, head, sequence
            if oldest_entry < 0:
                return -1
            dropped = self._drop_head(oldest_entry, oldest_head)
            if dropped >= 0 and seg.holders(dropped) == 0:
                return dropped

    def _drop_head(self, i: int, head: int) -> int:
        seg = self._seg
        slot = seg.queued_slot(i, head)
        if not px.cas_u64(self._mm, seg.head_offset(i), head, head + 1):
            return -1
        seg.clear_holders(slot, 1 << i)
        px.fetch_add_u64(self._mm, seg.dropped_offset(i), 1)
        self.samples_dropped += 1
        return slot

    # -- publishing -----------------------------------------------------------------------------------------------
    def _publish(self, slot: int, length: int) -> int:
        mm, seg, g = self._mm, self._seg, self._g
        meta = g.slot(slot)
        sequence = self._sequence
        self._sequence += 1
        _st64(mm, meta + SLOT_SEQUENCE, sequence)
        _st64(mm, meta + SLOT_LENGTH, length)
        _st64(mm, meta + SLOT_TIMESTAMP, time.time_ns())
        present = 0
        for i, state in enumerate(seg.entry_states()):
            if state == ENTRY_ACTIVE:
                present |= 1 << i
            elif state == ENTRY_LEAVING:
                self._reclaim(i, dead=False)
        keep = self._history > 0
        # Holders first: once a slot is in a queue its subscriber may take, read and release it at once.
        _st64(mm, seg.holders_offset(slot), present | (HISTORY_BIT if keep else 0))
        joined = present & ~self._previous_present if keep else 0
        self._previous_present = present
        i = 0
        while present >> i:
            if present >> i & 1:
                if joined >> i & 1:
                    self._queue_kept_since_join(i)
                self._enqueue(i, slot)
                sem = self._sem_of(i)
                if sem is not None and sem.value() <= 0:
                    sem.post()
            i += 1
        if keep:
            self._keep_in_history(slot)
        _st64(mm, PUBLISHED, sequence)
        self.samples_published += 1
        self._last_slot = slot
        self._last_length = length
        return sequence

    def _enqueue(self, i: int, slot: int) -> None:
        mm, seg = self._mm, self._seg
        depth = self._g.depth
        tail = _ld64(mm, seg.tail_offset(i))
        if seg.queued_count(i, tail, _ld64(mm, seg.head_offset(i))) >= depth and self._blocks(i):
            self._wait_for_queue_room(i, tail, depth)
        while True:
            head = _ld64(mm, seg.head_offset(i))
            if seg.queued_count(i, tail, head) < depth:
                break
            self._drop_head(i, head)  # a full queue: its oldest sample goes
        seg.set_queued_slot(i, tail, slot)
        _st64(mm, seg.tail_offset(i), tail + 1)  # release [sample-queued]

    def _wait_for_queue_room(self, i: int, tail: int, depth: int) -> None:
        timeout = self._ack_timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        next_check = time.monotonic() + self._peer_interval
        mm, seg = self._mm, self._seg
        while (tail - _ld64(mm, seg.head_offset(i))) & _U64 >= depth and seg.entry_state(i) == ENTRY_ACTIVE:
            now = time.monotonic()
            if now >= next_check:
                if not seg.entry_alive(i):
                    return
                next_check = now + self._peer_interval
            if deadline is not None and now >= deadline:
                return
            wait = next_check - now if deadline is None else min(next_check, deadline) - now
            self._sleep(wait)

    def _history_position(self, position: int) -> int:
        return HISTORY_RING + 4 * (position % self._history)

    def _kept_slot(self, offset: int) -> int:
        slot = _ld32(self._mm, offset)
        if slot >= self._g.slots:
            raise corrupt(self.segment_name, f"'{self.segment_name}' has a history ring naming slot {slot} of {self._g.slots}")
        return slot

    def _keep_in_history(self, slot: int) -> None:
        offset = self._history_position(self._history_head)
        if self._history_head >= self._history:
            self._seg.clear_holders(self._kept_slot(offset), HISTORY_BIT)
        _st32(self._mm, offset, slot)
        self._history_head += 1
        _st64(self._mm, HISTORY_HEAD, self._history_head)  # release [history-kept]

    def _queue_kept_since_join(self, i: int) -> None:
        mm, seg = self._mm, self._seg
        from_offset = seg.history_from_offset(i)
        bit = 1 << i
        oldest_kept = self._history_head - min(self._history_head, self._history)
        position = max(_ld64(mm, from_offset), oldest_kept)
        while position < self._history_head:
            kept = self._kept_slot(self._history_position(position))
            if self._try_hold_kept(kept, bit):
                if _ld64(mm, from_offset) > position:
                    seg.clear_holders(kept, bit)  # the subscriber claimed it itself meanwhile
                else:
                    self._enqueue(i, kept)
            position += 1

    def _try_hold_kept(self, slot: int, bit: int) -> bool:
        off = self._seg.holders_offset(slot)
        while True:
            holders = _ld64(self._mm, off)
            if not holders & HISTORY_BIT or holders & bit:
                return False
            if px.cas_u64(self._mm, off, holders, holders | bit):
                return True

    def _sem_of(self, i: int):
        """The semaphore of subscriber entry ``i``, opened once per subscriber; None if it is gone."""
        ident = self._seg.entry_id(i)
        known = self._sems.get(i)
        if known is not None and known[0] == ident and known[1] is not None:
            return known[1]
        if known is not None and known[1] is not None:
            known[1].close()
        sem = None
        if ident != 0:
            pid = self._seg.entry_pid(i)
            try:
                sem = px.Semaphore.open(self._names.subscriber_semaphore(pid, ident))
            except OSError:
                sem = None
        self._sems[i] = (ident, sem)
        return sem

    # -- departures -----------------------------------------------------------------------------------------------
    def _reclaim_departed(self, check_liveness: bool) -> None:
        seg = self._seg
        if check_liveness:
            self._next_liveness = time.monotonic() + self._peer_interval
            self._check_inherited()
        states = seg.entry_states()
        if not check_liveness and ENTRY_LEAVING not in states:
            return
        for i, state in enumerate(states):
            if state == ENTRY_LEAVING:
                self._reclaim(i, dead=False)
            elif check_liveness and seg.entry_pid(i) != 0 and not seg.entry_alive(i):
                self._reclaim(i, dead=True)

    def _check_inherited(self) -> None:
        """Lets go of inherited entries whose subscriber left, died, or left the old segment without taking them over,
        and of the old segments no entry needs any more (13.7)."""
        seg = self._seg
        for i in range(self._g.entries):
            if seg.is_awaited(i):
                pid, start = seg.entry_identity(i)
                there = _alive(pid, start) and os.path.exists(
                    Names.semaphore_path(self._names.subscriber_semaphore(pid, seg.entry_id(i))))
                if not there:
                    seg.try_end_inheritance(i, ENTRY_LEAVING)
        if not self._retired:
            return
        for k, retired in enumerate(self._retired):
            before = retired.seg
            after = self._retired[k + 1].seg if k + 1 < len(self._retired) else self._seg
            for i in range(self._g.entries):
                if not after.is_awaited(i):
                    continue
                still_there = (before.entry_state(i) == ENTRY_ACTIVE and before.entry_id(i) == after.entry_id(i)
                               and after.entry_alive(i))
                if not still_there:
                    after.try_end_inheritance(i, ENTRY_LEAVING)
        while self._retired and not self._has_awaited(self._retired[0].seg) and not self._has_awaited(
                self._retired[1].seg if len(self._retired) > 1 else self._seg):
            self._retired.pop(0).dispose()

    # -- growth (13.7) --------------------------------------------------------------------------------------------
    def _grow(self, length: int) -> None:
        """Moves to a new segment whose slots take ``length`` bytes (at least twice the current size)."""
        capacity = max(_align(length, ALIGNMENT), min(2 * self._g.capacity, MAX_SLOT_CAPACITY))
        g = self._g
        geometry = Geometry(g.entries, g.slots, capacity, g.depth)
        nxt = _OwnedSegment.create(self._names, self._pid, self._start_time, new_id(), self.id, self._owned.id,
                                   geometry, self._history, self._mode, self.full_writes, self.modified_writes)
        try:
            _st64(nxt.mm, PUBLISHED, self._sequence - 1)
            self._copy_history(nxt)
            inherited = self._inherit(nxt)
            nxt.open(self._mode)
        except BaseException:
            nxt.dispose()
            raise
        previous = self._owned
        _st64(previous.mm, SUCCESSOR, nxt.id)  # release [segment-succeeded]
        previous.close_state()
        self._use(nxt)
        self._previous_present = inherited
        self._retired.append(previous)
        i = 0
        while inherited >> i:
            if inherited >> i & 1:
                sem = self._sem_of(i)  # wakes the subscriber: it reads the rest of the old queue, then moves on
                if sem is not None:
                    sem.post()
            i += 1
        self.growth_count += 1
        self._check_inherited()

    def _copy_history(self, nxt: "_OwnedSegment") -> None:
        capacity = self._history
        if capacity == 0:
            return
        kept = min(self._history_head, capacity)
        target = 0
        for position in range(self._history_head - kept, self._history_head):
            source = self._kept_slot(self._history_position(position))
            src, dst = self._g.slot(source), nxt.g.slot(target)
            length = _ld64(self._mm, src + SLOT_LENGTH)
            a, b = self._g.slot_data(source), nxt.g.slot_data(target)
            nxt.mm[b:b + length] = self._mm[a:a + length]
            _st64(nxt.mm, dst + SLOT_SEQUENCE, _ld64(self._mm, src + SLOT_SEQUENCE))
            _st64(nxt.mm, dst + SLOT_LENGTH, length)
            _st64(nxt.mm, dst + SLOT_TIMESTAMP, _ld64(self._mm, src + SLOT_TIMESTAMP))
            _st64(nxt.mm, dst + SLOT_HOLDERS, HISTORY_BIT)
            _st32(nxt.mm, HISTORY_RING + 4 * (position % capacity), target)
            target += 1
        _st64(nxt.mm, HISTORY_HEAD, self._history_head)

    def _inherit(self, nxt: "_OwnedSegment") -> int:
        inherited = 0
        seg, new = self._seg, nxt.seg
        for i in range(self._g.entries):
            if seg.entry_state(i) != ENTRY_ACTIVE:
                continue
            pid, start = seg.entry_identity(i)
            if pid == 0 or not new.try_claim_if_free(i, pid, start):
                continue
            new.set_entry_id(i, seg.entry_id(i))
            new.set_entry_flags(i, (seg.entry_flags(i) & FLAG_BLOCK_PUBLISHER) | FLAG_INHERITED)
            _st64(nxt.mm, new.history_from_offset(i), self._history_head)
            new.set_entry_state(i, ENTRY_ACTIVE)
            inherited |= 1 << i
        return inherited

    def _reclaim(self, i: int, dead: bool) -> None:
        mm, seg = self._mm, self._seg
        self._previous_present &= ~(1 << i)
        bit = 1 << i
        for slot in range(self._g.slots):
            seg.clear_holders(slot, bit)
        _st64(mm, seg.head_offset(i), _ld64(mm, seg.tail_offset(i)))
        _st64(mm, seg.dropped_offset(i), 0)
        pid, start = seg.entry_identity(i)
        ident = seg.entry_id(i)
        seg.set_entry_id(i, 0)
        seg.set_entry_state(i, ENTRY_FREE)
        seg.try_clear_entry(i, pid, start)  # the claim goes last
        known = self._sems.pop(i, None)
        if known is not None and known[1] is not None:
            known[1].close()
        if ident != 0 and not _alive(pid):  # died (also while its entry was still awaited): its file goes too
            try_remove_stale(Names.semaphore_path(self._names.subscriber_semaphore(pid, ident)))
        self._released.post()


# ---------------------------------------------------------------------------------------------------------------------
# Subscriber

class Sample:
    """A sample read in place. ``data`` is a read-only memoryview into the publisher's shared memory.

    Lifetime (the same rule as ring frames): ``release()`` (or leaving ``with``) is deferred while views derived from
    ``data`` (slices, casts, ``np.frombuffer``) are alive; the slot goes back to the publisher when the sample is
    released AND the last such view is gone. A sample never released is released when its last view is collected.
    After ``release()``, ``data`` raises ValueError.
    """

    __slots__ = ("sequence", "publisher_id", "timestamp_ns", "length", "_view", "__weakref__")

    def __init__(self, view: memoryview, sequence: int, publisher_id: int, timestamp_ns: int, length: int) -> None:
        self._view = view
        self.sequence = sequence
        self.publisher_id = publisher_id
        self.timestamp_ns = timestamp_ns
        self.length = length

    @property
    def data(self) -> memoryview:
        view = self._view
        if view is None:
            raise ValueError("the sample is released; its memory may belong to another sample now")
        return view

    @property
    def timestamp(self) -> float:
        """When it was published: seconds since 1970 (UTC), like ``time.time()``."""
        return self.timestamp_ns / 1e9

    @property
    def released(self) -> bool:
        return self._view is None

    def as_array(self, dtype, shape=None):
        """The sample as a read-only NumPy array, zero copy (see :func:`zerolane.arrays.as_array`); the array keeps
        the sample's slot held until it is gone."""
        from .arrays import as_array

        return as_array(self.data, dtype, shape)

    def __len__(self) -> int:
        return self.length

    def release(self) -> None:
        """Ends the sample; its slot returns to the publisher once no view of ``data`` is alive any more."""
        self._view = None

    def __enter__(self) -> "Sample":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return (f"Sample(sequence={self.sequence}, length={self.length}, publisher_id={self.publisher_id:016x}"
                f"{', released' if self._view is None else ''})")


class _Link:
    """A subscriber's attachment to one publisher segment (src/ZeroLane/Topics/PublisherLink.cs)."""

    def __init__(self, name: str, shm, seg: _Segment, entry: int, slot_released, blocks: bool) -> None:
        self.name = name
        self.shm = shm
        self.mm = seg.mm
        self.seg = seg
        self.entry = entry
        self.bit = 1 << entry
        self.slot_released = slot_released
        self.blocks = blocks
        self.publisher_id = _ld64(self.mm, PUBLISHER_ID)
        self.publisher_pid = _ld64(self.mm, PUBLISHER_PID)
        self.held = 0
        self.gone_dead: bool | None = None
        self.ended = False
        self.leave_when_idle = False
        self.disposed = False
        self.pending: list[int] = []
        self.history_queued_end = 0
        self.scan_from = 0
        self.settled = True
        self.history_capacity = 0

    def has_queued(self) -> bool:
        mm, seg = self.mm, self.seg
        if self.pending:
            return True
        if not self.settled and _ld64(mm, HISTORY_HEAD) > self.scan_from:
            return True
        return _ld64(mm, seg.head_offset(self.entry)) != _ld64(mm, seg.tail_offset(self.entry))

    def queue_history(self, include_kept: bool) -> None:
        mm, seg = self.mm, self.seg
        capacity = _ld32(mm, HISTORY_CAPACITY)
        if capacity > MAX_HISTORY:
            raise corrupt(self.name, f"'{self.name}' keeps {capacity} samples of history, at most {MAX_HISTORY}")
        self.history_capacity = capacity
        end = 0 if capacity == 0 else _ld64(mm, HISTORY_HEAD)
        first = end if not include_kept else end - min(end, min(capacity, seg.g.depth))
        tail = _ld64(mm, seg.tail_offset(self.entry))
        for position in range(first, end):
            claim, slot = self._try_hold_kept(position, capacity)
            if claim == "held":
                seg.set_queued_slot(self.entry, tail, slot)
                tail += 1
        _st64(mm, seg.history_from_offset(self.entry), end)
        _st64(mm, seg.tail_offset(self.entry), tail)
        self.history_queued_end = tail
        self.scan_from = end
        self.settled = capacity == 0

    def settle_history(self) -> None:
        if self.settled:
            return
        mm, seg = self.mm, self.seg
        if _ld64(mm, seg.tail_offset(self.entry)) != self.history_queued_end:
            self.settled = True
            return
        head = _ld64(mm, HISTORY_HEAD)
        capacity = self.history_capacity
        position = max(self.scan_from, head - min(head, capacity))
        while position < head:
            claim, slot = self._try_hold_kept(position, capacity)
            if claim == "held":
                self.pending.append(slot)
            elif claim == "already":
                self.settled = True
                break
            position += 1
        self.scan_from = position
        _st64(mm, seg.history_from_offset(self.entry), position)  # release [history-scanned]

    def peek_pending(self) -> int:
        if self.pending and _ld64(self.mm, self.seg.head_offset(self.entry)) >= self.history_queued_end:
            return self.pending[0]
        return -1

    def _try_hold_kept(self, position: int, capacity: int) -> tuple[str, int]:
        mm, seg = self.mm, self.seg
        slot = _ld32(mm, HISTORY_RING + 4 * (position % capacity))
        if slot >= seg.g.slots:
            raise corrupt(self.name, f"'{self.name}' has a history naming slot {slot} of {seg.g.slots}")
        off = seg.holders_offset(slot)
        while True:
            holders = _ld64(mm, off)
            if holders & self.bit:
                return "already", slot
            if not holders & HISTORY_BIT:
                return "gone", slot
            if px.cas_u64(mm, off, holders, holders | self.bit):
                break
        if _ld64(mm, seg.g.slot(slot) + SLOT_SEQUENCE) == position + 1:
            return "held", slot
        self.release_slot(slot)
        return "gone", slot

    def wake_publisher_if_blocked(self) -> None:
        if self.blocks and self.slot_released is not None and self.slot_released.value() <= 0:
            self.slot_released.post()

    def release_slot(self, slot: int) -> None:
        if self.disposed:
            return
        self.seg.clear_holders(slot, self.bit)
        if self.slot_released is not None and self.slot_released.value() <= 0:
            self.slot_released.post()

    def dispose(self) -> None:
        """Leaves the publisher (its next write takes back this entry) and lets go of the mapping."""
        if self.disposed:
            return
        self.disposed = True
        if self.gone_dead is not True:
            self.seg.set_entry_state(self.entry, ENTRY_LEAVING)
            if self.seg.state() == SEGMENT_OPEN and self.slot_released is not None:
                self.slot_released.post()
        if self.slot_released is not None:
            self.slot_released.close()
            self.slot_released = None
        _close_mapping(self.shm)


class Subscriber(Closeable):
    """Reads the samples every publisher of a topic sends, in place in their shared memory.

    Start it before or after the publishers: it joins each one as it appears (found by listing /dev/shm when woken and at
    every ``peer_check_interval``) and keeps reading as publishers come and go. ``block_publisher=True`` asks publishers
    to wait (up to their acknowledge timeout) rather than drop this subscriber's oldest queued sample. Reads run on one
    thread at a time; samples may be released from any thread.
    """

    def __init__(self, topic: str, *, max_held: int = 4, block_publisher: bool = False, mode: int = 0o600,
                 peer_check_interval: float = 0.1) -> None:
        self._names = Names(topic)
        if not 1 <= max_held <= 255:
            raise ValueError(f"max_held must be from 1 to 255, not {max_held}")
        if peer_check_interval <= 0:
            raise ValueError("peer_check_interval must be positive")
        self._max_held = max_held
        self._blocks = block_publisher
        self._peer_interval = peer_check_interval
        self._pid, self._start_time = _self_identity()
        self.id = (new_id() & ~BLOCKS_PUBLISHER_ID_BIT) | (BLOCKS_PUBLISHER_ID_BIT if block_publisher else 0)
        self._sem_name = self._names.subscriber_semaphore(self._pid, self.id)
        self._lock = threading.RLock()
        self._links: list[_Link] = []
        self._ignored: set[str] = set()
        self._next = 0
        self._held = 0
        self._exports: dict[int, weakref.ref] = {}  # keeps the weakrefs (and so their callbacks) alive
        self._closed = False
        self._active = 0
        self._subscriptions: list[Subscription] = []
        self._sem_closed = False
        self._scanned_mtime: int | None = None
        self.samples_read = 0
        remove_stale(self._names)
        self._queued = px.Semaphore.create(self._sem_name, mode, 0)
        try:
            self._owner = OwnerLock(Names.semaphore_path(self._sem_name))
        except BaseException:
            self._queued.close()
            _unlink_semaphore(self._sem_name)
            raise
        try:
            with self._lock:
                self._join_new_publishers()
        except BaseException:
            self.close()
            raise

    @property
    def topic(self) -> str:
        return self._names.topic

    @property
    def publisher_count(self) -> int:
        """Publishers attached now that are still publishing (not seen closed or dead)."""
        with self._lock:
            return sum(1 for link in self._links if not link.ended and link.gone_dead is None
                       and link.seg.state() == SEGMENT_OPEN)

    @property
    def samples_held(self) -> int:
        return self._held

    @property
    def samples_dropped(self) -> int:
        with self._lock:
            return sum(_ld64(link.mm, link.seg.dropped_offset(link.entry))
                       for link in self._links if not link.disposed)

    # -- reading --------------------------------------------------------------------------------------------------
    def read(self, timeout: float | None = None) -> Sample:
        """Reads the next sample of any publisher, waiting at most ``timeout`` seconds (None: as long as it takes).

        Raises TimeoutError; WriterGoneError(died=True) once per publisher that died (after what it queued was read),
        WriterGoneError(died=False) when the last publisher left; ValueError if ``max_held`` samples are held.
        """
        return self._read(timeout, None)

    def try_read(self, timeout: float = 0) -> Sample | None:
        """Like read, but returns None on timeout."""
        try:
            return self._read(timeout, None)
        except TimeoutError:
            return None

    def _read(self, timeout, stop: threading.Event | None) -> Sample | None:
        if stop is not None and self._closed:
            return None  # a subscription's thread, racing with close()
        self._check_open()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._active += 1
        try:
            next_check = time.monotonic() + self._peer_interval
            check_due = False
            woken = True  # nothing queued at the first look: look for new publishers too
            while True:
                if self._closed or (stop is not None and stop.is_set()):
                    if stop is not None:
                        return None
                    raise ValueError(f"the subscriber of topic '{self.topic}' is closed")
                with self._lock:
                    sample = self._try_take()
                    if sample is not None:
                        return sample
                    gone = self._look_around(check_due, scan=woken or check_due)
                    if gone is not None:
                        sample = self._try_take()
                        if sample is not None:
                            return sample
                        if gone:
                            raise WriterGoneError(
                                f"A publisher of topic '{self.topic}' died without leaving; everything it queued has "
                                "been read. Read on: a new publisher may take over.", died=True)
                        raise WriterGoneError(
                            f"The last publisher of topic '{self.topic}' left; everything it sent has been read.",
                            died=False)
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    with self._lock:
                        sample = self._try_take()
                    if sample is not None:
                        return sample
                    raise TimeoutError(f"No sample arrived on topic '{self.topic}' within {timeout} s.")
                until = next_check if deadline is None else min(next_check, deadline)
                woken = self._queued.wait(max(until - now, 0.0))
                check_due = time.monotonic() >= next_check
                if check_due:
                    next_check = time.monotonic() + self._peer_interval
        finally:
            with self._lock:
                self._active -= 1

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"the subscriber of topic '{self.topic}' is closed")

    def _try_take(self) -> Sample | None:
        self._prune()
        count = len(self._links)
        for k in range(count):
            index = (self._next + k) % count
            link = self._links[index]
            if link.ended:
                continue
            link.settle_history()
            kept = link.peek_pending()
            if kept >= 0:
                self._check_held()
                sample = self._take_slot(link, index, kept)
                link.pending.pop(0)
                return sample
            mm, seg = link.mm, link.seg
            head_offset = seg.head_offset(link.entry)
            while True:
                tail = _ld64(mm, seg.tail_offset(link.entry))
                head = _ld64(mm, head_offset)
                if head == tail:
                    break
                if (tail - head) & _U64 > seg.g.depth:
                    raise corrupt(link.name, f"'{link.name}' has subscriber queue {link.entry} holding "
                                             f"{(tail - head) & _U64} samples, more than its depth {seg.g.depth}")
                self._check_held()
                slot = _ld32(mm, seg.g.queue(link.entry) + 4 * (head % seg.g.depth))
                if not px.cas_u64(mm, head_offset, head, head + 1):
                    continue  # the publisher dropped it just now
                if slot >= seg.g.slots:
                    raise corrupt(link.name, f"'{link.name}' has a queue holding slot {slot} of {seg.g.slots}")
                link.wake_publisher_if_blocked()
                return self._take_slot(link, index, slot)
        return None

    def _check_held(self) -> None:
        if self._held >= self._max_held:
            raise ValueError(
                f"This subscriber holds {self._max_held} samples of topic '{self.topic}' (max_held), counting samples "
                "released while views of their data are still alive: release one (and drop its views) first.")

    def _take_slot(self, link: _Link, index: int, slot: int) -> Sample:
        mm, g = link.mm, link.seg.g
        meta = g.slot(slot)
        length = _ld64(mm, meta + SLOT_LENGTH)
        if length == 0 or length > g.capacity:
            link.release_slot(slot)
            raise corrupt(link.name, f"'{link.name}' has slot {slot} saying {length} bytes; its capacity is {g.capacity}")
        sequence = _ld64(mm, meta + SLOT_SEQUENCE)
        timestamp = _ld64(mm, meta + SLOT_TIMESTAMP)
        # The exporter spans the whole slot (one ctypes type per slot capacity, not per sample length); the view is
        # the sample's bytes of it, read-only. Every view derived from it keeps the exporter alive.
        exporter = _array_type(g.capacity).from_buffer(mm, g.slot_data(slot))
        view = memoryview(exporter).cast("B")[:length].toreadonly()
        ref = weakref.ref(exporter, lambda r, link=link, slot=slot: self._on_export_gone(r, link, slot))
        self._exports[id(ref)] = ref
        link.held += 1
        self._held += 1
        self._next = (index + 1) % len(self._links)
        self.samples_read += 1
        del exporter
        return Sample(view, sequence, link.publisher_id, timestamp, length)

    def _on_export_gone(self, ref, link: _Link, slot: int) -> None:
        """The last view of a sample is gone (and the sample released): the slot goes back to the publisher."""
        try:
            self._give_back(ref, link, slot)
        except Exception:  # a weakref callback cannot report; at interpreter exit the module may be half gone
            pass

    def _give_back(self, ref, link: _Link, slot: int) -> None:
        with self._lock:
            self._exports.pop(id(ref), None)
            self._held -= 1
            link.held -= 1
            link.release_slot(slot)
            if link.held == 0 and (link.ended or link.leave_when_idle):
                link.dispose()  # removed from the list at the next look (_prune)

    def _prune(self) -> None:
        if any(link.disposed for link in self._links):
            self._links = [link for link in self._links if not link.disposed]
            if self._next >= len(self._links):
                self._next = 0

    # -- publishers coming and going ------------------------------------------------------------------------------
    def _look_around(self, check_due: bool, scan: bool) -> bool | None:
        """Joins new publishers; ends links of publishers that left or died once drained. Returns None (nothing to
        report), True (a publisher died) or False (the last publisher left)."""
        if check_due or (scan and self._directory_changed()):
            self._join_new_publishers()
        status = None
        any_ended = False
        for i in range(len(self._links) - 1, -1, -1):
            link = self._links[i]
            if link.ended or link.disposed:
                continue
            if link.gone_dead is None:
                if link.seg.state() == SEGMENT_CLOSED:
                    link.gone_dead = False
                elif check_due and not _alive(_ld64(link.mm, PUBLISHER_PID),
                                              _ld64(link.mm, PUBLISHER_START_TIME)):
                    link.gone_dead = True
            if link.gone_dead is not None and not link.has_queued():
                if not link.gone_dead and self._try_follow(link, i):
                    continue
                link.ended = True
                any_ended = True
                if link.gone_dead:
                    status = True
                    remove_stale(self._names)
                elif status is None:
                    status = False
                if link.held == 0:
                    self._retire(link)
        if status is False and any(not link.ended for link in self._links):
            status = None  # another publisher is still there
        return status if any_ended else None

    def _retire(self, link: _Link) -> None:
        # Disposed links leave the list at the next take (_prune), never while a loop walks it by index.
        self._ignored.add(link.name)
        link.dispose()

    def _try_follow(self, link: _Link, index: int) -> bool:
        successor = _ld64(link.mm, SUCCESSOR)
        if successor == 0:
            return False
        name = self._names.publisher_segment(link.publisher_pid, successor)
        if name in self._ignored or any(other.name == name for other in self._links):
            return False
        nxt = self._try_join(name, predecessor=link)
        if nxt is None:
            return False
        self._links[index] = nxt
        link.ended = True
        self._ignored.add(link.name)
        if link.held == 0:
            link.dispose()
        self._queued.post()  # look again at once: samples may be queued in the new segment already
        return True

    def _directory_changed(self) -> bool:
        """Whether /dev/shm gained or lost a file since the last look (a cheap stat instead of a listing per wake-up;
        a publisher creates its semaphore file last, so its readiness always changes the directory)."""
        try:
            return os.stat(DEVICE_DIRECTORY).st_mtime_ns != self._scanned_mtime
        except OSError:
            return True

    def _join_new_publishers(self) -> None:
        try:
            self._scanned_mtime = os.stat(DEVICE_DIRECTORY).st_mtime_ns
        except OSError:
            self._scanned_mtime = None
        known = {link.name for link in self._links}
        undecided = {seg for seg, _, _ in self._names.find_publishers() if seg not in self._ignored and seg not in known}
        decided = True
        while decided and undecided:
            decided = False
            for name in sorted(undecided):
                self._try_join(name, undecided=undecided)
                if name in self._ignored or any(link.name == name for link in self._links):
                    undecided.discard(name)
                    decided = True
        if undecided:
            self._scanned_mtime = None  # a publisher not joinable yet (starting, no free entry): look again next time

    def _try_join(self, name: str, predecessor: _Link | None = None, undecided: set | None = None) -> _Link | None:
        try:
            shm = px.SharedMemory.open(name, px.DERIVED_NAME_LENGTH)
        except (FileNotFoundError, ValueError):
            return None  # gone, or still being sized by its creator
        except PermissionError:
            self._ignored.add(name)
            return None
        slot_released = None
        try:
            mm = shm.mmap
            try:
                geometry = validate(mm, shm.size, name)
            except (BufferCorruptedError, IncompatibleBufferError):
                self._ignored.add(name)
                raise
            if geometry is None:
                _close_mapping(shm)
                return None
            seg = _Segment(mm, geometry, name)
            if predecessor is None:
                publisher_open = seg.state() == SEGMENT_OPEN and _alive(
                    _ld64(mm, PUBLISHER_PID), _ld64(mm, PUBLISHER_START_TIME))
                if not publisher_open and not self._awaits_this(seg):
                    self._ignored.add(name)
                    _close_mapping(shm)
                    return None
                before = _ld64(mm, PREDECESSOR)
                if before != 0:
                    before_name = self._names.publisher_segment(_ld64(mm, PUBLISHER_PID), before)
                    if (any(not link.ended and link.name == before_name for link in self._links)
                            or (undecided is not None and before_name in undecided)):
                        _close_mapping(shm)
                        return None
            try:
                slot_released = px.Semaphore.open(Names.publisher_semaphore(name))
            except OSError:
                slot_released = None
            if slot_released is None and predecessor is None:
                _close_mapping(shm)
                return None
            entry = self._find_inherited(seg)
            inherited = entry >= 0
            if not inherited:
                for i in range(geometry.entries):
                    if seg.try_claim_if_free(i, self._pid, self._start_time):
                        entry = i
                        break
            if entry < 0:
                if slot_released is not None:
                    slot_released.close()
                _close_mapping(shm)
                return None  # every entry is taken: the next look tries again
            flags = FLAG_BLOCK_PUBLISHER if self._blocks else 0
            link = _Link(name, shm, seg, entry, slot_released, self._blocks)
            if inherited:
                seg.initialize_entry_identity(entry, self._pid, self._start_time)
                seg.set_entry_flags(entry, flags)
                if predecessor is None:
                    self._links.append(link)
                return link
            seg.set_entry_id(entry, self.id)
            seg.set_entry_flags(entry, flags)
            try:
                link.queue_history(include_kept=predecessor is None)
            except BufferCorruptedError:
                self._ignored.add(name)
                seg.set_entry_state(entry, ENTRY_LEAVING)
                raise
            seg.set_entry_state(entry, ENTRY_ACTIVE)  # release [subscriber-active]
            if predecessor is None:
                self._links.append(link)
            try:
                link.settle_history()
            except BufferCorruptedError:
                pass  # the next read meets the same and reports it
            return link
        except BaseException:
            if slot_released is not None:
                slot_released.close()
            _close_mapping(shm)
            raise

    def _find_inherited(self, seg: _Segment) -> int:
        for i in range(seg.g.entries):
            if (seg.entry_id(i) == self.id and seg.entry_pid(i) == self._pid
                    and seg.try_end_inheritance(i, ENTRY_ACTIVE)):
                return i
        return -1

    def _awaits_this(self, seg: _Segment) -> bool:
        return any(seg.is_awaited(i) and seg.entry_id(i) == self.id and seg.entry_pid(i) == self._pid
                   for i in range(seg.g.entries))

    # -- callbacks ------------------------------------------------------------------------------------------------
    def subscribe(self, callback) -> "Subscription":
        """Calls ``callback(sample)`` for every sample on a thread of its own until the returned Subscription is closed;
        each sample is released when the callback returns. Do not read from this subscriber otherwise meanwhile."""
        self._check_open()
        subscription = Subscription(self, callback)
        self._subscriptions.append(subscription)
        return subscription

    # -- closing --------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Leaves every publisher and removes the subscriber's semaphore.

        Samples whose views are still alive keep their publisher's entry (and their slots) until the last view is gone,
        so no view ever reads memory a publisher rewrites.
        """
        if self._closed:
            return
        for subscription in list(self._subscriptions):
            subscription._stop_soon()
        self._closed = True
        self._queued.post()
        for subscription in list(self._subscriptions):
            subscription.close()
        while True:
            with self._lock:
                if self._active == 0:
                    break
            self._queued.post()
            time.sleep(0.001)
        with self._lock:
            for link in self._links:
                if link.held == 0:
                    link.dispose()
                else:
                    link.leave_when_idle = True
            self._prune()
        self._owner.release()  # removes the semaphore's name
        self._sem_closed = True
        self._queued.close()

    def __iter__(self):
        """Samples until the last publisher leaves; each is released when the next one is requested."""
        while True:
            try:
                sample = self.read()
            except WriterGoneError as gone:
                if gone.died:
                    raise
                return
            with sample:
                yield sample


class Subscription:
    """A thread calling a callback for every sample of a Subscriber until closed (Subscriber.subscribe)."""

    def __init__(self, subscriber: Subscriber, callback) -> None:
        self._subscriber = subscriber
        self._callback = callback
        self._stop = threading.Event()
        self.samples_handled = 0
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"zerolane subscription {subscriber.topic}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    sample = self._subscriber._read(None, self._stop)
                except WriterGoneError:
                    continue  # publishers come and go: a subscription outlives each of them
                if sample is None:
                    return
                with sample:
                    self._callback(sample)
                self.samples_handled += 1
        except BaseException as exception:  # reported through .error; the thread ends
            self.error = exception

    def _stop_soon(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if not self._subscriber._sem_closed:
            self._subscriber._queued.post()
        if threading.current_thread() is not self._thread:
            self._thread.join()
        try:
            self._subscriber._subscriptions.remove(self)
        except ValueError:
            pass

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
