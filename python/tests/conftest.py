"""Shared fixtures: unique buffer names checked for leftovers, the C# tool as a peer, child processes."""

import glob
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON_DIR = REPO / "python"
CLI_DLL = REPO / "src" / "ZeroLane.Cli" / "bin" / "Release" / "net10.0" / "ZeroLane.Cli.dll"
LOCK_DIR = "/tmp/zerobuffer"

# Children run the same interpreter with the package importable from source.
if str(PYTHON_DIR) not in sys.path:
    sys.path.insert(0, str(PYTHON_DIR))


def leftovers(name: str) -> list[str]:
    """Every object in /dev/shm and the lock directory whose name contains ``name``."""
    found = glob.glob(f"/dev/shm/*{name}*") + glob.glob(f"{LOCK_DIR}/*{name}*")
    return sorted(found)


@pytest.fixture
def unique_name(request):
    """A buffer (or topic) name no other test uses. After the test, nothing named after it may remain."""
    name = f"pyt-{secrets.token_hex(6)}"
    yield name
    left = leftovers(name)
    for path in left:
        try:
            os.unlink(path)
        except OSError:
            pass
    assert not left, f"the test left {left} behind"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PYTHON_DIR) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class _Children:
    """Child processes started by one test; whatever still runs at the end is killed and reaped."""

    def __init__(self) -> None:
        self._started: list[subprocess.Popen] = []

    def start(self, argv: list[str], **kwargs) -> subprocess.Popen:
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        child = subprocess.Popen(argv, **kwargs)
        self._started.append(child)
        return child

    def close(self) -> None:
        for child in self._started:
            if child.poll() is None:
                child.kill()
            child.wait()
            for stream in (child.stdout, child.stderr, child.stdin):
                if stream is not None:
                    stream.close()


@pytest.fixture
def python_child():
    """Starts ``/usr/bin/python3 -c CODE`` children with the package importable; kills any still running at the end."""
    children = _Children()
    yield lambda code, *args, **kwargs: children.start([sys.executable, "-c", code, *args], env=child_env(), **kwargs)
    children.close()


@pytest.fixture
def cli():
    """Starts the C# tool (``zerolane ...``) as a child; kills any still running at the end."""
    if not CLI_DLL.exists():
        pytest.skip(f"the C# tool is not built ({CLI_DLL}); run 'dotnet build ZeroLane.slnx -c Release' first")
    children = _Children()
    yield lambda *args, **kwargs: children.start(["dotnet", str(CLI_DLL), *args], **kwargs)
    children.close()
