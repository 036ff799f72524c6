"""The POSIX layer: names, shared memory, semaphores, atomics, liveness, lock files."""

import os
import stat
import subprocess
import sys
import threading

import pytest

from zerolane import _posix
from zerolane.errors import InvalidNameError


@pytest.mark.parametrize("name", ["a", "cam-1", "A.b_c-9", "x" * 200])
def test_valid_names(name):
    _posix.validate_name(name)


@pytest.mark.parametrize(
    "name, part",
    [("", "empty"), ("x" * 201, "201 characters"), ("a/b", "character 2 ('/')"), ("..", "starts with '.'"),
     (".hidden", "starts with '.'"), ("a b", "character 2 (' ')"), ("a\nb", "U+000A"), ("é", "character 1")],
)
def test_invalid_names(name, part):
    with pytest.raises(InvalidNameError, match="not allowed") as info:
        _posix.validate_name(name)
    assert part in str(info.value)
    assert isinstance(info.value, ValueError)


def test_shared_memory_create_open_unlink(unique_name):
    shm = _posix.SharedMemory.create(unique_name, 8192, 0o600)
    try:
        st = os.stat(f"/dev/shm/{unique_name}")
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert st.st_size == 8192 and st.st_blocks * 512 >= 8192  # allocated, not sparse
        assert shm.size == 8192 and len(shm.mmap) == 8192
        with pytest.raises(FileExistsError):
            _posix.SharedMemory.create(unique_name, 4096)
        other = _posix.SharedMemory.open(unique_name)
        shm.mmap[100:105] = b"hello"
        assert other.mmap[100:105] == b"hello"
        assert other.close() is True
    finally:
        assert shm.close() is True
        assert _posix.SharedMemory.unlink(unique_name) is True
    assert _posix.SharedMemory.unlink(unique_name) is False
    with pytest.raises(FileNotFoundError):
        _posix.SharedMemory.open(unique_name)


def test_shared_memory_mode_is_exact_despite_umask(unique_name):
    old = os.umask(0o077)
    try:
        shm = _posix.SharedMemory.create(unique_name, 4096, 0o660)
    finally:
        os.umask(old)
    try:
        assert stat.S_IMODE(os.stat(f"/dev/shm/{unique_name}").st_mode) == 0o660
    finally:
        shm.close()
        _posix.SharedMemory.unlink(unique_name)


def test_shared_memory_close_with_exports_keeps_mapping(unique_name):
    shm = _posix.SharedMemory.create(unique_name, 4096)
    _posix.SharedMemory.unlink(unique_name)
    shm.mmap[0:3] = b"abc"
    view = memoryview(shm.mmap)[0:3]
    assert shm.close() is False  # an export exists: only the reference is dropped
    assert bytes(view) == b"abc"  # still mapped
    view.release()


def test_semaphore_roundtrip(unique_name):
    name = f"/sem-t-{unique_name}"
    sem = _posix.Semaphore.create(name, 0o600, 0)
    try:
        assert stat.S_IMODE(os.stat(f"/dev/shm/sem.sem-t-{unique_name}").st_mode) == 0o600
        with pytest.raises(FileExistsError):
            _posix.Semaphore.create(name)
        other = _posix.Semaphore.open(name.lstrip("/"))
        assert sem.value() == 0 and not sem.try_wait()
        other.post()
        other.post()
        assert sem.value() == 2
        assert sem.wait(1.0)
        assert sem.drain() == 1
        assert not sem.wait(0.01)  # times out
        assert not sem.wait(0)
        other.close()
        other.close()
        with pytest.raises(ValueError, match="closed"):
            other.post()
    finally:
        sem.close()
        assert _posix.Semaphore.unlink(name) is True
    assert _posix.Semaphore.unlink(name) is False
    with pytest.raises(FileNotFoundError):
        _posix.Semaphore.open(name)


def test_semaphore_wakes_waiter_in_thread(unique_name):
    sem = _posix.Semaphore.create(f"/sem-t-{unique_name}")
    try:
        got = []
        t = threading.Thread(target=lambda: got.append(sem.wait(30)))
        t.start()
        sem.post()
        t.join(30)
        assert got == [True]
    finally:
        sem.close()
        _posix.Semaphore.unlink(f"/sem-t-{unique_name}")


def test_atomics(unique_name):
    shm = _posix.SharedMemory.create(unique_name, 4096)
    try:
        mm = shm.mmap
        _posix.store_u64(mm, 8, 5)
        assert _posix.load_u64(mm, 8) == 5
        assert _posix.fetch_add_u64(mm, 8, 10) == 5
        assert _posix.fetch_add_u64(mm, 8, -3) == 15
        assert _posix.load_u64(mm, 8) == 12
        assert not _posix.cas_u64(mm, 8, 11, 99)
        assert _posix.cas_u64(mm, 8, 12, 99)
        assert int.from_bytes(mm[8:16], "little") == 99
        _posix.store_u64(mm, 16, 2**64 - 1)
        assert _posix.load_u64(mm, 16) == 2**64 - 1
        _posix.store_u32(mm, 4, 0x314E4C5A)
        assert _posix.load_u32(mm, 4) == 0x314E4C5A and mm[4:8] == b"ZLN1"
        with pytest.raises(ValueError):
            _posix.load_u64(mm, 4)
        with pytest.raises(ValueError):
            _posix.load_u64(mm, 4096)
        word = _posix.AtomicU64(mm, 24)
        word.store(7)
        assert word.load() == 7 and word.fetch_add(1) == 7 and word.add(2) == 10 and word.add(-10) == 0
        assert word.cas(0, 3) and not word.cas(0, 4) and word.load() == 3
        word.close()
        with pytest.raises(ValueError):
            word.load()
        # concurrent fetch_add from two threads loses nothing
        def bump():
            for _ in range(20000):
                _posix.fetch_add_u64(mm, 32, 1)
        threads = [threading.Thread(target=bump) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert _posix.load_u64(mm, 32) == 40000
    finally:
        assert shm.close() is True  # address_of's export was dropped
        _posix.SharedMemory.unlink(unique_name)


def test_liveness():
    me = os.getpid()
    start = _posix.process_start_time(me)
    assert start > 0
    assert _posix.process_alive(me)
    assert _posix.process_alive(me, start)
    assert not _posix.process_alive(me, start + 1)  # a reused PID is not the recorded process
    assert _posix.process_alive(1)  # EPERM or not, init exists
    assert not _posix.process_alive(0)
    assert _posix.process_start_time(2**22 + 12345) == 0


def test_zombie_is_dead():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    # wait until it exits but do not reap: poll /proc for the zombie state
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    try:
        assert not _posix.process_alive(child.pid)
    finally:
        child.wait()


def test_lock_file(tmp_path, unique_name):
    directory = str(tmp_path / "locks")
    lock = _posix.LockFile.acquire(directory, unique_name, 0o600)
    assert lock is not None
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o1777
    path = os.path.join(directory, unique_name + ".lock")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # held by another open file description: a second acquire fails, the file is not stale
    assert _posix.LockFile.acquire(directory, unique_name) is None
    assert not _posix.LockFile.is_stale(path)
    assert not _posix.LockFile.try_remove_stale(path)
    lock.release()
    lock.release()
    assert not os.path.exists(path)
    # a lock file left by a dead holder is stale and removable
    open(path, "w").close()
    assert _posix.LockFile.is_stale(path)
    assert _posix.LockFile.try_remove_stale(path)
    assert not os.path.exists(path)


def test_lock_refuses_symlinks(tmp_path, unique_name):
    directory = tmp_path / "locks"
    directory.mkdir()
    (directory / f"{unique_name}.lock").symlink_to(tmp_path / "target")
    with pytest.raises(PermissionError, match="symbolic link"):
        _posix.LockFile.acquire(str(directory), unique_name)
    assert not (tmp_path / "target").exists()
    linkdir = tmp_path / "linkdir"
    linkdir.symlink_to(directory)
    with pytest.raises(PermissionError, match="symbolic link"):
        _posix.LockFile.acquire(str(linkdir), unique_name)


def test_lock_directory_not_a_directory(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(NotADirectoryError):
        _posix.ensure_lock_directory(str(f))


def test_shared_memory_fd_stays_open_until_close(unique_name):
    shm = _posix.SharedMemory.create(unique_name, 4096)
    try:
        assert shm.fd >= 0 and os.fstat(shm.fd).st_size == 4096
        other = _posix.SharedMemory.open(unique_name)
        assert other.fd >= 0 and other.fd != shm.fd
        other.close()
        assert other.fd == -1
    finally:
        shm.close()
        _posix.SharedMemory.unlink(unique_name)
    assert shm.fd == -1
