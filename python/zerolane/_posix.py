"""The POSIX layer: names, shared memory, named semaphores, atomics, liveness and lock files.

This is the only module of the package that touches ``ctypes`` and libc; every other module builds on it.

Shared memory is ``os.open`` on ``/dev/shm/NAME`` (what glibc's ``shm_open`` does) plus :mod:`mmap`. Semaphores are
glibc's named semaphores through ``ctypes``. Atomics are libatomic's ``__atomic_*_8`` on the mapping's address
(sequentially consistent); on x86-64, where every aligned 8-byte load is an acquire and every aligned store a
release, :class:`AtomicU64` loads and stores through a cached ``ctypes.c_uint64`` instead, which is several times
cheaper and what the ring's per-frame path uses.

Addresses of a mapping come from a ``ctypes`` object made with ``from_buffer(mmap)``: that object is a buffer export
of the mmap, so ``mmap.close()`` raises ``BufferError`` while it lives and the address can never dangle. Release it
with :func:`forget_address` (``SharedMemory.close`` does) before closing the mmap.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import fcntl
import os
import platform
import stat as _stat
import threading
import time

from .errors import InvalidNameError

__all__ = [
    "MAX_NAME_LENGTH",
    "validate_name",
    "SharedMemory",
    "Semaphore",
    "load_u64",
    "store_u64",
    "fetch_add_u64",
    "cas_u64",
    "load_u32",
    "store_u32",
    "address_of",
    "forget_address",
    "AtomicU64",
    "DERIVED_NAME_LENGTH",
    "process_alive",
    "process_start_time",
    "LockFile",
    "ensure_lock_directory",
]

MAX_NAME_LENGTH = 200
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
SHM_DIR = "/dev/shm"


# Names of objects derived from a valid name (a topic's segment ``zlt.TOPIC.p.PID.ID``) may be longer than a name a
# user gives, but stay below NAME_MAX.
DERIVED_NAME_LENGTH = 255


def validate_name(name: str, kind: str = "buffer", max_length: int = MAX_NAME_LENGTH) -> None:
    """Raises :class:`InvalidNameError` unless ``name`` is 1 to ``max_length`` (default 200) characters of
    ``A-Z a-z 0-9 . _ -`` not starting with '.'."""
    if not isinstance(name, str):
        raise InvalidNameError(f"A {kind} name must be a str, not {type(name).__name__}.")
    problem = None
    if not name:
        problem = "it is empty"
    elif len(name) > max_length:
        problem = f"it is {len(name)} characters long; the limit is {max_length}"
    else:
        for i, ch in enumerate(name):
            if ch not in _ALLOWED:
                shown = f"U+{ord(ch):04X}" if not ch.isprintable() else f"'{ch}'"
                problem = f"character {i + 1} ({shown}) is not allowed; use letters, digits, '.', '_' and '-'"
                break
        else:
            if name[0] == ".":
                problem = "it starts with '.'"
    if problem is not None:
        shown_name = name if len(name) <= 60 else name[:57] + "..."
        raise InvalidNameError(f"The {kind} name '{shown_name}' is not allowed: {problem}.")


# --------------------------------------------------------------------------------------------------------------- libc

_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _oserror(func: str, path: str | None = None, err: int | None = None) -> OSError:
    if err is None:
        err = ctypes.get_errno()
    msg = f"{func} failed: {os.strerror(err)}"
    if path is not None:
        return OSError(err, msg, path)
    return OSError(err, msg)


# --------------------------------------------------------------------------------------------------- shared memory


class SharedMemory:
    """A POSIX shared memory object (``/dev/shm/NAME``) mapped MAP_SHARED read/write.

    ``.fd`` is the object's descriptor (O_CLOEXEC), open until :meth:`close`; ``.mmap`` is the :class:`mmap.mmap`
    of ``.size`` bytes.
    """

    __slots__ = ("name", "fd", "size", "mmap", "__weakref__")

    def __init__(self, name: str, fd: int, size: int, mm) -> None:
        self.name = name
        self.fd = fd
        self.size = size
        self.mmap = mm

    @staticmethod
    def path(name: str) -> str:
        return f"{SHM_DIR}/{name}"

    @classmethod
    def create(cls, name: str, size: int, mode: int = 0o600, max_length: int = MAX_NAME_LENGTH) -> "SharedMemory":
        """Creates ``/dev/shm/NAME`` exclusively, sets the mode exactly, sizes and allocates it, maps it.
        ``max_length``: :data:`DERIVED_NAME_LENGTH` for a name derived from a valid one (a topic's segment)."""
        import mmap as _mmap

        validate_name(name, "shared memory", max_length)
        if size <= 0:
            raise ValueError(f"A shared memory object needs a positive size, not {size}.")
        path = cls.path(name)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, mode)
        try:
            os.fchmod(fd, mode)  # open applies the umask; set the requested mode exactly
            os.ftruncate(fd, size)
            try:
                os.posix_fallocate(fd, 0, size)
            except OSError as e:
                if e.errno == _errno.ENOSPC:
                    free = -1
                    try:
                        st = os.statvfs(SHM_DIR)
                        free = st.f_bavail * st.f_frsize
                    except OSError:
                        pass
                    raise OSError(
                        _errno.ENOSPC,
                        f"/dev/shm has no room for shared memory object '{name}' of {size:,} bytes ({free:,} bytes "
                        "free). Free space there, make /dev/shm larger (in Docker: --shm-size), or ask for a smaller "
                        "object.",
                    ) from None
                raise
            mm = _mmap.mmap(fd, size, _mmap.MAP_SHARED, _mmap.PROT_READ | _mmap.PROT_WRITE)
        except BaseException:
            os.close(fd)
            try:
                os.unlink(path)
            except OSError:
                pass
            raise
        return cls(name, fd, size, mm)

    @classmethod
    def open(cls, name: str, max_length: int = MAX_NAME_LENGTH) -> "SharedMemory":
        """Opens and maps an existing object; raises ``FileNotFoundError`` if there is none, ``ValueError`` if it is empty."""
        import mmap as _mmap

        validate_name(name, "shared memory", max_length)
        path = cls.path(name)
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                raise ValueError(f"The shared memory object '{path}' has size 0: its creator has not sized it yet.")
            mm = _mmap.mmap(fd, size, _mmap.MAP_SHARED, _mmap.PROT_READ | _mmap.PROT_WRITE)
        except BaseException:
            os.close(fd)
            raise
        return cls(name, fd, size, mm)

    def close(self) -> bool:
        """Unmaps, unless buffer exports of the mmap still exist: then only drops this object's reference, and the
        mapping goes when the last export does. Closes ``.fd``. Returns True when it was unmapped now."""
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)
        mm = self.mmap
        if mm is None:
            return True
        self.mmap = None
        forget_address(mm)
        try:
            mm.close()
            return True
        except BufferError:
            return False

    def __del__(self) -> None:
        fd = getattr(self, "fd", -1)
        if fd >= 0:
            self.fd = -1
            try:
                os.close(fd)
            except OSError:
                pass

    @staticmethod
    def unlink(name: str, max_length: int = MAX_NAME_LENGTH) -> bool:
        """Removes the name; returns False if it did not exist."""
        validate_name(name, "shared memory", max_length)
        try:
            os.unlink(SharedMemory.path(name))
            return True
        except FileNotFoundError:
            return False


# ------------------------------------------------------------------------------------------------------- semaphores

_SEM_FAILED = None  # glibc: SEM_FAILED is (sem_t *) 0, which ctypes returns as None for c_void_p


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_sem_open = _libc.sem_open
_sem_open.restype = ctypes.c_void_p
_sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
_sem_post = _libc.sem_post
_sem_post.restype = ctypes.c_int
_sem_post.argtypes = [ctypes.c_void_p]
_sem_trywait = _libc.sem_trywait
_sem_trywait.restype = ctypes.c_int
_sem_trywait.argtypes = [ctypes.c_void_p]
_sem_clockwait = _libc.sem_clockwait
_sem_clockwait.restype = ctypes.c_int
_sem_clockwait.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_Timespec)]
_sem_wait = _libc.sem_wait
_sem_wait.restype = ctypes.c_int
_sem_wait.argtypes = [ctypes.c_void_p]
_sem_getvalue = _libc.sem_getvalue
_sem_getvalue.restype = ctypes.c_int
_sem_getvalue.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
_sem_close = _libc.sem_close
_sem_close.restype = ctypes.c_int
_sem_close.argtypes = [ctypes.c_void_p]
_sem_unlink = _libc.sem_unlink
_sem_unlink.restype = ctypes.c_int
_sem_unlink.argtypes = [ctypes.c_char_p]

_CLOCK_MONOTONIC = time.CLOCK_MONOTONIC


def _sem_name(name: str) -> str:
    return name if name.startswith("/") else "/" + name


class Semaphore:
    """A glibc named semaphore (``sem_open("/NAME")`` → ``/dev/shm/sem.NAME``). Names may be given with or without
    the leading slash."""

    __slots__ = ("name", "_sem", "_value", "_lock")

    def __init__(self, name: str, handle: int) -> None:
        self.name = name
        self._sem = handle
        self._value = ctypes.c_int(0)
        self._lock = threading.Lock()

    @staticmethod
    def device_path(name: str) -> str:
        return f"{SHM_DIR}/sem.{_sem_name(name)[1:]}"

    @classmethod
    def create(cls, name: str, mode: int = 0o600, value: int = 0) -> "Semaphore":
        """Creates the semaphore exclusively (``FileExistsError`` if it exists) with the mode set exactly."""
        name = _sem_name(name)
        handle = _sem_open(name.encode(), os.O_CREAT | os.O_EXCL, mode, value)
        if handle is None:
            err = ctypes.get_errno()
            if err == _errno.EEXIST:
                raise FileExistsError(err, f"sem_open(create) failed: {os.strerror(err)}", cls.device_path(name))
            raise _oserror("sem_open(create)", cls.device_path(name), err)
        try:
            os.chmod(cls.device_path(name), mode)  # sem_open applies the umask; the name was just created
        except BaseException:
            _sem_close(handle)
            _sem_unlink(name.encode())
            raise
        return cls(name, handle)

    @classmethod
    def open(cls, name: str) -> "Semaphore":
        """Opens an existing semaphore; ``FileNotFoundError`` if there is none."""
        name = _sem_name(name)
        handle = _sem_open(name.encode(), 0, 0, 0)
        if handle is None:
            err = ctypes.get_errno()
            if err == _errno.ENOENT:
                raise FileNotFoundError(err, f"sem_open failed: {os.strerror(err)}", cls.device_path(name))
            raise _oserror("sem_open", cls.device_path(name), err)
        return cls(name, handle)

    def _handle(self) -> int:
        sem = self._sem
        if sem is None:
            raise ValueError(f"operation on a closed semaphore '{self.name}'")
        return sem

    def post(self) -> None:
        if _sem_post(self._handle()) != 0:
            raise _oserror("sem_post", self.device_path(self.name))

    def try_wait(self) -> bool:
        """Takes one unit if there is one; never blocks."""
        sem = self._handle()
        while True:
            if _sem_trywait(sem) == 0:
                return True
            err = ctypes.get_errno()
            if err == _errno.EAGAIN:
                return False
            if err != _errno.EINTR:
                raise _oserror("sem_trywait", self.device_path(self.name), err)

    def wait(self, timeout_seconds: float | None = None) -> bool:
        """Takes one unit, sleeping up to ``timeout_seconds`` (None: forever) on CLOCK_MONOTONIC; EINTR retries
        against the same deadline. Returns False on timeout."""
        sem = self._handle()
        if timeout_seconds is None:
            while True:
                if _sem_wait(sem) == 0:
                    return True
                err = ctypes.get_errno()
                if err != _errno.EINTR:
                    raise _oserror("sem_wait", self.device_path(self.name), err)
        if timeout_seconds <= 0:
            return self.try_wait()
        deadline_ns = time.clock_gettime_ns(_CLOCK_MONOTONIC) + int(timeout_seconds * 1e9)
        ts = _Timespec(deadline_ns // 1_000_000_000, deadline_ns % 1_000_000_000)
        ref = ctypes.byref(ts)
        while True:
            if _sem_clockwait(sem, _CLOCK_MONOTONIC, ref) == 0:
                return True
            err = ctypes.get_errno()
            if err == _errno.ETIMEDOUT:
                return False
            if err != _errno.EINTR:
                raise _oserror("sem_clockwait", self.device_path(self.name), err)

    def value(self) -> int:
        with self._lock:
            if _sem_getvalue(self._handle(), ctypes.byref(self._value)) != 0:
                raise _oserror("sem_getvalue", self.device_path(self.name))
            return max(self._value.value, 0)

    def drain(self) -> int:
        """Takes every unit without blocking; returns how many it took.

        With glibc's 64-bit semaphore word (value in the low 32 bits, sleepers in the high 32; verified against libc
        at import) this is one compare-and-swap of the value to 0, exactly as ``sem_trywait`` takes one unit."""
        sem = self._handle()
        if _FAST_SEM:
            while True:
                word = _a_load8(sem, _SEQ_CST)
                units = word & 0xFFFFFFFF
                if units == 0:
                    return 0
                expected = ctypes.c_uint64(word)
                if _a_cas8(sem, ctypes.addressof(expected), word & ~0xFFFFFFFF, False, _SEQ_CST, _SEQ_CST):
                    return units
        n = 0
        while self.try_wait():
            n += 1
        return n

    def close(self) -> None:
        sem, self._sem = self._sem, None
        if sem is not None:
            _sem_close(sem)

    @staticmethod
    def unlink(name: str) -> bool:
        """Removes the name; returns False if it did not exist."""
        if _sem_unlink(_sem_name(name).encode()) == 0:
            return True
        err = ctypes.get_errno()
        if err == _errno.ENOENT:
            return False
        raise _oserror("sem_unlink", Semaphore.device_path(name), err)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------------------- atomics

_libatomic = ctypes.CDLL("libatomic.so.1")
_SEQ_CST = 5
_a_load8 = _libatomic.__atomic_load_8
_a_load8.restype = ctypes.c_uint64
_a_load8.argtypes = [ctypes.c_void_p, ctypes.c_int]
_a_store8 = _libatomic.__atomic_store_8
_a_store8.restype = None
_a_store8.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
_a_fadd8 = _libatomic.__atomic_fetch_add_8
_a_fadd8.restype = ctypes.c_uint64
_a_fadd8.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_int]
_a_cas8 = _libatomic.__atomic_compare_exchange_8
_a_cas8.restype = ctypes.c_bool
_a_cas8.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_bool, ctypes.c_int, ctypes.c_int]
_a_load4 = _libatomic.__atomic_load_4
_a_load4.restype = ctypes.c_uint32
_a_load4.argtypes = [ctypes.c_void_p, ctypes.c_int]
_a_store4 = _libatomic.__atomic_store_4
_a_store4.restype = None
_a_store4.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int]

_MASK64 = (1 << 64) - 1
_X86_64 = platform.machine() in ("x86_64", "AMD64")

# id(mmap) -> (mmap, export, address). The export (a c_char from_buffer) pins the mapping; forget_address drops it.
_addresses: dict[int, tuple[object, object, int]] = {}
_addresses_lock = threading.Lock()


def address_of(mm) -> int:
    """The address of a writable mmap's first byte. The mmap cannot be closed until :func:`forget_address`."""
    entry = _addresses.get(id(mm))
    if entry is not None and entry[0] is mm:
        return entry[2]
    with _addresses_lock:
        entry = _addresses.get(id(mm))
        if entry is not None and entry[0] is mm:
            return entry[2]
        export = ctypes.c_char.from_buffer(mm)
        address = ctypes.addressof(export)
        _addresses[id(mm)] = (mm, export, address)
        return address


def forget_address(mm) -> None:
    """Drops the export :func:`address_of` keeps for ``mm`` (then ``mm.close()`` can succeed)."""
    with _addresses_lock:
        entry = _addresses.get(id(mm))
        if entry is not None and entry[0] is mm:
            del _addresses[id(mm)]


def _check(mm, off: int, width: int) -> int:
    if off % width or off < 0 or off + width > len(mm):
        raise ValueError(f"offset {off} is not a {width}-aligned offset inside the {len(mm)}-byte mapping")
    return address_of(mm) + off


def load_u64(mm, off: int) -> int:
    return _a_load8(_check(mm, off, 8), _SEQ_CST)


def store_u64(mm, off: int, value: int) -> None:
    _a_store8(_check(mm, off, 8), value & _MASK64, _SEQ_CST)


def fetch_add_u64(mm, off: int, delta: int) -> int:
    """Adds ``delta`` (negative subtracts, modulo 2**64); returns the old value."""
    return _a_fadd8(_check(mm, off, 8), delta & _MASK64, _SEQ_CST)


def cas_u64(mm, off: int, expected: int, new: int) -> bool:
    exp = ctypes.c_uint64(expected & _MASK64)
    return bool(_a_cas8(_check(mm, off, 8), ctypes.addressof(exp), new & _MASK64, False, _SEQ_CST, _SEQ_CST))


def load_u32(mm, off: int) -> int:
    return _a_load4(_check(mm, off, 4), _SEQ_CST)


def store_u32(mm, off: int, value: int) -> None:
    _a_store4(_check(mm, off, 4), value & 0xFFFFFFFF, _SEQ_CST)


class AtomicU64:
    """One 8-aligned 64-bit word of a mapping, for hot paths: ``load()`` (acquire), ``store(v)`` (release),
    ``fetch_add(d)`` and ``add(d)`` (seq_cst, return old / new), ``cas(expected, new)``.

    Holds a buffer export of the mmap while it lives (the mmap cannot be unmapped under it); call :meth:`close`
    (or drop it) before closing the mmap."""

    __slots__ = ("_cell", "_addr", "load", "store")

    def __init__(self, mm, off: int) -> None:
        if off % 8 or off < 0 or off + 8 > len(mm):
            raise ValueError(f"offset {off} is not an 8-aligned offset inside the {len(mm)}-byte mapping")
        cell = ctypes.c_uint64.from_buffer(mm, off)
        self._cell = cell
        self._addr = ctypes.addressof(cell)
        if _X86_64:
            # x86-64 (TSO): an aligned 8-byte mov is atomic, every load an acquire and every store a release.
            self.load = self._load_plain
            self.store = self._store_plain
        else:
            self.load = self._load_atomic
            self.store = self._store_atomic

    def _load_plain(self) -> int:
        return self._cell.value

    def _store_plain(self, value: int) -> None:
        self._cell.value = value & _MASK64

    def _load_atomic(self) -> int:
        return _a_load8(self._addr, _SEQ_CST)

    def _store_atomic(self, value: int) -> None:
        _a_store8(self._addr, value & _MASK64, _SEQ_CST)

    def fetch_add(self, delta: int) -> int:
        return _a_fadd8(self._addr, delta & _MASK64, _SEQ_CST)

    def add(self, delta: int) -> int:
        """Adds ``delta``; returns the NEW value (modulo 2**64)."""
        return (_a_fadd8(self._addr, delta & _MASK64, _SEQ_CST) + delta) & _MASK64

    def cas(self, expected: int, new: int) -> bool:
        exp = ctypes.c_uint64(expected & _MASK64)
        return bool(_a_cas8(self._addr, ctypes.addressof(exp), new & _MASK64, False, _SEQ_CST, _SEQ_CST))

    def close(self) -> None:
        self._cell = None
        self._addr = 0
        self.load = self.store = self._closed

    @staticmethod
    def _closed(*_args) -> int:
        raise ValueError("operation on a closed AtomicU64")


def _check_semaphore_layout() -> bool:
    """True when a process-shared glibc semaphore is one 64-bit word holding the value in its low 32 bits."""
    if not _X86_64 and platform.machine() not in ("aarch64", "arm64"):
        return False
    buf = (ctypes.c_uint64 * 8)()
    sem_init = _libc.sem_init
    sem_init.restype = ctypes.c_int
    sem_init.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint]
    sem_destroy = _libc.sem_destroy
    sem_destroy.argtypes = [ctypes.c_void_p]
    addr = ctypes.addressof(buf)
    if sem_init(addr, 1, 0) != 0:
        return False
    try:
        for _ in range(3):
            _sem_post(addr)
        value = ctypes.c_int(0)
        _sem_getvalue(addr, ctypes.byref(value))
        if buf[0] != 3 or value.value != 3:
            return False
        buf[0] = 0
        _sem_getvalue(addr, ctypes.byref(value))
        if value.value != 0 or _sem_trywait(addr) == 0:
            return False
        _sem_post(addr)
        return buf[0] == 1 and _sem_trywait(addr) == 0 and buf[0] == 0
    finally:
        sem_destroy(addr)


_FAST_SEM = _check_semaphore_layout()


# --------------------------------------------------------------------------------------------------------- liveness


def _read_stat(pid: int) -> tuple[str, int]:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read(2048)
    except OSError:
        return "?", 0
    close = data.rfind(b")")
    if close < 0:
        return "?", 0
    fields = data[close + 2 :].split()
    state = fields[0].decode("ascii", "replace") if fields else "?"
    # fields[0] is field 3, so field 22 is fields[19]
    try:
        return state, int(fields[19])
    except (IndexError, ValueError):
        return state, 0


def process_start_time(pid: int) -> int:
    """Start time of a process in clock ticks after boot (field 22 of /proc/PID/stat); 0 if unknown."""
    if pid <= 0:
        return 0
    return _read_stat(pid)[1]


def process_alive(pid: int, start_time: int = 0) -> bool:
    """True if the process exists (EPERM counts), is not a zombie, and has the recorded start time (when known)."""
    if pid <= 0 or pid > 0x7FFFFFFF:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError:
        return False
    state, started = _read_stat(pid)
    if state in ("Z", "X", "x"):
        return False
    return start_time == 0 or started == 0 or started == start_time


# ------------------------------------------------------------------------------------------------------- lock files


def ensure_lock_directory(directory: str) -> None:
    """Creates a missing lock directory with mode 1777; refuses a symbolic link, a non-directory, and another
    (non-root) user's world-writable directory without the sticky bit (PROTOCOL.md section 1)."""
    try:
        os.lstat(directory)
    except FileNotFoundError:
        try:
            os.makedirs(directory, exist_ok=True)
        except FileExistsError:
            pass
        try:
            st = os.lstat(directory)
            if _stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
                os.chmod(directory, 0o1777)
        except FileNotFoundError:
            pass
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        raise FileNotFoundError(
            _errno.ENOENT, f"The lock directory '{directory}' vanished while it was being created.", directory
        ) from None
    if _stat.S_ISLNK(st.st_mode):
        raise PermissionError(
            _errno.EPERM,
            f"The lock directory '{directory}' is a symbolic link; ZeroLane does not follow links at lock paths, since "
            "another user could plant one. Remove it or choose another lock directory.",
            directory,
        )
    if not _stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(_errno.ENOTDIR, f"The lock directory '{directory}' exists but is not a directory.", directory)
    if (
        st.st_uid != os.geteuid()
        and st.st_uid != 0
        and st.st_mode & _stat.S_IWOTH
        and not st.st_mode & _stat.S_ISVTX
    ):
        raise PermissionError(
            _errno.EPERM,
            f"The lock directory '{directory}' belongs to another user (uid {st.st_uid}) and is world-writable without "
            "the sticky bit, so any user could remove or replace lock files in it. Remove it (it is recreated safely) "
            "or choose another lock directory.",
            directory,
        )


def _open_nofollow(path: str, create: bool, mode: int) -> int | None:
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | (os.O_CREAT if create else 0)
    try:
        return os.open(path, flags, mode)
    except FileNotFoundError:
        if not create:
            return None
        raise
    except OSError as e:
        if e.errno == _errno.ELOOP:
            raise PermissionError(
                _errno.ELOOP,
                f"The lock path '{path}' is a symbolic link. ZeroLane never follows a link at a lock path, since another "
                "user could plant one to redirect it; remove the link, or choose another lock directory.",
                path,
            ) from None
        raise


def _try_flock(fd: int) -> bool:
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        except InterruptedError:
            continue


def _same_file(path: str, fd: int) -> bool:
    try:
        a = os.lstat(path)
    except FileNotFoundError:
        return False
    b = os.fstat(fd)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


class LockFile:
    """An exclusive ``flock`` on ``DIRECTORY/NAME.lock``, held until :meth:`release` (or process death)."""

    __slots__ = ("path", "_fd")

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self._fd = fd

    @staticmethod
    def lock_path(directory: str, name: str) -> str:
        return os.path.join(directory, name + ".lock")

    @classmethod
    def acquire(cls, directory: str, name: str, mode: int = 0o600) -> "LockFile | None":
        """Creates (if needed) and locks the lock file; returns None when another process holds it.

        The directory is checked (and created) first; the file is opened with O_NOFOLLOW, and after locking the path
        must still name the locked inode (a cleaner may have removed it in between; then it starts again)."""
        validate_name(name)
        ensure_lock_directory(directory)
        path = cls.lock_path(directory, name)
        for _attempt in range(11):
            fd = _open_nofollow(path, True, mode)
            try:
                if not _try_flock(fd):
                    os.close(fd)
                    return None
                if _same_file(path, fd):
                    os.fchmod(fd, mode)
                    return cls(path, fd)
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        raise OSError(f"The lock file '{path}' keeps being replaced by another process; giving up.")

    @staticmethod
    def is_stale(path: str) -> bool:
        """True when a lock file exists at ``path`` and nobody holds it."""
        fd = _open_nofollow(path, False, 0)
        if fd is None:
            return False
        try:
            return _try_flock(fd)
        finally:
            os.close(fd)

    @staticmethod
    def try_remove_stale(path: str) -> bool:
        """Removes a lock file nobody holds; False if it is held or absent."""
        fd = _open_nofollow(path, False, 0)
        if fd is None:
            return False
        try:
            if not _try_flock(fd) or not _same_file(path, fd):
                return False
            os.unlink(path)
            return True
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def release(self) -> None:
        """Removes the lock file, then drops the lock (closing the descriptor). A second call does nothing."""
        fd, self._fd = self._fd, -1
        if fd < 0:
            return
        try:
            if _same_file(self.path, fd):
                os.unlink(self.path)
        except OSError:
            pass
        os.close(fd)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass

