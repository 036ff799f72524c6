"""Message streams when the peer process dies (kill -9) in the middle of a message, in either direction."""

import mmap
import os
import signal
import socket
import threading

import pytest

from zerolane import StreamTruncatedError
from zerolane.messages import Message
from zerolane.streams import MessageConnectionFaultedError, MessageListener

HALF_SENDER = """
import socket, sys, time
from zerolane.messages import Message, encode
encoded = encode(Message(b"body", [bytes(100_000)]))
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
sock.sendall(encoded[: len(encoded) // 2])
print("SENT", len(encoded), flush=True)
time.sleep(600)
"""

IDLE_RECEIVER = """
import sys, time
from zerolane.streams import MessageConnection
connection = MessageConnection.connect_tcp("127.0.0.1", int(sys.argv[1]), timeout=30)
print("CONNECTED", flush=True)
time.sleep(600)
"""


def test_sender_killed_mid_message_truncates_the_stream(python_child):
    with MessageListener.listen_tcp() as listener:
        child = python_child(HALF_SENDER, str(listener.port), text=True)
        connection = listener.accept(timeout=60)
    with connection:
        line = child.stdout.readline().split()
        assert line[0] == "SENT"
        total = int(line[1])
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        with pytest.raises(StreamTruncatedError, match=f"{total}-byte message after {total // 2} bytes"):
            connection.receive(timeout=60)


def test_receiver_killed_mid_message_faults_the_sender(python_child):
    with MessageListener.listen_tcp() as listener:
        child = python_child(IDLE_RECEIVER, str(listener.port), text=True)
        connection = listener.accept(timeout=60)
    with connection:
        assert child.stdout.readline().strip() == "CONNECTED"
        connection.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        errors = []

        def send():
            try:
                # 256 MiB of an anonymous mapping: more than any socket buffer, and no memory until read.
                connection.send(Message(b"", [mmap.mmap(-1, 256 << 20)]), timeout=60)
            except BaseException as error:  # noqa: BLE001  (checked below)
                errors.append(error)

        thread = threading.Thread(target=send)
        thread.start()
        # Kill the receiver once the send has started (its first bytes went out at once; wait for the counter).
        for _ in range(1_000_000):
            if connection.bytes_sent > 0:
                break
            threading.Event().wait(0.001)
        assert connection.bytes_sent > 0
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        thread.join(60)
        assert not thread.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], (BrokenPipeError, ConnectionResetError)), errors
        with pytest.raises(MessageConnectionFaultedError):
            connection.send(Message(b"after"))
