"""Message streams (PROTOCOL.md section 11) between Python ends: TCP and Unix, sync and asyncio, partial writes,
cancel-safe receives, truncated and oversized streams, faulted senders, the Unix listener's file rules."""

import asyncio
import os
import shutil
import socket
import stat
import struct
import tempfile
import threading
import tracemalloc

import numpy as np
import pytest

from zerolane import ConnectionClosedError, MessageFormatError, StreamTruncatedError
from zerolane.messages import Message, MessageLimits, encode
from zerolane.streams import (
    AsyncMessageConnection,
    AsyncMessageListener,
    MessageConnection,
    MessageConnectionFaultedError,
    MessageListener,
)

SHAPES = [
    (b"", []),
    (b"body", []),
    (b"", [b""]),
    (b"x", [b"", b"yz", b"", b""]),
    (b"many", [bytes([i & 0xFF]) * (i % 5) for i in range(300)]),
    (b"large", [bytes(range(256)) * (12 << 12)]),  # 12 MiB: many partial writes
]


def untouched(size):
    """Zeros that cost no memory until read: an anonymous mapping (the kernel sends its zero page)."""
    return __import__("mmap").mmap(-1, size)


def flat(message):
    return bytes(message.body), [bytes(part) for part in message.parts()]


@pytest.fixture
def socket_dir():
    """A short private directory for Unix socket files (paths are limited to 108 bytes); removed afterwards."""
    path = tempfile.mkdtemp(prefix="zl-msg-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(params=["tcp", "unix"])
def pair(request, socket_dir):
    """A connected (client, server) pair of sync MessageConnections; closed afterwards."""
    connections = []

    def make(limits=None, client_limits=None):
        if request.param == "tcp":
            listener = MessageListener.listen_tcp(limits=limits)
            client = MessageConnection.connect_tcp("127.0.0.1", listener.port, timeout=10, limits=client_limits)
        else:
            listener = MessageListener.listen_unix(os.path.join(socket_dir, "s"), limits=limits)
            client = MessageConnection.connect_unix(listener.path, timeout=10, limits=client_limits)
        with listener:
            server = listener.accept(timeout=10)
        connections.extend([client, server])
        return client, server

    make.kind = request.param
    yield make
    for connection in connections:
        connection.abort()


def in_thread(function, *args):
    """Runs ``function`` in a thread; the returned join() re-raises what it raised."""
    errors = []

    def run():
        try:
            function(*args)
        except BaseException as error:  # noqa: BLE001  (handed to the test)
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()

    def join():
        thread.join(60)
        assert not thread.is_alive(), "the thread did not finish"
        if errors:
            raise errors[0]

    return join


def test_round_trip_of_many_shapes_in_both_directions(pair):
    client, server = pair()

    def send_all(connection):
        for body, parts in SHAPES:
            connection.send(Message(body, parts), timeout=60)

    for sender, receiver in ((client, server), (server, client)):
        join = in_thread(send_all, sender)
        for body, parts in SHAPES:
            with receiver.receive(timeout=60) as message:
                assert flat(message) == (body, parts)
        join()
    assert client.messages_sent == server.messages_received == len(SHAPES)


def test_segments_of_every_kind_are_sent_in_place(pair):
    client, server = pair()
    array = np.arange(100_000, dtype=np.float32)
    anonymous = __import__("mmap").mmap(-1, 1 << 20)
    anonymous[:4] = b"mmap"
    data = bytearray(b"0123456789")
    message = Message.from_segments([b"meta", array, anonymous, memoryview(data)[3:7]])
    join = in_thread(client.send, message, 60)
    with server.receive(timeout=60) as received:
        assert received.part_as_array(0, np.float32).tolist() == array.tolist()
        assert bytes(received.part(1)[:4]) == b"mmap" and received.part(1).nbytes == 1 << 20
        assert bytes(received.part(2)) == b"3456"
    join()
    message.release()
    anonymous.close()


def test_more_segments_than_iov_max(pair):
    limits = MessageLimits(max_parts=5000)
    client, server = pair(limits=limits)
    parts = [bytes([i & 0xFF, (i >> 8) & 0xFF]) for i in range(3000)]
    join = in_thread(client.send, Message(b"b", parts), 60)
    with server.receive(timeout=60) as message:
        assert flat(message) == (b"b", parts)
    join()


def test_partial_writes_with_small_socket_buffers(pair):
    client, server = pair()
    client.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    parts = [os.urandom(3 << 20), b"", os.urandom(12345), os.urandom(1 << 20)]
    join = in_thread(lambda: [client.send(Message(b"h", parts), timeout=60) for _ in range(3)])
    for _ in range(3):
        with server.receive(timeout=60) as message:
            assert flat(message) == (b"h", parts)
    join()


def address(view):
    return np.frombuffer(view, np.uint8).ctypes.data


def test_the_receive_buffer_is_reused_once_released_and_never_while_held(pair):
    client, server = pair()
    for i in range(3):
        client.send(Message(bytes([i]) * 100))
    first = server.receive(timeout=10)
    where = address(first.body)
    first.release()
    second = server.receive(timeout=10)
    assert address(second.body) == where  # one reused buffer
    third = server.receive(timeout=10)  # second still held: a new buffer, second untouched
    assert address(third.body) != where
    assert bytes(second.body) == b"\x01" * 100 and bytes(third.body) == b"\x02" * 100
    array = np.frombuffer(second.body, np.uint8)
    second.release()
    third.release()
    client.send(Message(b"\x03" * 100))
    fourth = server.receive(timeout=10)
    assert address(fourth.body) != where  # the array made from the second message still holds that buffer
    assert array.tolist() == [1] * 100
    fourth.release()


def raw_pair(kind, socket_dir, limits=None):
    """A raw client socket and the server's MessageConnection, to send arbitrary bytes."""
    if kind == "tcp":
        listener = MessageListener.listen_tcp(limits=limits)
        raw = socket.create_connection(("127.0.0.1", listener.port), timeout=10)
    else:
        listener = MessageListener.listen_unix(os.path.join(socket_dir, "r"), limits=limits)
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.connect(listener.path)
    with listener:
        server = listener.accept(timeout=10)
    return raw, server


@pytest.fixture(params=["tcp", "unix"])
def raw(request, socket_dir):
    made = []

    def make(limits=None):
        raw_socket, server = raw_pair(request.param, socket_dir, limits)
        made.append((raw_socket, server))
        return raw_socket, server

    yield make
    for raw_socket, server in made:
        raw_socket.close()
        server.abort()


def wait_for_partial(server):
    """Receives with short timeouts until the receiver holds part of a message (a bounded number of tries)."""
    for _ in range(10_000):
        with pytest.raises(TimeoutError):
            server.receive(timeout=0.001)
        if server.has_partial_message:
            return
    raise AssertionError("the first bytes never arrived")


def test_a_timeout_mid_message_loses_nothing(raw):
    sock, server = raw()
    encoded = encode(Message(b"body", [b"part" * 1000, b"x"]))
    for cut in (3, 8, 20, 24, 30, 4000):  # inside the prefix, the fixed header, the part lengths, the parts
        sock.sendall(encoded[:cut])
        wait_for_partial(server)
        sock.sendall(encoded[cut:])
        with server.receive(timeout=10) as message:
            assert flat(message) == (b"body", [b"part" * 1000, b"x"])
        assert not server.has_partial_message


def test_dribbled_bytes_with_zero_timeouts(raw):
    sock, server = raw()
    encoded = encode(Message(b"abc", [b"", b"defg"])) * 2
    received = []
    for byte in encoded:
        sock.sendall(bytes([byte]))
        while True:  # each byte arrives eventually; every timeout keeps what came
            try:
                message = server.receive(timeout=0)
            except TimeoutError:
                if server.has_partial_message or received:
                    break
                continue
            received.append(flat(message))
            break
    while len(received) < 2:
        received.append(flat(server.receive(timeout=10)))
    assert received == [(b"abc", [b"", b"defg"])] * 2


def test_end_of_stream_between_messages_and_iteration(pair):
    client, server = pair()
    for i in range(5):
        client.send(Message(bytes([i])))
    join = in_thread(client.close)
    got = [bytes(m.body) for m in server]
    assert got == [bytes([i]) for i in range(5)]
    with pytest.raises(ConnectionClosedError):
        server.receive()
    server.close()
    join()


def test_a_stream_that_ends_inside_a_message_is_truncated(raw):
    sock, server = raw()
    encoded = encode(Message(b"body", [b"0123456789"]))
    sock.sendall(encoded[:30])
    sock.shutdown(socket.SHUT_WR)
    with pytest.raises(StreamTruncatedError, match=f"{len(encoded)}-byte message after 30 bytes"):
        server.receive(timeout=10)
    with pytest.raises(StreamTruncatedError):
        server.receive(timeout=10)  # the receiver is faulted


@pytest.mark.parametrize("prefix", [2**40, 2**64 - 1, 1001])
def test_an_oversized_message_is_refused_before_allocating(raw, prefix):
    sock, server = raw(MessageLimits(max_message_length=1000))
    sock.sendall(struct.pack(">Q", prefix))
    tracemalloc.start()
    try:
        with pytest.raises(MessageFormatError, match="more than the maximum of 1000"):
            server.receive(timeout=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024
    with pytest.raises(MessageFormatError):
        server.receive(timeout=10)


def test_a_lying_fixed_header_is_refused_before_allocating(raw):
    sock, server = raw()
    # 200 MiB announced (within the limits) but the header says 2000 parts: refused after 24 bytes.
    sock.sendall(struct.pack(">QIIQ", 200 << 20, 2000, 0, 0))
    tracemalloc.start()
    try:
        with pytest.raises(MessageFormatError, match="2000 parts"):
            server.receive(timeout=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024


def test_bad_flags_fault_the_receiver(raw):
    sock, server = raw()
    sock.sendall(struct.pack(">QIIQ", 16, 0, 2, 0))
    with pytest.raises(MessageFormatError, match="flags 0x00000002"):
        server.receive(timeout=10)


def test_a_send_cut_short_faults_the_sender(pair):
    client, server = pair()
    client.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    with pytest.raises(TimeoutError, match="Part of it is on the wire"):
        client.send(Message(b"", [untouched(64 << 20)]), timeout=0.05)
    with pytest.raises(MessageConnectionFaultedError) as caught:
        client.send(Message(b"small"))
    assert isinstance(caught.value.__cause__, TimeoutError)


def test_send_takes_only_messages(pair):
    client, _ = pair()
    with pytest.raises(TypeError, match="takes a Message"):
        client.send(b"bytes")
    client.send(Message(b"still usable"))


def test_accept_times_out():
    with MessageListener.listen_tcp() as listener:
        with pytest.raises(TimeoutError):
            listener.accept(timeout=0.01)


def test_unix_listener_file_rules(socket_dir):
    path = os.path.join(socket_dir, "rules")
    with MessageListener.listen_unix(path) as listener:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        with pytest.raises(OSError, match="Another listener is accepting"):
            MessageListener.listen_unix(path)
        assert listener.port == 0 and listener.path == path
    assert not os.path.exists(path)  # removed on close

    with MessageListener.listen_unix(path, mode=0o660):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660

    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)  # a socket file nobody accepts on: replaced
    stale.close()
    with MessageListener.listen_unix(path):
        pass

    with open(path, "w") as handle:
        handle.write("not a socket")
    with pytest.raises(FileExistsError, match="not a Unix socket"):
        MessageListener.listen_unix(path)
    os.unlink(path)

    os.symlink(os.path.join(socket_dir, "elsewhere"), path)
    with pytest.raises(OSError, match="symbolic link"):
        MessageListener.listen_unix(path)
    os.unlink(path)

    listener = MessageListener.listen_unix(path)
    os.unlink(path)
    with open(path, "w") as handle:  # someone else's file now: close must not remove it
        handle.write("theirs")
    listener.close()
    assert os.path.exists(path)


# -- asyncio ---------------------------------------------------------------------------------------------------


async def async_pair(kind, socket_dir, limits=None):
    if kind == "tcp":
        listener = AsyncMessageListener.listen_tcp(limits=limits)
        connecting = asyncio.ensure_future(AsyncMessageConnection.connect_tcp("127.0.0.1", listener.port))
    else:
        listener = AsyncMessageListener.listen_unix(os.path.join(socket_dir, "a"), limits=limits)
        connecting = asyncio.ensure_future(AsyncMessageConnection.connect_unix(listener.path))
    with listener:
        server = await listener.accept()
    return await connecting, server


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_async_round_trip(kind, socket_dir):
    async def main():
        client, server = await async_pair(kind, socket_dir)
        try:
            async def send_all(connection):
                for body, parts in SHAPES:
                    await connection.send(Message(body, parts))

            for sender, receiver in ((client, server), (server, client)):
                task = asyncio.create_task(send_all(sender))
                for body, parts in SHAPES:
                    with await receiver.receive(timeout=60) as message:
                        assert flat(message) == (body, parts)
                await task
            closing = asyncio.create_task(client.close())
            assert [m async for m in server] == []
            await server.close()
            await closing
        finally:
            client.abort()
            server.abort()

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_async_cancellation_mid_message_loses_nothing(kind, socket_dir):
    async def main():
        client, server = await async_pair(kind, socket_dir)
        try:
            encoded = encode(Message(b"body", [b"part" * 5000, b"end"]))
            for cut in (5, 24, 40, 10000):
                client.socket.sendall(encoded[:cut])
                task = asyncio.create_task(server.receive())
                for _ in range(100_000):
                    await asyncio.sleep(0)
                    if server.has_partial_message:
                        break
                assert server.has_partial_message
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                # wait_for cancels too; each cancellation keeps what arrived.
                with pytest.raises(TimeoutError):
                    await asyncio.wait_for(server.receive(), 0.001)
                client.socket.sendall(encoded[cut:])
                with await server.receive(timeout=60) as message:
                    assert flat(message) == (b"body", [b"part" * 5000, b"end"])
        finally:
            client.abort()
            server.abort()

    asyncio.run(main())


def test_async_truncated_and_oversized(socket_dir):
    async def main():
        client, server = await async_pair("tcp", socket_dir, MessageLimits(max_message_length=100))
        try:
            client.socket.sendall(struct.pack(">Q", 101))
            with pytest.raises(MessageFormatError, match="maximum of 100"):
                await server.receive(timeout=10)
        finally:
            client.abort()
            server.abort()
        client, server = await async_pair("unix", socket_dir)
        try:
            client.socket.sendall(encode(Message(b"abc"))[:-1])
            client.socket.shutdown(socket.SHUT_WR)
            with pytest.raises(StreamTruncatedError):
                await server.receive(timeout=10)
        finally:
            client.abort()
            server.abort()

    asyncio.run(main())


def test_async_send_cancelled_mid_message_faults_the_sender(socket_dir):
    async def main():
        client, server = await async_pair("tcp", socket_dir)
        try:
            client.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.send(Message(b"", [untouched(64 << 20)])), 0.05)
            with pytest.raises(MessageConnectionFaultedError):
                await client.send(Message(b"x"))
        finally:
            client.abort()
            server.abort()

    asyncio.run(main())


def test_async_accept_can_be_cancelled():
    async def main():
        with AsyncMessageListener.listen_tcp() as listener:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(listener.accept(), 0.01)
            connecting = asyncio.ensure_future(AsyncMessageConnection.connect_tcp("127.0.0.1", listener.port))
            server = await listener.accept()
            client = await connecting
            await client.send(Message(b"after"))
            with await server.receive(timeout=10) as message:
                assert bytes(message.body) == b"after"
            client.abort()
            server.abort()

    asyncio.run(main())


def random_messages(rng, count):
    messages = []
    for _ in range(count):
        body = rng.randbytes(rng.choice([0, 1, 5, 100, 5000]))
        parts = [rng.randbytes(rng.choice([0, 1, 3, 700, 70_000])) for _ in range(rng.choice([0, 1, 2, 6]))]
        messages.append((body, parts))
    return messages


def test_property_random_chunks_with_timeouts_between_them(raw):
    """A stream of random messages arriving in random chunks, with receives timing out between chunks: every message
    comes out whole and in order (no byte lost or duplicated by the timeouts)."""
    import random

    rng = random.Random(12)
    sock, server = raw()
    messages = random_messages(rng, 60)
    stream = b"".join(encode(Message(body, parts)) for body, parts in messages)
    received = []
    position = 0
    while position < len(stream):
        chunk = rng.choice([1, 2, 7, 24, 100, 4096, 65536])
        sock.sendall(stream[position:position + chunk])
        position += chunk
        for _ in range(rng.choice([1, 2, 3])):
            try:
                with server.receive(timeout=0) as message:
                    received.append(flat(message))
            except TimeoutError:
                pass
    sock.shutdown(socket.SHUT_WR)
    received.extend(flat(message) for message in server)
    assert received == messages


def test_property_async_random_chunks_with_cancellations(socket_dir):
    """The same with asyncio: chunks arriving between receives that are cancelled at random points."""
    import random

    async def main():
        rng = random.Random(13)
        client, server = await async_pair("unix", socket_dir)
        try:
            messages = random_messages(rng, 40)
            stream = b"".join(encode(Message(body, parts)) for body, parts in messages)
            received = []
            position = cancelled_mid_message = 0
            while position < len(stream):
                chunk = rng.choice([1, 3, 24, 500, 65536])
                try:  # non-blocking: when the socket is full, the receives below make room
                    position += client.socket.send(stream[position:position + chunk])
                except BlockingIOError:
                    pass
                task = asyncio.create_task(server.receive())
                for _ in range(rng.choice([0, 1, 2, 5])):
                    await asyncio.sleep(0)
                if not task.done() and server.has_partial_message:
                    cancelled_mid_message += 1
                task.cancel()
                try:
                    with await task as message:  # it may have completed just before the cancellation
                        received.append(flat(message))
                except asyncio.CancelledError:
                    pass
            while len(received) < len(messages):  # everything is sent: the rest arrives without cancellations
                with await server.receive(timeout=60) as message:
                    received.append(flat(message))
            assert received == messages
            assert cancelled_mid_message > 0  # some receives were cancelled in the middle of a message
        finally:
            client.abort()
            server.abort()

    asyncio.run(main())


def test_send_many_sends_one_batch_the_peer_cannot_tell_apart(pair):
    client, server = pair()
    batch = [Message(bytes([i]), [bytes([i]) * i] * (i % 3)) for i in range(50)] + [Message(b"", [bytes(3 << 20)])]
    join = in_thread(client.send_many, batch, 60)
    for i in range(50):
        with server.receive(timeout=60) as message:
            assert flat(message) == (bytes([i]), [bytes([i]) * i] * (i % 3))
    with server.receive(timeout=60) as message:
        assert message.part(0).nbytes == 3 << 20
    join()
    assert client.messages_sent == 51
    client.send_many([])
    with pytest.raises(TypeError):
        client.send_many([Message(b"ok"), b"not a message"])
    client.send(Message(b"usable"))  # the refused batch sent nothing
    with server.receive(timeout=10) as message:
        assert bytes(message.body) == b"usable"


def test_async_send_many(socket_dir):
    async def main():
        client, server = await async_pair("tcp", socket_dir)
        try:
            batch = [Message(bytes([i]), [bytes(i * 1000)]) for i in range(100)]
            sending = asyncio.create_task(client.send_many(batch))
            for i in range(100):
                with await server.receive(timeout=60) as message:
                    assert flat(message) == (bytes([i]), [bytes(i * 1000)])
            await sending
            assert client.messages_sent == 100
        finally:
            client.abort()
            server.abort()

    asyncio.run(main())


def test_tcp_listens_on_loopback_by_default_and_on_ipv6_when_named():
    with MessageListener.listen_tcp() as listener:
        assert listener._listening.sock.getsockname()[0] == "127.0.0.1"
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this host")
    try:
        listener = MessageListener.listen_tcp(host="::1")
    except OSError as error:
        pytest.skip(f"IPv6 loopback unavailable: {error}")
    with listener:
        client = MessageConnection.connect_tcp("::1", listener.port, timeout=10)
        server = listener.accept(timeout=10)
    try:
        client.send(Message(b"v6"))
        with server.receive(timeout=10) as message:
            assert bytes(message.body) == b"v6"
    finally:
        client.abort()
        server.abort()


def test_many_small_messages_through_the_staging_buffer(pair):
    """Thousands of small messages, batched, so the 64 KiB stage holds many at once and splits headers at its end."""
    client, server = pair()
    batch = [Message(i.to_bytes(4, "big"), [b"p" * (i % 37)] * (i % 3)) for i in range(5000)]
    join = in_thread(client.send_many, batch, 60)
    for i in range(5000):
        with server.receive(timeout=60) as message:
            assert flat(message) == (i.to_bytes(4, "big"), [b"p" * (i % 37)] * (i % 3))
    join()
    assert not server.has_partial_message
