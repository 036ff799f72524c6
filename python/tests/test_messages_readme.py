"""The examples of the Messages section of python/README.md run as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = README.read_text().split("\n## Messages\n", 1)[1].split("\n## ", 1)[0]
BLOCKS = re.findall(r"```python\n(.*?)```", SECTION, re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, unique_name):
    code = BLOCKS[index].replace('f"readme-{secrets.token_hex(4)}"', repr(unique_name))
    exec(compile(code, f"python/README.md, Messages block {index}", "exec"), {"__name__": "readme"})


def test_the_readme_has_examples():
    assert len(BLOCKS) == 4
