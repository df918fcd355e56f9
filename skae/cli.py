"""The ``skae`` command line: fit, transform, score, sample, info, demo.

``skae fit DATA --model dense -o model.skae`` trains an autoencoder on a
``.npy``, ``.npz``, ``.csv`` or ``.parquet`` file (pandas and pyarrow for
parquet) and saves it with :func:`skae.save`; the other commands read that
file. Outputs go to ``.npy`` or ``.csv``. Bad input ends with a one-line
message and exit status 2, never a traceback.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

MODELS = {
    "dense": "Autoencoder",
    "conv": "ConvolutionalAutoencoder",
    "denoising": "DenoisingAutoencoder",
    "sparse": "SparseAutoencoder",
    "contractive": "ContractiveAutoencoder",
    "vae": "VariationalAutoencoder",
}


class CommandError(Exception):
    """A problem with the user's input, reported in one line."""


def read_data(path: str) -> np.ndarray:
    """The array in ``path``: ``.npy``; ``.npz`` (``X``, else its first array);
    ``.csv`` (a header row is skipped); ``.parquet`` (with pandas and pyarrow)."""
    file = Path(path)
    if not file.exists():
        raise CommandError(f"no such file: {path}")
    suffix = file.suffix.lower()
    if suffix == ".npy":
        return np.load(file, allow_pickle=False)
    if suffix == ".npz":
        with np.load(file, allow_pickle=False) as data:
            if not data.files:
                raise CommandError(f"{path} holds no arrays")
            return data["X"] if "X" in data.files else data[data.files[0]]
    if suffix == ".csv":
        try:
            return np.loadtxt(file, delimiter=",", ndmin=2)
        except ValueError:  # a header row
            return np.loadtxt(file, delimiter=",", ndmin=2, skiprows=1)
    if suffix == ".parquet":
        try:
            import pandas as pd

            return pd.read_parquet(file).to_numpy(dtype=float)
        except ImportError as error:
            raise CommandError(f"reading parquet needs pandas and pyarrow: {error}") from None
    raise CommandError(f"{path}: expected a .npy, .npz, .csv or .parquet file")


def write_output(path: str, values: np.ndarray) -> None:
    """Write ``values`` to ``.npy`` or ``.csv`` (2-D, comma-separated)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npy":
        np.save(path, values)
    elif suffix == ".csv":
        np.savetxt(path, np.reshape(values, (len(values), -1)), delimiter=",")
    else:
        raise CommandError(f"{path}: outputs go to .npy or .csv")


def _load_model(path: str):
    import skae

    if not Path(path).exists():
        raise CommandError(f"no such model file: {path}")
    return skae.load(path)


def _rows_for(model, X: np.ndarray) -> np.ndarray:
    """Images flattened for dense models (convolutional ones take them as they are)."""
    if X.ndim > 2 and not hasattr(model, "image_shape"):
        return X.reshape(len(X), -1)
    return X


def fit(args) -> None:
    import skae

    X = read_data(args.data)
    cls = getattr(skae, MODELS[args.model])
    options = {"n_components": args.n_components, "max_iter": args.max_iter}
    if args.image_shape:
        options["image_shape"] = tuple(args.image_shape)
    model = cls(random_state=args.random_state, verbose=0 if args.quiet else 1, **options)
    model.fit(_rows_for(model, X))
    skae.save(model, args.output)
    _say(args, f"{cls.__name__} fitted on {X.shape} in {model.n_iter_} epochs; saved {args.output}")


def transform(args) -> None:
    model = _load_model(args.model)
    codes = model.transform(_rows_for(model, read_data(args.data)))
    write_output(args.output, codes)
    _say(args, f"codes {codes.shape} written to {args.output}")


def score(args) -> None:
    model = _load_model(args.model)
    scores = model.score_samples(_rows_for(model, read_data(args.data)))
    values = scores
    if args.contamination is not None:
        if not 0 < args.contamination <= 0.5:
            raise CommandError(f"--contamination must lie in (0, 0.5]; got {args.contamination}")
        # The given share of the lowest scores in DATA is labelled -1 (outlier).
        threshold = np.quantile(scores, args.contamination)
        labels = np.where(scores < threshold, -1, 1)
        values = np.column_stack([scores, labels])
    write_output(args.output, values)
    _say(args, f"scores of {len(scores)} samples written to {args.output}")


def sample(args) -> None:
    model = _load_model(args.model)
    if not hasattr(model, "sample"):
        raise CommandError(f"{type(model).__name__} does not generate samples; fit --model vae")
    samples = model.sample(args.n_samples, random_state=args.random_state)
    write_output(args.output, samples)
    _say(args, f"{len(samples)} samples written to {args.output}")


def info(args) -> None:
    model = _load_model(args.model)
    print(type(model).__name__)
    for name in ("n_features_in_", "n_components_", "n_iter_", "loss_", "reconstruction_loss_"):
        if hasattr(model, name):
            print(f"  {name}: {getattr(model, name)}")
    for name, value in sorted(model.get_params(deep=False).items()):
        print(f"  {name}={value!r}")


def demo(args) -> None:
    """The README's main job: PCA against an autoencoder on scikit-learn's digits."""
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    import skae

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    print(f"{'model':<12} {'test MSE':>9} {'accuracy on codes':>18}")
    for name, model in [
        ("PCA", PCA(n_components=8, random_state=args.random_state)),
        (
            "Autoencoder",
            skae.Autoencoder(n_components=8, max_iter=100, random_state=args.random_state),
        ),
    ]:
        codes = model.fit(X_train).transform(X_test)
        error = np.mean((model.inverse_transform(codes) - X_test) ** 2)
        classifier = LogisticRegression(max_iter=2000).fit(model.transform(X_train), y_train)
        print(f"{name:<12} {error:>9.5f} {classifier.score(codes, y_test):>18.3f}")


def _say(args, message: str) -> None:
    if not args.quiet:
        print(message)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skae", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name, function, help_text):
        sub = commands.add_parser(name, help=help_text)
        sub.set_defaults(function=function)
        sub.add_argument("--quiet", action="store_true", help="print nothing but errors")
        sub.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
        return sub

    sub = command("fit", fit, "train an autoencoder on DATA and save it")
    sub.add_argument("data")
    sub.add_argument("--model", choices=sorted(MODELS), default="dense")
    sub.add_argument("--n-components", type=int, default=8)
    sub.add_argument("--max-iter", type=int, default=200)
    sub.add_argument("--image-shape", type=int, nargs="+", help="H W [C] of flat image rows")
    sub.add_argument("-o", "--output", default="model.skae")
    for name, function, help_text in [
        ("transform", transform, "encode DATA with a saved model"),
        ("score", score, "outlier scores (score_samples) of DATA"),
    ]:
        sub = command(name, function, help_text)
        sub.add_argument("model")
        sub.add_argument("data")
        sub.add_argument("-o", "--output", required=True)
        if name == "score":
            sub.add_argument(
                "--contamination",
                type=float,
                help="also label the lowest-scoring share of DATA -1 (outlier), the rest 1",
            )
    sub = command("sample", sample, "generate samples with a saved VAE")
    sub.add_argument("model")
    sub.add_argument("-n", "--n-samples", type=int, default=10)
    sub.add_argument("-o", "--output", required=True)
    sub = command("info", info, "describe a saved model")
    sub.add_argument("model")
    command("demo", demo, "PCA against an autoencoder on scikit-learn's digits")
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.function(args)
    except (CommandError, ValueError, TypeError, OSError, FloatingPointError) as error:
        message = " ".join(str(error).split())  # one line
        print(f"skae {args.command}: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
