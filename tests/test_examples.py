"""Every example runs, in its quick mode, as a user would start it, and saves its figure."""

import subprocess
import sys
from pathlib import Path

import pytest

# Modules whose name starts with "_" are helpers the examples import.
EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("[!_]*.py"))


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.slow  # each trains for several seconds
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_in_quick_mode(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=tmp_path,  # examples must not depend on the working directory
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stdout.strip()
    assert [path.suffix for path in tmp_path.iterdir()] == [".png"]
