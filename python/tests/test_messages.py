"""Messages (PROTOCOL.md section 7): encoding, zero-copy decoding, limits, malformed input, golden bytes from C#."""

import gc
import mmap
import random
import struct

import numpy as np
import pytest

from msgpeer import peer  # noqa: F401  (fixture)
from zerolane import MessageFormatError
from zerolane.messages import (
    Message,
    MessageLimits,
    decode,
    encode,
    encode_segments,
    encoded_size,
    header_size,
    read_prefix,
)

SHAPES = {
    "empty": (b"", []),
    "body-only": (b"hello", []),
    "one-empty-part": (b"", [b""]),
    "empty-body-parts": (b"", [b"a", b"bc"]),
    "mixed-empty": (b"x", [b"", b"yz", b"", b""]),
    "many-parts": (b"many", [bytes([i & 0xFF]) * (i % 7) for i in range(1024)]),
    "large-part": (b"\x01" * 100, [bytes(range(256)) * (8 << 12)]),  # 8 MiB
    "large-body": (bytes(range(256)) * 4096, [b"tail"]),
}


def flat(message):
    return bytes(message.body), [bytes(part) for part in message.parts()]


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_round_trip(shape):
    body, parts = SHAPES[shape]
    message = Message(body, parts)
    encoded = encode(message)
    assert len(encoded) == encoded_size(message) == header_size(len(parts)) + len(body) + sum(map(len, parts))
    with decode(encoded) as decoded:
        assert flat(decoded) == (body, parts)
        assert decoded.part_count == len(parts)
        assert decoded.length == len(body) + sum(map(len, parts))


def test_golden_bytes_by_hand():
    # PROTOCOL.md section 7, worked out by hand: length, N, flags, body length, part lengths, body, parts.
    assert encode(Message(b"\xab\xcd")) == bytes.fromhex("0000000000000012" "00000000" "00000000" "0000000000000002" "abcd")
    assert encode(Message(b"", [b""])) == bytes.fromhex(
        "0000000000000018" "00000001" "00000000" "0000000000000000" "0000000000000000")
    assert encode(Message(b"\x00", [b"\x01\x02", b""])) == bytes.fromhex(
        "0000000000000023" "00000002" "00000000" "0000000000000001" "0000000000000002" "0000000000000000" "00" "0102")


def test_golden_bytes_match_the_csharp_encoder(peer, tmp_path):  # noqa: F811
    rng = random.Random(11)
    messages = [SHAPES[name] for name in ("empty", "body-only", "one-empty-part", "empty-body-parts", "mixed-empty")]
    for _ in range(40):
        body = rng.randbytes(rng.choice([0, 1, 7, 100, 3000]))
        parts = [rng.randbytes(rng.choice([0, 1, 5, 64, 1000])) for _ in range(rng.choice([0, 1, 2, 5, 33]))]
        messages.append((body, parts))
    lines = ["|".join([body.hex(), *(part.hex() for part in parts)]) for body, parts in messages]
    spec = tmp_path / "messages.txt"
    spec.write_text("\n".join(lines) + "\n")
    child = peer("message-encode", str(spec))
    produced = [bytes.fromhex(child.line()) for _ in messages]
    assert child.finish() == 0
    for (body, parts), csharp in zip(messages, produced):
        assert encode(Message(body, parts)) == csharp
        assert flat(decode(csharp)) == (body, parts)


def test_encode_segments_references_the_segments_in_place():
    body = bytearray(b"body")
    part = bytearray(b"part")
    message = Message(body, [part, b""])
    segments = encode_segments(message)
    assert len(segments) == 3  # header, body, part; the empty part is left out
    assert bytes(segments[0]) == encode(message)[:40]  # 24 + 8 per part
    body[0:1] = b"B"  # same length: allowed while exported, and visible through the segment (no copy was made)
    part[0:1] = b"P"
    assert bytes(segments[1]) == b"Body" and bytes(segments[2]) == b"Part"


def test_message_keeps_its_owners_alive_and_exported():
    part = bytearray(b"x" * 1000)
    message = Message(b"", [part])
    with pytest.raises(BufferError):
        part.extend(b"more")  # resizing would free the memory the message refers to
    del part
    gc.collect()
    assert bytes(message.part(0)) == b"x" * 1000
    owner = message._owners[1]
    message.release()
    owner.extend(b"more")  # released: no longer exported
    with pytest.raises(ValueError, match="released"):
        message.body


def test_owners_of_every_kind_are_not_copied(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    anonymous = mmap.mmap(-1, 4096)
    anonymous[:5] = b"mmap!"
    data = bytearray(b"0123456789")
    message = Message.from_segments([b"meta", array, anonymous, memoryview(data)[2:6], data])
    assert message.part_count == 4
    assert message.part(0).nbytes == 48 and bytes(message.part(0)) == array.tobytes()
    with pytest.raises(BufferError):
        anonymous.close()  # the message holds a view: the mapping cannot go away under it
    array[0, 0] = 99.0
    assert np.frombuffer(message.part(0), np.float32)[0] == 99.0  # the part is the array's memory
    decoded = decode(encode(message))
    assert bytes(decoded.part(2)) == b"2345"
    assert np.array_equal(decoded.part_as_array(0, np.float32, (3, 4)), array)
    decoded.release()
    message.release()
    anonymous.close()


def test_from_segments_is_the_inverse_of_segments():
    original = Message(b"b", [b"p0", b"p1"])
    again = Message.from_segments(original.segments())
    assert flat(again) == (b"b", [b"p0", b"p1"])
    assert flat(Message.from_segments([])) == (b"", [])


def test_bad_segments_are_refused_clearly():
    with pytest.raises(TypeError, match="buffer protocol"):
        Message("text")
    with pytest.raises(ValueError, match="contiguous"):
        Message(b"", [np.arange(16, dtype=np.uint8).reshape(4, 4)[:, ::2]])


def test_decoded_views_point_into_the_buffer_and_are_read_only():
    buffer = bytearray(encode(Message(b"body", [b"part"])))
    message = decode(buffer)
    with pytest.raises(TypeError):
        message.body[0] = 0
    buffer[-4:] = b"PART"  # same size: the decoded part is the buffer's memory
    assert bytes(message.part(0)) == b"PART"
    address = np.frombuffer(buffer, np.uint8).ctypes.data
    assert np.frombuffer(message.part(0), np.uint8).ctypes.data == address + len(buffer) - 4


def test_release_invalidates_the_message_and_its_views_but_not_derived_arrays():
    message = decode(encode(Message(b"body", [b"\x01\x02\x03\x04"])))
    body = message.body
    array = message.part_as_array(0, np.uint8)
    message.release()
    message.release()  # a second call does nothing
    assert message.released
    with pytest.raises(ValueError):
        bytes(body)
    with pytest.raises(ValueError):
        message.parts()
    assert array.tolist() == [1, 2, 3, 4]  # derived before the release: stays valid until dropped


def test_decode_with_keeper_releases_it():
    class Keeper:
        released = 0

        def release(self):
            self.released += 1

    keeper = Keeper()
    with decode(encode(Message(b"x")), keeper=keeper):
        pass
    assert keeper.released == 1


def header(length, parts, flags, body, *part_lengths):
    return struct.pack(f">QIIQ{len(part_lengths)}Q", length, parts, flags, body, *part_lengths)


MALFORMED = {
    "short-prefix": (b"\x00" * 7, "length prefix needs 8 bytes"),
    "below-header": (header(15, 0, 0, 0)[:8] + b"\x00" * 15, "fewer than the 16-byte header"),
    "above-max": (struct.pack(">Q", (256 << 20) + 1) + b"\x00" * 16, "more than the maximum"),
    "huge-length": (struct.pack(">Q", 2**64 - 1) + b"\x00" * 16, "more than the maximum"),
    "prefix-mismatch": (header(16, 0, 0, 0) + b"x", "prefix announces 16 bytes but 17"),
    "flags": (header(16, 0, 1, 0), "flags 0x00000001"),
    "too-many-parts": (header(16, 1025, 0, 0), "1025 parts, more than the maximum of 1024"),
    "no-room-for-lengths": (header(16, 1, 0, 0), "cannot hold the lengths of its 1 parts"),
    "body-too-long": (header(17, 0, 0, 2) + b"x", "body claims 2 bytes but only 1"),
    "part-too-long": (header(26, 1, 0, 0, 3) + b"xx", "Part 0 of a message claims 3 bytes but only 2"),
    "extra-bytes": (header(27, 1, 0, 1, 1) + b"xyz", "1 bytes beyond its body and parts"),
    "huge-part": (header(26, 1, 0, 0, 2**64 - 1) + b"xx", "Part 0"),
    "huge-body": (header(18, 0, 0, 2**64 - 1) + b"xx", "body claims"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_malformed_input_names_the_length_that_lied(case):
    data, text = MALFORMED[case]
    with pytest.raises(MessageFormatError, match=text.replace("(", r"\(")):
        decode(data)


def test_limits_are_applied_and_validated():
    encoded = encode(Message(b"x" * 100, [b"a", b"b"]))
    with pytest.raises(MessageFormatError, match="maximum of 50"):
        decode(encoded, MessageLimits(max_message_length=50))
    with pytest.raises(MessageFormatError, match="maximum of 1"):
        decode(encoded, MessageLimits(max_parts=1))
    assert decode(encoded, MessageLimits(max_message_length=len(encoded) - 8, max_parts=2)).part_count == 2
    assert read_prefix(encoded) == len(encoded) - 8
    for bad in ({"max_message_length": 15}, {"max_message_length": 2**31}, {"max_parts": -1}):
        with pytest.raises(ValueError):
            MessageLimits(**bad)


def fuzz_corpus(rng):
    for _ in range(60):
        body = rng.randbytes(rng.choice([0, 1, 3, 20]))
        parts = [rng.randbytes(rng.choice([0, 1, 2, 9])) for _ in range(rng.choice([0, 1, 2, 4, 9]))]
        yield encode(Message(body, parts))


def test_fuzz_truncations_always_raise_message_format_error():
    rng = random.Random(7)
    checked = 0
    for encoded in fuzz_corpus(rng):
        for cut in range(len(encoded)):
            with pytest.raises(MessageFormatError):
                decode(encoded[:cut])
            # The same cut with the prefix rewritten to match reaches the deeper checks.
            if cut >= 8:
                patched = struct.pack(">Q", cut - 8) + encoded[8:cut]
                with pytest.raises(MessageFormatError):
                    decode(patched)
            checked += 1
    assert checked > 1000


def test_fuzz_bit_flips_raise_or_decode_consistently():
    rng = random.Random(8)
    decoded = refused = 0
    for encoded in fuzz_corpus(rng):
        for _ in range(60):
            flipped = bytearray(encoded)
            for _ in range(rng.choice([1, 1, 2, 3])):
                bit = rng.randrange(len(flipped) * 8)
                flipped[bit // 8] ^= 1 << (bit % 8)
            try:
                message = decode(flipped)
            except MessageFormatError:
                refused += 1
                continue
            # Whatever decodes must be a message that encodes back to exactly these bytes.
            assert encode(message) == bytes(flipped)
            decoded += 1
    assert decoded > 0 and refused > 0


def test_fuzz_random_bytes_never_escape_as_another_error():
    rng = random.Random(9)
    for _ in range(3000):
        data = rng.randbytes(rng.randrange(0, 64))
        if len(data) >= 8 and rng.random() < 0.5:
            data = struct.pack(">Q", len(data) - 8) + data[8:]
        try:
            decode(data)
        except MessageFormatError:
            pass
