"""The README's Python section runs as written: the install command, and the quick-start reader against the C# tool's
writer command (with the buffer name replaced by a unique one, as the C# quick-start tests do)."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import CLI_DLL, REPO


def python_section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("\n## Python\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_the_install_command_installs_the_package_into_a_virtual_environment(tmp_path):
    block = re.search(r"```sh\n(.*?)\n```", python_section(), re.S).group(1)
    assert block == "python3 -m venv --system-site-packages .venv && .venv/bin/pip install --no-build-isolation ./python"
    # The same two steps, with this interpreter (the README's python3 is Debian's) and the venv in a scratch directory.
    # setuptools builds in the source tree (build/, *.egg-info): install a copy, so the checkout stays clean.
    source = tmp_path / "python"
    shutil.copytree(REPO / "python", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-build-isolation", "--no-index", "./python"],
        capture_output=True, text=True, cwd=tmp_path)
    assert install.returncode == 0, install.stdout + install.stderr
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import zerolane; print(zerolane.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True)
    assert str(venv) in where.stdout


def test_the_quick_start_reader_reads_what_the_tool_writes(unique_name, python_child):
    if not CLI_DLL.exists():
        pytest.skip(f"the C# tool is not built ({CLI_DLL})")
    section = python_section()
    code = re.search(r"```python\n(.*?)\n```", section, re.S).group(1)
    assert code.count('"frames"') == 1
    command = re.search(r"`(head -c 4M /dev/urandom \| dotnet run [^`]*)`", section).group(1)
    assert command.endswith("write frames --frame-size 1M")

    reader = python_child(code.replace('"frames"', repr(unique_name)), stdout=subprocess.PIPE, text=True)
    # The README runs the tool with 'dotnet run --project ...'; the test runs the same tool's built dll. The reader
    # creates the buffer; the writer waits for it (--connect-timeout), so no step depends on who starts first.
    writer_args = command.split("| dotnet run --project src/ZeroLane.Cli -c Release -- ")[1].split()
    writer_args[1] = unique_name
    data = os.urandom(4 << 20)
    written = subprocess.run(["dotnet", str(CLI_DLL), *writer_args, "--connect-timeout", "60"],
                             input=data, capture_output=True, timeout=120)
    assert written.returncode == 0, written.stderr.decode()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    lines = out.splitlines()
    assert lines == [f"frame {i + 1}: 1048576 bytes, first bytes {data[i << 20:(i << 20) + 4].hex()}" for i in range(4)]


def test_the_package_readme_rings_example_uses_only_what_the_package_has():
    """python/README.md's ring example is a sketch (its process() and fill_into() are the reader's own); it must
    still compile and call only parameters and methods that exist."""
    import inspect

    sys.path.insert(0, str(REPO / "python"))
    import zerolane as zl

    text = (REPO / "python" / "README.md").read_text()
    section = text.split("\n## Rings: quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    compile(block, "python/README.md, Rings", "exec")
    reader_parameters = inspect.signature(zl.Reader).parameters
    writer_parameters = inspect.signature(zl.Writer).parameters
    for keyword in re.findall(r"zl\.Reader\([^)]*?(\w+)=", block):
        assert keyword in reader_parameters
    for keyword in re.findall(r"zl\.Writer\([^)]*?(\w+)=", block):
        assert keyword in writer_parameters
    for obj, method in [(zl.Frame, "as_array"), (zl.Writer, "set_metadata"), (zl.Writer, "write"),
                        (zl.Writer, "loan"), (zl.Loan, "commit"), (zl.Loan, "data")]:
        assert f".{method}" in block and hasattr(obj, method), method
