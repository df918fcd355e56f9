"""The README's tour runs as written."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_tour_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tour saves a model file
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
    labels, y_test = namespace["labels"], namespace["y_test"]
    # Malignant tumours (the rare class, y == 0) are flagged more often.
    assert np.mean(labels[y_test == 0] == -1) > 2 * np.mean(labels[y_test == 1] == -1)
    assert namespace["why"].shape == (len(y_test), 30)
    X_test = namespace["scaler"].transform(namespace["X_test"])
    saved, loaded = namespace["detector"], namespace["same_detector"]
    assert np.array_equal(loaded.score_samples(X_test), saved.score_samples(X_test))
    assert namespace["cleaned"].shape == (1797, 8, 8)
    assert namespace["new_digits"].shape == (10, 8, 8)
    assert namespace["unmarked"].shape == (450, 8, 8)
    assert namespace["colourised"].shape == (5, 16, 16, 3)
    assert namespace["hidden"].shape == (1797, 32) and len(namespace["columns"]) == 32
    reuse, ae, flat = namespace["reuse"], namespace["ae"], namespace["flat"]
    assert np.array_equal(reuse.transform(flat), ae.transform(flat))  # the frozen encoder
    assert namespace["morph"].shape == (8, 64)
    assert namespace["report"]["skae"]["compression_ratio"] == 64 / (8 * 2)
