"""The skae command line, run as a user would: in a subprocess."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

import skae

pytestmark = pytest.mark.slow  # each command starts Python and JAX


def run(*args, cwd):
    result = subprocess.run(
        [sys.executable, "-m", "skae", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    X = load_digits().data / 16
    np.save(folder / "digits.npy", X)
    np.savez(folder / "digits.npz", X=X[:100])
    header = ",".join(f"pixel{i}" for i in range(64))
    np.savetxt(folder / "digits.csv", X[:100], delimiter=",", header=header, comments="")
    return folder


@pytest.fixture(scope="module")
def fitted(workdir):
    result = run(
        "fit",
        "digits.npy",
        "--model",
        "dense",
        "--n-components",
        "4",
        "--max-iter",
        "5",
        "-o",
        "dense.skae",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    assert "saved dense.skae" in result.stdout
    return workdir / "dense.skae"


def test_fit_then_transform_gives_the_saved_models_codes(fitted, workdir):
    X = np.load(workdir / "digits.npy")
    assert run("transform", fitted, "digits.npy", "-o", "codes.npy", cwd=workdir).returncode == 0
    np.testing.assert_array_equal(np.load(workdir / "codes.npy"), skae.load(fitted).transform(X))
    assert run("transform", fitted, "digits.csv", "-o", "codes.csv", cwd=workdir).returncode == 0
    codes = np.loadtxt(workdir / "codes.csv", delimiter=",")
    np.testing.assert_allclose(codes, skae.load(fitted).transform(X[:100]), rtol=1e-6)


def test_score_with_contamination_labels_that_share(fitted, workdir):
    result = run(
        "score", fitted, "digits.npz", "--contamination", "0.1", "-o", "scores.csv", cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    scores, labels = np.loadtxt(workdir / "scores.csv", delimiter=",").T
    np.testing.assert_allclose(
        scores, skae.load(fitted).score_samples(np.load(workdir / "digits.npz")["X"]), rtol=1e-6
    )
    assert np.sum(labels == -1) == 10 and set(labels) == {-1, 1}
    assert scores[labels == -1].max() < scores[labels == 1].min()


def test_vae_samples_and_info(workdir):
    assert (
        run(
            "fit",
            "digits.npy",
            "--model",
            "vae",
            "--max-iter",
            "3",
            "--quiet",
            "-o",
            "vae.skae",
            cwd=workdir,
        ).returncode
        == 0
    )
    assert run("sample", "vae.skae", "-n", "7", "-o", "samples.npy", cwd=workdir).returncode == 0
    assert np.load(workdir / "samples.npy").shape == (7, 64)
    info = run("info", "vae.skae", cwd=workdir)
    assert info.stdout.startswith("VariationalAutoencoder") and "n_components_: 8" in info.stdout


def test_convolutional_model_on_images(workdir):
    np.save(workdir / "images.npy", load_digits().images[:200] / 16)
    result = run(
        "fit",
        "images.npy",
        "--model",
        "conv",
        "--max-iter",
        "2",
        "--quiet",
        "-o",
        "conv.skae",
        cwd=workdir,
    )
    assert result.returncode == 0, result.stderr
    assert skae.load(workdir / "conv.skae").image_shape_ == (8, 8, 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (("fit", "missing.npy"), "no such file: missing.npy"),
        (("fit", "digits.txt"), "expected a .npy, .npz, .csv or .parquet file"),
        (("fit", "nan.npy", "--quiet"), "NaN"),
        (("transform", "dense.skae", "wide.npy", "-o", "c.npy"), "64 features"),
        (("sample", "dense.skae", "-o", "s.npy"), "does not generate samples"),
        (
            ("score", "dense.skae", "digits.npy", "--contamination", "0.9", "-o", "s.npy"),
            "contamination",
        ),
    ],
)
def test_bad_input_exits_with_a_one_line_message(fitted, workdir, args, message):
    np.save(workdir / "nan.npy", np.array([[np.nan, 1.0], [0.0, 1.0]]))
    np.save(workdir / "wide.npy", np.zeros((3, 10)))
    (workdir / "digits.txt").write_text("1,2\n")
    result = run(*args, cwd=workdir)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_demo_runs_the_readme_main_job(workdir):
    result = run("demo", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "PCA" in result.stdout and "Autoencoder" in result.stdout


def test_parquet_input(fitted, workdir):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    X = np.load(workdir / "digits.npy")[:50]
    pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)]).to_parquet(workdir / "d.parquet")
    result = run("transform", fitted, "d.parquet", "-o", "codes_pq.npy", cwd=workdir)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(workdir / "codes_pq.npy"), skae.load(fitted).transform(X))
