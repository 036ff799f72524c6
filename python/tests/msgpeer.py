"""Helpers of the message tests: the C# TestPeer's message scenarios as child processes, message descriptions."""

import hashlib
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PEER_DLL = REPO / "tests" / "ZeroLane.TestPeer" / "bin" / "Release" / "net10.0" / "ZeroLane.TestPeer.dll"


def describe(index, message) -> str:
    """The line the C# peer prints for a message: ``MSG i BODYLEN/PART0LEN,.. SHA256(body, parts)``."""
    digest = hashlib.sha256()
    digest.update(message.body)
    lengths = []
    for part in message.parts():
        digest.update(part)
        lengths.append(str(part.nbytes))
    return f"MSG {index} {message.body.nbytes}/{','.join(lengths)} {digest.hexdigest()}"


class Peer:
    """One C# TestPeer child. Its stdin stays open (end of stdin makes the peer exit); lines are read on demand."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.process = subprocess.Popen(
            ["dotnet", str(PEER_DLL), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []

    def line(self) -> str:
        """The next stdout line; fails the test (with stderr) if the peer ended first."""
        text = self.process.stdout.readline()
        if not text:
            self.process.wait()
            raise AssertionError(f"peer {self.args} ended (exit {self.process.returncode}) without more output; "
                                 f"stdout so far {self.lines}; stderr {self.process.stderr.read()!r}")
        text = text.rstrip("\n")
        self.lines.append(text)
        return text

    def until(self, word: str) -> str:
        """Reads lines until one starts with ``word``; returns it."""
        while True:
            text = self.line()
            if text == word or text.startswith(word + " "):
                return text
            if text.startswith("ERROR"):
                raise AssertionError(f"peer {self.args}: {text}")

    def messages(self) -> list[str]:
        return [text for text in self.lines if text.startswith("MSG ")]

    def finish(self) -> int:
        """Closes stdin once the peer has said its last word and waits for it."""
        return self.process.wait(timeout=120)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass


@pytest.fixture
def peer():
    """Starts C# TestPeer children (skipping if the peer is not built); kills any still running at the end."""
    if not PEER_DLL.exists():
        pytest.skip(f"the C# test peer is not built ({PEER_DLL}); run 'dotnet build tests/ZeroLane.TestPeer -c Release'")
    peers: list[Peer] = []

    def start(*args: str) -> Peer:
        started = Peer(*args)
        peers.append(started)
        return started

    yield start
    for started in peers:
        started.close()
