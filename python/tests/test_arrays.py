"""NumPy helpers: frame.as_array (zero copy, read-only) and ZeroLane's metadata in .npy headers."""

import json
import os
import struct
import subprocess

import numpy as np
import pytest

import zerolane as zl
from zerolane.arrays import as_array, load_npy, read_npy_header, read_npy_metadata


def _mapping_ranges(name):
    """Every mapping of /dev/shm/NAME in this process (the reader's and the writer's)."""
    ranges = []
    with open(f"/proc/{os.getpid()}/maps") as f:
        for line in f:
            if f"/dev/shm/{name}" in line:
                lo, hi = line.split()[0].split("-")
                ranges.append((int(lo, 16), int(hi, 16)))
    return ranges


def test_as_array_is_zero_copy_and_read_only(unique_name):
    values = np.arange(24, dtype="<f4")
    with zl.Reader(unique_name, 4096) as reader, zl.Writer(unique_name) as writer:
        writer.write(values)
        with reader.read(5) as frame:
            array = frame.as_array(np.float32, (2, 3, 4))
            assert array.shape == (2, 3, 4) and np.array_equal(array.ravel(), values)
            assert not array.flags.writeable
            with pytest.raises(ValueError):
                array[0, 0, 0] = 1
            address = array.__array_interface__["data"][0]
            # the array lies in a shared mapping: nothing was copied
            assert any(lo <= address < hi for lo, hi in _mapping_ranges(unique_name))
            flat = as_array(frame.data, "<f4")
            assert flat.shape == (24,)
            with pytest.raises(ValueError, match="needs 100 bytes"):
                frame.as_array(np.uint8, 100)
            with pytest.raises(ValueError, match="whole number"):
                frame.as_array(np.dtype("V7"))
            del array, flat


def _npy(path, array, metadata=None, header_len=None):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (array.dtype.str, array.shape)
    text = d + ("" if metadata is None else " #zerolane-metadata:" + json.dumps(metadata, separators=(",", ":")))
    if header_len is None:
        header_len = ((10 + len(text) + 1 + 1024 + 63) // 64) * 64 - 10
    text = text + " " * (header_len - len(text) - 1) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", header_len) + text.encode("latin-1"))
        f.write(array.tobytes())


def test_npy_metadata(tmp_path):
    array = np.arange(12, dtype="<i4").reshape(3, 4)
    path = tmp_path / "a.npy"
    _npy(path, array, {"unit": "m/s", "scale": 0.5, "name": "caf\u00e9"})
    header = read_npy_header(path)
    assert header.descr == "<i4" and header.shape == (3, 4) and not header.fortran_order
    assert header.data_offset % 64 == 0 and header.version == (1, 0)
    assert read_npy_metadata(path) == {"unit": "m/s", "scale": 0.5, "name": "caf\u00e9"}
    loaded, meta = load_npy(path)
    assert np.array_equal(loaded, array) and meta["unit"] == "m/s"
    assert np.array_equal(np.load(path), array)  # NumPy ignores the comment
    assert read_npy_metadata(path.read_bytes()) == meta
    plain = tmp_path / "plain.npy"
    np.save(plain, array)
    assert read_npy_metadata(plain) is None
    with pytest.raises(ValueError, match="not a .npy"):
        read_npy_header(b"hello world!")


def test_npy_metadata_matches_the_cs_tool(tmp_path, cli):
    path = tmp_path / "a.npy"
    _npy(path, np.zeros((2, 5), dtype="<f8"), {"unit": "kelvin"})
    child = cli("array", "info", str(path))
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert b"kelvin" in out
