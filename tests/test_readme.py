"""The README's tour runs as written."""

import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_tour_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has no Python example"
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)
    assert namespace["codes"].shape == (1797, 2)
    assert namespace["search"].best_score_ > 0.8
    assert namespace["errors"].shape == (297,)
    assert namespace["cleaned"].shape == (1797, 8, 8)
    assert namespace["new_digits"].shape == (10, 8, 8)
