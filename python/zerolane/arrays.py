"""NumPy helpers: zero-copy read-only arrays over received frames, and the metadata ZeroLane keeps in .npy headers.

NumPy is optional: it is imported only when an array is asked for, and its absence is reported clearly.
"""

from __future__ import annotations

import ast
import json
import os
import struct

__all__ = ["as_array", "NpyHeader", "read_npy_header", "read_npy_metadata", "load_npy"]

METADATA_TAG = "#zerolane-metadata:"
MAX_HEADER_LEN = 16 * 1024 * 1024


def _numpy():
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy is installed here
        raise ImportError(
            "zerolane's array helpers need NumPy, which is not installed; install it (Debian: apt install python3-numpy, "
            "or pip install numpy) or use frame.data, a memoryview, directly"
        ) from None
    return numpy


def as_array(buffer, dtype, shape=None):
    """A read-only NumPy array over ``buffer`` (a frame's ``.data``, a message part...), zero copy.

    ``shape`` defaults to 1-d (as many items as fit); otherwise the shape's item count must match the bytes exactly.
    The array keeps the view (and so the frame's space) alive until the array is gone."""
    np = _numpy()
    dt = np.dtype(dtype)
    view = memoryview(buffer)
    nbytes = view.nbytes
    if dt.itemsize == 0:
        raise ValueError(f"dtype {dt} has no size")
    if shape is None:
        if nbytes % dt.itemsize:
            raise ValueError(f"{nbytes} bytes are not a whole number of {dt} items ({dt.itemsize} bytes each)")
        count = nbytes // dt.itemsize
    else:
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(int(s) for s in shape)
        count = 1
        for s in shape:
            if s < 0:
                raise ValueError(f"shape {shape} has a negative dimension")
            count *= s
        if count * dt.itemsize != nbytes:
            raise ValueError(
                f"shape {shape} of {dt} needs {count * dt.itemsize} bytes, but the buffer holds {nbytes}"
            )
    array = np.frombuffer(view, dtype=dt, count=count)
    if shape is not None:
        array = array.reshape(shape)
    if array.flags.writeable:
        array.flags.writeable = False
    return array


class NpyHeader:
    """What a .npy header says: ``descr``, ``fortran_order``, ``shape``, ``metadata`` (dict or None, ZeroLane's JSON
    comment), ``version`` and ``data_offset``."""

    __slots__ = ("descr", "fortran_order", "shape", "metadata", "version", "data_offset", "header_length")

    def __init__(self, descr, fortran_order, shape, metadata, version, data_offset, header_length):
        self.descr = descr
        self.fortran_order = fortran_order
        self.shape = shape
        self.metadata = metadata
        self.version = version
        self.data_offset = data_offset
        self.header_length = header_length

    def __repr__(self) -> str:
        return (
            f"NpyHeader(descr={self.descr!r}, fortran_order={self.fortran_order}, shape={self.shape}, "
            f"metadata={self.metadata!r}, version={self.version}, data_offset={self.data_offset})"
        )


def _parse(prefix: bytes, read_more) -> NpyHeader:
    if len(prefix) < 10 or prefix[:6] != b"\x93NUMPY":
        raise ValueError("not a .npy file: it does not start with the magic b'\\x93NUMPY'")
    major, minor = prefix[6], prefix[7]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", prefix, 8)
        start = 10
    elif major in (2, 3):
        if len(prefix) < 12:
            raise ValueError("the .npy file ends inside its preamble")
        (hlen,) = struct.unpack_from("<I", prefix, 8)
        start = 12
    else:
        raise ValueError(f".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)")
    if hlen > MAX_HEADER_LEN:
        raise ValueError(f"the .npy header claims {hlen} bytes, more than the {MAX_HEADER_LEN} accepted")
    raw = read_more(start, hlen)
    if len(raw) < hlen:
        raise ValueError("the .npy file ends inside its header")
    text = raw.decode("utf-8" if major == 3 else "latin-1")
    metadata = None
    at = text.find(" " + METADATA_TAG)
    dict_text = text if at < 0 else text[:at]
    if at >= 0:
        comment = text[at + 1 + len(METADATA_TAG):]
        comment = comment.split("\n", 1)[0].rstrip(" ")
        try:
            metadata = json.loads(comment)
        except ValueError as e:
            raise ValueError(f"the .npy header's zerolane metadata is not valid JSON: {e}") from None
    try:
        header = ast.literal_eval(dict_text.strip())
    except (ValueError, SyntaxError) as e:
        raise ValueError(f"the .npy header is not a Python literal dict: {e}") from None
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= header.keys():
        raise ValueError("the .npy header lacks 'descr', 'fortran_order' or 'shape'")
    return NpyHeader(
        header["descr"], bool(header["fortran_order"]), tuple(header["shape"]), metadata, (major, minor), start + hlen, hlen
    )


def read_npy_header(source) -> NpyHeader:
    """Parses the header of a .npy file (a path, or a bytes-like object holding at least the header). The header is
    parsed as data (``ast.literal_eval``), never evaluated."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            prefix = f.read(12)

            def more(offset: int, n: int) -> bytes:
                f.seek(offset)
                return f.read(n)

            return _parse(prefix, more)
    view = memoryview(source).cast("B")
    return _parse(bytes(view[:12]), lambda offset, n: bytes(view[offset:offset + n]))


def read_npy_metadata(source):
    """The JSON metadata ZeroLane put in a .npy header (``#zerolane-metadata:{...}``), or None if there is none."""
    return read_npy_header(source).metadata


def load_npy(path, mmap_mode="r"):
    """``(numpy.load(path, mmap_mode=...), metadata)`` for a ZeroLane array file."""
    np = _numpy()
    return np.load(path, mmap_mode=mmap_mode), read_npy_metadata(path)
