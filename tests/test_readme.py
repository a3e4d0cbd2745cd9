"""The README's promises: it opens with the two commands, and its API example runs."""

import contextlib
import io
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_make_demo_and_make_test():
    first_block = re.search(r"```sh\n(.*?)```", README, re.DOTALL)
    assert first_block is not None
    assert README.index("```sh") < README.index("## ")
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands[:2] == ["make demo", "make test"]


def test_readme_python_example_runs():
    block = re.search(r"## Python API\n\n```python\n(.*?)```", README, re.DOTALL)
    assert block is not None
    out = io.StringIO()
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(block.group(1), "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    ok, reason, fpr = out.getvalue().split()
    assert ok == "True"
    assert reason == "good"
    assert len(fpr) == 40


def test_readme_python_api_examples_run():
    section = README[README.index("## Python API") : README.index("## Vectors")]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    out = io.StringIO()
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(blocks[1], "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert out.getvalue().split() == ["good", "True", "weak-key"]
    assert "prints `good`, `True`, `weak-key`" in section


def test_readme_policy_table_lists_every_reason():
    from pgpverify import KEYS_CHANGED, Reason

    for reason in [*(r.value for r in Reason), KEYS_CHANGED]:
        assert f"| `{reason}` |" in README, reason
