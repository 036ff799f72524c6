"""Performance sanity check (not a test): 64 B frames per second into a Python Reader.

    /usr/bin/python3 python/tools/ring_rate.py --writer python   # a Python Writer in a child process
    /usr/bin/python3 python/tools/ring_rate.py --writer cs       # `zerolane write` (build src/ZeroLane.Cli -c Release)

The reader reads each frame, touches its first byte through ``frame.data`` (or not, with --no-touch) and releases it.
The rate is counted from the first frame to the last.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))

import zerolane as zl  # noqa: E402

WRITER = r"""
import sys, zerolane as zl
name, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = b"x" * size
with zl.Writer(name, connect_timeout=60) as w:
    write = w.write
    for _ in range(count):
        write(data)
"""


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--writer", choices=["python", "cs"], default="python")
    p.add_argument("--count", type=int, default=1_000_000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--payload", type=int, default=1 << 20)
    p.add_argument("--no-touch", action="store_true")
    args = p.parse_args()
    name = f"rate-{os.getpid()}"
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    with zl.Reader(name, args.payload, wait=zl.WaitStrategy.SPIN_THEN_BLOCK) as reader:
        tmp = None
        if args.writer == "python":
            child = subprocess.Popen([sys.executable, "-c", WRITER, name, str(args.count), str(args.size)], env=env)
        else:
            tmp = tempfile.NamedTemporaryFile(delete=False)
            tmp.write(b"x" * (args.size * args.count))
            tmp.close()
            dll = REPO / "src/ZeroLane.Cli/bin/Release/net10.0/ZeroLane.Cli.dll"
            child = subprocess.Popen(["dotnet", str(dll), "write", name, "--frame-size", str(args.size), "-i", tmp.name])
        read = reader.read
        touch = not args.no_touch
        with read(60) as frame:
            if touch:
                frame.data[0]
        start = time.perf_counter()
        for _ in range(args.count - 1):
            frame = read(60)
            if touch:
                frame.data[0]
            frame.release()
        elapsed = time.perf_counter() - start
        child.wait(60)
        if tmp is not None:
            os.unlink(tmp.name)
    n = args.count - 1
    print(f"{args.writer} writer -> Python reader, {args.size} B frames, touch={touch}: "
          f"{n / elapsed:,.0f} frames/s ({elapsed * 1e9 / n:.0f} ns/frame, {n:,} frames)")


if __name__ == "__main__":
    main()
