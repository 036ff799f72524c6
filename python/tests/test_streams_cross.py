"""Message streams across languages over real sockets and real processes: the C# TestPeer (MessageConnection,
MessageListener) sending to and receiving from the Python client, over TCP and Unix sockets, sync and asyncio."""

import asyncio
import os
import shutil
import struct
import tempfile

import numpy as np
import pytest

from msgpeer import describe, peer  # noqa: F401  (fixture)
from zerolane.messages import Message
from zerolane.streams import AsyncMessageConnection, AsyncMessageListener, MessageConnection, MessageListener

COUNT = 12  # the C# generator's message 7 has a 3 MiB part, message 9 has 40 parts


@pytest.fixture
def socket_dir():
    path = tempfile.mkdtemp(prefix="zl-x-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def python_messages():
    """What the Python side sends: empty ones, many parts, a large part, segments of several kinds."""
    return [
        Message(),
        Message(b"body only"),
        Message(b"", [b""]),
        Message(b"x", [b"", b"yz", b""]),
        Message(b"many", [bytes([i & 0xFF]) * (i % 9) for i in range(1000)]),
        Message(b"large", [os.urandom(5 << 20), b"tail"]),
        Message.from_segments([b"arrays", np.arange(10_000, dtype=np.float64), bytearray(b"ba"), memoryview(b"mv")]),
    ]


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_csharp_sender_to_python_receiver(kind, peer, socket_dir):  # noqa: F811
    if kind == "tcp":
        listener = MessageListener.listen_tcp()
        endpoint = f"tcp:127.0.0.1:{listener.port}"
    else:
        listener = MessageListener.listen_unix(os.path.join(socket_dir, "py"))
        endpoint = f"unix:{listener.path}"
    with listener:
        child = peer("message-send", endpoint, "--count", str(COUNT))
        connection = listener.accept(timeout=60)
    with connection:
        received = []
        for message in connection:
            with message:
                received.append(describe(len(received), message))
    child.until("WRITTEN")
    assert child.finish() == 0
    assert len(received) == COUNT and received == child.messages()


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_python_sender_to_csharp_receiver(kind, peer, socket_dir):  # noqa: F811
    if kind == "tcp":
        child = peer("message-receive", "tcp:127.0.0.1:0")
        port = int(child.until("READY").split("port=")[1])
        connection = MessageConnection.connect_tcp("127.0.0.1", port, timeout=60)
    else:
        path = os.path.join(socket_dir, "cs")
        child = peer("message-receive", f"unix:{path}")
        child.until("READY")
        connection = MessageConnection.connect_unix(path, timeout=60)
    messages = python_messages()
    sent = [describe(i, message) for i, message in enumerate(messages)]
    with connection:
        for message in messages[:3]:
            connection.send(message, timeout=60)
        connection.send_many(messages[3:], timeout=60)  # a batch: the C# receiver cannot tell
    child.until("OK")
    assert child.finish() == 0
    assert child.messages() == sent
    if kind == "unix":
        assert not os.path.exists(path)  # the C# listener removed its socket file


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_asyncio_python_to_csharp_echo_and_back(kind, peer, socket_dir):  # noqa: F811
    if kind == "tcp":
        child = peer("message-receive", "tcp:127.0.0.1:0", "--echo")
        port = int(child.until("READY").split("port=")[1])
    else:
        path = os.path.join(socket_dir, "echo")
        child = peer("message-receive", f"unix:{path}", "--echo")
        child.until("READY")

    async def main():
        if kind == "tcp":
            connection = await AsyncMessageConnection.connect_tcp("127.0.0.1", port)
        else:
            connection = await AsyncMessageConnection.connect_unix(path)
        messages = python_messages() * 3
        sent = [describe(i, m) for i, m in enumerate(messages)]

        async def send_all():
            for message in messages:
                await connection.send(message)

        sending = asyncio.create_task(send_all())  # concurrently with the echoes, so neither side's buffers fill up
        echoed = []
        try:
            for _ in messages:
                with await connection.receive(timeout=60) as message:
                    echoed.append(describe(len(echoed), message))
            await sending
            await connection.close(drain_timeout=60)
        finally:
            connection.abort()
        return sent, echoed

    sent, echoed = asyncio.run(main())
    assert echoed == sent
    child.until("OK")
    assert child.finish() == 0
    assert child.messages() == sent


def test_csharp_receiver_refuses_what_python_refuses(peer):  # noqa: F811
    """Bad flags from a Python peer: the C# receiver reports a MessageFormatException, as Python's decode does."""
    child = peer("message-receive", "tcp:127.0.0.1:0")
    port = int(child.until("READY").split("port=")[1])
    connection = MessageConnection.connect_tcp("127.0.0.1", port, timeout=60)
    with connection:
        connection.send(Message(b"fine"))
        connection.socket.setblocking(True)
        connection.socket.sendall(struct.pack(">QIIQ", 16, 0, 1, 0))
        line = child.line()
        while not line.startswith("ERROR"):
            line = child.line()
        assert "MessageFormatException" in line and "flags 0x00000001" in line
        connection.abort()
    assert child.finish() == 1
    assert len(child.messages()) == 1


def test_csharp_sender_to_python_asyncio_receiver(peer):  # noqa: F811
    async def main():
        with AsyncMessageListener.listen_tcp() as listener:
            child = peer("message-send", f"tcp:127.0.0.1:{listener.port}", "--count", str(COUNT))
            connection = await listener.accept()
        received = []
        async with connection:
            async for message in connection:
                with message:
                    received.append(describe(len(received), message))
        return child, received

    child, received = asyncio.run(main())
    child.until("WRITTEN")
    assert child.finish() == 0
    assert received == child.messages() and len(received) == COUNT
