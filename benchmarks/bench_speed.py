"""Training speed on MNIST: skae against Keras 3, PyTorch, scikit-learn and the matmul floor.

Two models, each trained the same way by every framework (Adam 1e-3, binary
cross-entropy on a sigmoid output, no weight penalty, shuffled minibatches of
256 and of 4096 rows, one table per model and batch size):

- dense 784-256-128-32-128-256-784 (ReLU, linear code, 476,720 weights):
  skae's ``Autoencoder(n_components=32, hidden_layer_sizes=(256, 128))``;
- convolutional, the classic 4,385-weight model of Chollet's "Building
  Autoencoders in Keras" (3x3 convolutions 16-8-8 with 2x2 max-pooling down to
  a 4x4x8 code, then 8-8-16 with nearest upsampling back, the 8x8 map cropped
  to 7x7 as skae does): skae's ``ConvolutionalAutoencoder(n_components=None,
  filters=(16, 8, 8))``, trained on the first ``--conv-rows`` images (it is
  slow on a CPU).

Rows: skae; the minimal JAX loop of ``bench_dense.py`` (dense only; one jitted
``lax.scan`` per epoch; it drops the last partial batch); Keras 3 on its JAX
backend (``model.fit``, its defaults otherwise); a plain PyTorch loop (data on
the device, ``torch.randperm`` batches, ``zero_grad``/``backward``/``step``),
without and with ``torch.compile``; and, dense only, scikit-learn's
``MLPRegressor(hidden_layer_sizes=(256, 128, 32, 128, 256)).fit(X, X)``, which
trains with squared error, an identity output and a ReLU code.

Columns:

- s/epoch, steady state, the best of ``--rounds`` rounds (3). Each round
  times every row of a table in turn, so that a burst of load on a shared
  machine slows one round of every framework, not one framework's only
  measurement. skae: ``(fit(max_iter=1 + E) - fit(max_iter=1)) / E`` as in
  ``bench_dense.py``, so the per-fit setup cancels (the fastest
  ``fit(max_iter=1)`` so far is subtracted). Keras: after a first
  ``fit(epochs=1)``, the mean epoch time of ``fit(epochs=E)`` (a callback reads
  the loss at each epoch's end). Loops: the mean of E epochs after a first one.
  MLPRegressor: ``fit(max_iter=E)`` / E (no compilation to leave out);
- first fit s: building a fresh model and training one epoch, compilation
  included (``torch.compile``'s too);
- setup s: per-fit work outside the epochs (skae: checking and copying the
  data, the time of ``fit(max_iter=1)`` outside its epoch loop; Keras:
  ``fit`` time - its epoch times);
- test MSE of the reconstructions of the 10,000 test images, after 1 + E
  epochs (MLPRegressor: E);
- x skae: the row's s/epoch over skae's (the speed ratios the targets read).

Also: ``transform`` and ``score_samples`` throughput (samples/s, best of 5
calls after a compiling one) of the fitted dense skae model beside
``PCA(32)``'s, on the test set; and the arithmetic floor: the FLOP/s of a
4096x4096 float32 matmul (jnp, best of 3) and the dense model's matmul FLOPs
per epoch, ``6 * n_rows * sum(in * out)`` (forward 2x, backward 4x), giving
floor seconds per epoch. With ``compute_dtype`` in skae's parameters, a
``compute_dtype="bfloat16"`` dense row at batch 4096 too, beside a bfloat16
matmul.

Targets, dense model, batch 256. On the CPU: Keras s/epoch >= 1.25x skae's,
PyTorch's (without compile) >= 1.5x, MLPRegressor's >= 1.6x; skae's s/epoch
<= 1.2x the floor; skae's setup < 25 % of its epoch. On a GPU instead: Keras
>= 13x skae's, PyTorch >= 22x, and (batch 4096) skae in bfloat16 at least half
the FLOP/s of a bfloat16 matmul. A target whose framework is missing is skipped
with a note. Exits 1 when a target is missed.

The default run takes about 12 minutes on 2 idle CPU cores, half of it in
the convolutional tables (``--skip-conv`` leaves them out; ``--rounds 1``
took 6 minutes).
``--n-train 3000 --epochs 1 --conv-rows 1000`` is a smoke run of every path
(3.5 minutes, mostly compiling; its timings mean nothing).

Usage: python benchmarks/bench_speed.py --data ../shared/data/mnist.npz
"""

import argparse
import os
import sys
import time
import warnings
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

os.environ["KERAS_BACKEND"] = "jax"  # read when keras is imported: the same XLA as skae

import jax
import jax.numpy as jnp
import numpy as np
from _common import load_images, print_table
from bench_dense import TX, WIDTHS, minimal_epoch, minimal_forward, minimal_init
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skae import Autoencoder, ConvolutionalAutoencoder
from skae import _training as skae_training

HIDDEN, CODE = (256, 128), 32
# Activation after each dense layer: ReLU, but a linear code (skae's default) and
# raw outputs (the sigmoid is in the loss or the last layer).
DENSE_RELU = [i not in (len(HIDDEN), len(WIDTHS) - 2) for i in range(len(WIDTHS) - 1)]
MATMUL_WEIGHTS = sum(n_in * n_out for n_in, n_out in zip(WIDTHS[:-1], WIDTHS[1:]))
DENSE_WEIGHTS = MATMUL_WEIGHTS + sum(WIDTHS[1:])  # and the biases: 476,720

IMAGE_SHAPE = (28, 28)
FILTERS = (16, 8, 8)
DECODER_FILTERS = (8, 8, 16)  # skae's decoder: last filters, then back down the list
SIZES = (28, 14, 7, 4)  # feature map side per level: halved, rounded up
CLASSIC_WEIGHTS = 4385

CPU_TARGETS = {"keras": 1.25, "torch": 1.5, "mlp": 1.6, "floor": 1.2, "setup": 0.25}
GPU_TARGETS = {"keras": 13.0, "torch": 22.0, "bf16": 0.5}
MATMUL_SIZE = 4096


# ----------------------------------------------------------------- timing
def seconds(fn, *args) -> float:
    """Wall-clock seconds of ``fn(*args)``, which must wait for its results."""
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def fit_timings(fit, epochs):
    """``(first fit, s/epoch, setup, again)`` of ``fit(n)``, a fit of ``n`` epochs from scratch.

    ``again()`` times ``fit(1)`` and ``fit(1 + E)`` once more and returns that
    round's s/epoch against the fastest ``fit(1)`` so far (see ``best_of_rounds``).

    Setup is measured directly, as the time of ``fit(1)`` outside skae's epoch
    loop (``skae._training.train``): the difference of two fits' times
    would carry the epochs' own variation (several tenths of a second on a
    shared CPU) into it.
    """
    first = seconds(fit, 1)  # compiles
    setup = min(setup_seconds(fit) for _ in range(3))
    one_epoch = [seconds(fit, 1)]

    def again():
        one_epoch.append(seconds(fit, 1))
        return (seconds(fit, 1 + epochs) - min(one_epoch)) / epochs  # the model kept: 1 + E

    return first, again(), setup, again


def setup_seconds(fit) -> float:
    """Seconds of ``fit(1)`` spent outside the epoch loop."""
    train, in_loop = skae_training.train, []

    def timed_train(*args, **kwargs):
        start = time.perf_counter()
        try:
            return train(*args, **kwargs)
        finally:
            in_loop.append(time.perf_counter() - start)

    skae_training.train = timed_train
    try:
        total = seconds(fit, 1)
    finally:
        skae_training.train = train
    return total - sum(in_loop)


def loop_timings(start_and_first_epoch, epoch, epochs):
    """``(first fit, s/epoch, again)`` of a hand-written loop: its first epoch, then E more.

    ``again()`` trains E more epochs and returns their s/epoch.
    """

    def again():
        return seconds(lambda: [epoch() for _ in range(epochs)]) / epochs

    return seconds(start_and_first_epoch), again(), again


def best_of_rounds(rows, rounds):
    """Time every row's epochs ``rounds - 1`` more times, in turn, and keep its best s/epoch.

    The rounds go through all the rows before the next one starts, so a burst
    of load on a shared machine slows one round of every framework rather than
    all of one framework's: each framework is then judged on its best round,
    as ``timeit`` advises.
    """
    for _ in range(rounds - 1):
        for r in rows.values():
            if r["again"] is not None:
                r["s/epoch"] = min(r["s/epoch"], r["again"]())
    for r in rows.values():
        del r["again"]
    return rows


def mse(recon, X) -> float:
    return float(np.mean((np.asarray(recon).reshape(X.shape) - X) ** 2))


def row(model, per_epoch, first=None, setup=None, test_mse=None, note="", again=None):
    """A table row; ``again()``, when given, times another round of its epochs."""
    return {
        "model": model,
        "s/epoch": per_epoch,
        "first fit s": first,
        "setup s": setup,
        "test MSE": test_mse,
        "note": note,
        "again": again,
    }


def optional(name):
    """The module ``name``, or None when it is not installed."""
    try:
        return import_module(name)
    except ImportError:
        return None


# ----------------------------------------------------------------- skae
def skae_estimator(kind, batch, **extra):
    common = {"batch_size": batch, "alpha": 0.0, "random_state": 0, **extra}
    if kind == "dense":
        return Autoencoder(n_components=CODE, hidden_layer_sizes=HIDDEN, **common)
    return ConvolutionalAutoencoder(
        n_components=None, image_shape=IMAGE_SHAPE, filters=FILTERS, **common
    )


def run_skae(kind, x_train, x_test, batch, epochs, **extra):
    """The table row and the model fitted for 1 + E epochs."""
    model = skae_estimator(kind, batch, **extra)

    def fit(n):  # n_iter_no_change=n: train all n epochs, as the others do
        model.set_params(max_iter=n, n_iter_no_change=n).fit(x_train)

    first, per_epoch, setup, again = fit_timings(fit, epochs)
    weights = sum(leaf.size for leaf in jax.tree.leaves(model.params_))
    assert kind == "dense" or weights == CLASSIC_WEIGHTS, f"skae's conv model: {weights} weights"
    name = "skae" + (f" {extra['compute_dtype']}" if extra else "")
    test_mse = mse(model.inverse_transform(model.transform(x_test)), x_test)
    return row(name, per_epoch, first, setup, test_mse, again=again), model


# ----------------------------------------------------------------- minimal JAX loop
def run_minimal(x_train, x_test, batch, epochs):
    state = {}
    X, n_batches, keys = jax.device_put(x_train), len(x_train) // batch, jax.random.key(1)

    def epoch():
        key = jax.random.fold_in(keys, state["epoch"])
        params, opt_state, loss = minimal_epoch(
            state["params"], state["opt_state"], X, key, n_batches, batch
        )
        float(loss)  # read the loss each epoch, as any real loop does
        state.update(params=params, opt_state=opt_state, epoch=state["epoch"] + 1)

    def start_and_first_epoch():
        params = minimal_init(jax.random.key(0))
        state.update(params=params, opt_state=TX.init(params), epoch=0)
        epoch()

    first, per_epoch, again = loop_timings(start_and_first_epoch, epoch, epochs)
    recon = jax.nn.sigmoid(minimal_forward(state["params"], jnp.asarray(x_test)))
    test_mse = mse(recon, x_test)
    return row("minimal JAX loop", per_epoch, first, None, test_mse, "drops last batch", again)


# ----------------------------------------------------------------- Keras
def keras_model(keras, kind):
    """The same network in Keras, with a sigmoid output layer and its default init."""
    layers = keras.layers
    if kind == "dense":
        x = inputs = keras.Input((WIDTHS[0],))
        for width, relu in zip(WIDTHS[1:-1], DENSE_RELU):
            x = layers.Dense(width, activation="relu" if relu else None)(x)
        outputs = layers.Dense(WIDTHS[-1], activation="sigmoid")(x)
    else:
        x = inputs = keras.Input((*IMAGE_SHAPE, 1))
        for filters in FILTERS:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.MaxPooling2D(2, padding="same")(x)  # 7 -> 4 as skae's
        for filters, size, target in zip(DECODER_FILTERS, SIZES[:0:-1], SIZES[-2::-1]):
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
            x = layers.UpSampling2D(2)(x)
            if 2 * size > target:  # 8 -> 7: drop the last row and column, as skae
                x = layers.Cropping2D(((0, 2 * size - target), (0, 2 * size - target)))(x)
        outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def run_keras(kind, x_train, x_test, batch, epochs):
    keras = optional("keras")
    if keras is None:
        return row("Keras", "missing", note="pip install keras")
    shape = (-1, WIDTHS[0]) if kind == "dense" else (-1, *IMAGE_SHAPE, 1)
    X = x_train.reshape(shape)
    epoch_seconds = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            float(logs["loss"])  # waits for the epoch's last step
            epoch_seconds.append(time.perf_counter() - self.start)

    model = None

    def start_and_first_epoch():
        nonlocal model
        keras.utils.set_random_seed(0)
        model = keras_model(keras, kind)
        model.fit(X, X, batch_size=batch, epochs=1, verbose=0)

    first = seconds(start_and_first_epoch)
    weights = model.count_params()
    assert kind == "dense" or weights == CLASSIC_WEIGHTS, f"Keras conv model: {weights} weights"

    def fit_epochs():
        """Seconds of ``fit(epochs=E)`` outside and inside its epochs."""
        epoch_seconds.clear()
        fit_seconds = seconds(
            lambda: model.fit(
                X, X, batch_size=batch, epochs=epochs, verbose=0, callbacks=[EpochTimer()]
            )
        )
        return fit_seconds - sum(epoch_seconds), sum(epoch_seconds)

    setup, in_epochs = fit_epochs()
    recon = model.predict(x_test.reshape(shape), batch_size=1024, verbose=0)
    per_epoch, test_mse = in_epochs / epochs, mse(recon, x_test)

    def again():
        return fit_epochs()[1] / epochs

    return row(f"Keras {keras.__version__}", per_epoch, first, setup, test_mse, again=again)


# ----------------------------------------------------------------- PyTorch
def torch_model(torch, kind):
    """The same network in PyTorch, raw (pre-sigmoid) outputs, its default init."""
    nn = torch.nn
    if kind == "dense":
        layers = []
        for n_in, n_out, relu in zip(WIDTHS[:-1], WIDTHS[1:], DENSE_RELU):
            layers += [nn.Linear(n_in, n_out), *([nn.ReLU()] if relu else [])]
        return nn.Sequential(*layers)

    class Crop(nn.Module):
        def __init__(self, size):
            super().__init__()
            self.size = size

        def forward(self, x):
            return x[:, :, : self.size, : self.size]

    layers, channels = [], 1
    for filters in FILTERS:
        pool = nn.MaxPool2d(2, ceil_mode=True)  # 7 -> 4 as skae's
        layers += [nn.Conv2d(channels, filters, 3, padding=1), nn.ReLU(), pool]
        channels = filters
    for filters, size, target in zip(DECODER_FILTERS, SIZES[:0:-1], SIZES[-2::-1]):
        layers += [
            nn.Conv2d(channels, filters, 3, padding=1),
            nn.ReLU(),
            nn.Upsample(scale_factor=2),
        ]
        layers += [Crop(target)] if 2 * size > target else []  # 8 -> 7, as skae
        channels = filters
    return nn.Sequential(*layers, nn.Conv2d(channels, 1, 3, padding=1))


def torch_device(torch) -> str:
    # Beside a JAX on a GPU, PyTorch runs on the GPU too when it can.
    return "cuda" if jax.default_backend() == "gpu" and torch.cuda.is_available() else "cpu"


def run_torch(kind, x_train, x_test, batch, epochs, compiled):
    torch = optional("torch")
    name = "PyTorch" + ("" if torch is None else f" {torch.__version__}")
    name += " + torch.compile" if compiled else ""
    if torch is None:
        return row(name, "missing", note="pip install torch")
    device = torch_device(torch)
    torch.backends.cudnn.benchmark = True
    shape = (-1, WIDTHS[0]) if kind == "dense" else (-1, 1, *IMAGE_SHAPE)
    X = torch.from_numpy(x_train.reshape(shape)).to(device)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    state = {}

    def epoch():
        model, optimizer = state["step_model"], state["optimizer"]
        total = torch.zeros((), device=device)
        for indices in torch.randperm(len(X), device=device).split(batch):
            inputs = X[indices]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs), inputs)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(indices)
        float(total)  # read the loss each epoch (and wait for the GPU)

    def start_and_first_epoch():
        torch.manual_seed(0)
        model = state["model"] = torch_model(torch, kind).to(device)
        state["step_model"] = torch.compile(model) if compiled else model
        state["optimizer"] = torch.optim.Adam(model.parameters(), lr=1e-3)
        epoch()

    try:
        first, per_epoch, again = loop_timings(start_and_first_epoch, epoch, epochs)
    except Exception as error:  # torch.compile needs a C++ compiler (Triton on GPUs)
        if not compiled:
            raise
        reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:160]}"
        return row(name, "failed", note=reason)
    weights = sum(p.numel() for p in state["model"].parameters())
    assert kind == "dense" or weights == CLASSIC_WEIGHTS, f"torch conv model: {weights} weights"
    with torch.no_grad():  # the uncompiled module: same weights, no second compilation
        inputs = torch.from_numpy(x_test.reshape(shape)).to(device)
        chunks = [torch.sigmoid(state["model"](chunk)) for chunk in inputs.split(1000)]
    test_mse = mse(torch.cat(chunks).cpu().numpy(), x_test)
    return row(name, per_epoch, first, None, test_mse, device, again)


# ----------------------------------------------------------------- scikit-learn
def run_mlp(x_train, x_test, batch, epochs):
    def mlp(max_iter):
        return MLPRegressor(
            hidden_layer_sizes=(*HIDDEN, CODE, *HIDDEN[::-1]),
            batch_size=batch,
            learning_rate_init=1e-3,
            alpha=0.0,
            max_iter=max_iter,
            shuffle=True,
            tol=0.0,
            n_iter_no_change=max_iter,
            random_state=0,
        )

    def again():  # no compilation to leave out
        return seconds(model.fit, x_train, x_train) / epochs

    first = seconds(mlp(1).fit, x_train, x_train)
    model = mlp(epochs)
    per_epoch = again()
    note = "squared error, identity output, ReLU code; E epochs"
    test_mse = mse(model.predict(x_test), x_test)
    return row("MLPRegressor", per_epoch, first, None, test_mse, note, again)


# ----------------------------------------------------------------- inference and floor
def samples_per_second(method, X, repeats=5) -> float:
    method(X)  # compiles skae's program
    return len(X) / min(seconds(method, X) for _ in range(repeats))


def throughput_rows(model, x_train, x_test):
    """skae's (fitted, dense) ``transform`` and ``score_samples`` beside PCA(32)'s."""
    pca = PCA(n_components=CODE, random_state=0).fit(x_train)
    rows = []
    for method in ("transform", "score_samples"):
        ours = samples_per_second(getattr(model, method), x_test)
        theirs = samples_per_second(getattr(pca, method), x_test)
        rows.append(
            {
                "method": method,
                "skae samples/s": f"{ours:,.0f}",
                "PCA(32) samples/s": f"{theirs:,.0f}",
                "skae / PCA": ours / theirs,
            }
        )
    return rows


def matmul_flops(dtype, n=MATMUL_SIZE, repeats=3) -> float:
    """FLOP/s of an ``n x n @ n x n`` matmul in ``dtype``, best of ``repeats``."""
    a = jax.random.normal(jax.random.key(0), (n, n), dtype)
    matmul = jax.jit(jnp.matmul)

    def run():
        matmul(a, a).block_until_ready()

    run()  # compiles
    return 2 * n**3 / min(seconds(run) for _ in range(repeats))


def dense_epoch_flops(n_rows) -> int:
    """Matmul FLOPs of one epoch: 2 per weight and row forward, twice that backward."""
    return 6 * n_rows * MATMUL_WEIGHTS


# ----------------------------------------------------------------- report
def print_results(title, rows):
    """One table; ``x skae`` is each row's s/epoch over skae's."""
    print(f"\n{title}")
    skae_s = rows["skae"]["s/epoch"]
    table = []
    for r in rows.values():
        per_epoch = r["s/epoch"]
        ratio = per_epoch / skae_s if isinstance(per_epoch, float) else None
        cells = {"model": r["model"], "s/epoch": per_epoch, "x skae": ratio, **r}
        table.append({key: "-" if value is None else value for key, value in cells.items()})
    print_table(table)


def speedup(rows, key):
    """``(other's s/epoch / skae's, why not)``: the first is None when not measured."""
    if rows is None:
        return None, "batch 256 was not run"
    other = rows[key]["s/epoch"]
    if not isinstance(other, float):
        return None, f"{rows[key]['model']} {other}"
    return other / rows["skae"]["s/epoch"], ""


def targets(dense_256, floor_s, bf16_ratio, gpu):
    """``(label, value or None, why it is None, op, limit)`` for this backend's targets."""
    limits = GPU_TARGETS if gpu else CPU_TARGETS
    checks = [
        ("Keras / skae s/epoch", *speedup(dense_256, "keras"), ">=", limits["keras"]),
        ("PyTorch / skae s/epoch", *speedup(dense_256, "torch"), ">=", limits["torch"]),
    ]
    if gpu:
        why = "" if bf16_ratio is not None else "no compute_dtype in skae, or batch 4096 not run"
        return [*checks, ("skae bf16 / bf16 matmul FLOP/s", bf16_ratio, why, ">=", limits["bf16"])]
    checks.append(("MLPRegressor / skae s/epoch", *speedup(dense_256, "mlp"), ">=", limits["mlp"]))
    floor = setup = None
    if dense_256 is not None:
        skae = dense_256["skae"]
        floor, setup = skae["s/epoch"] / floor_s, skae["setup s"] / skae["s/epoch"]
    why = "batch 256 was not run"
    return [
        *checks,
        ("skae / floor s/epoch", floor, why, "<=", limits["floor"]),
        ("skae setup / s/epoch", setup, why, "<", limits["setup"]),
    ]


def check(targets) -> bool:
    """Print PASS, FAIL or SKIP per target; True when none failed."""
    compare = {">=": float.__ge__, "<=": float.__le__, "<": float.__lt__}
    ok = True
    for label, value, why, op, limit in targets:
        if value is None:
            print(f"SKIP  {label} {op} {limit}: {why}")
            continue
        passed = compare[op](float(value), float(limit))
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {label}: {value:.3f} (target {op} {limit})")
    return ok


def print_versions():
    names = ("jax", "flax", "optax", "keras", "torch", "scikit-learn", "numpy")
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    print("versions:", ", ".join(found), "(Keras on its JAX backend)")
    device = jax.devices()[0]
    line = f"device: {jax.default_backend()} ({device.device_kind}), {os.cpu_count()} CPU cores"
    torch = optional("torch")
    if torch is not None:
        where = torch_device(torch)
        name = torch.cuda.get_device_name() if where == "cuda" else "cpu"
        line += f"; torch on {name}, {torch.get_num_threads()} threads"
    print(line)


# ----------------------------------------------------------------- main
def batch_label(batch, n_rows) -> str:
    return f"batch {batch}" + (f" (clipped to the {n_rows:,} rows)" if batch > n_rows else "")


def dense_rows(x_train, x_test, batch, epochs, bf16, rounds):
    batch = min(batch, len(x_train))  # as skae clips it (small --n-train runs)
    rows = {}
    rows["skae"], model = run_skae("dense", x_train, x_test, batch, epochs)
    if bf16:
        rows["bf16"], _ = run_skae(
            "dense", x_train, x_test, batch, epochs, compute_dtype="bfloat16"
        )
    rows["minimal"] = run_minimal(x_train, x_test, batch, epochs)
    rows["keras"] = run_keras("dense", x_train, x_test, batch, epochs)
    rows["torch"] = run_torch("dense", x_train, x_test, batch, epochs, compiled=False)
    rows["torch_compile"] = run_torch("dense", x_train, x_test, batch, epochs, compiled=True)
    rows["mlp"] = run_mlp(x_train, x_test, batch, epochs)
    return best_of_rounds(rows, rounds), model


def conv_rows(x_train, x_test, batch, epochs, rounds):
    batch = min(batch, len(x_train))
    rows = {"skae": run_skae("conv", x_train, x_test, batch, epochs)[0]}
    rows["keras"] = run_keras("conv", x_train, x_test, batch, epochs)
    rows["torch"] = run_torch("conv", x_train, x_test, batch, epochs, compiled=False)
    rows["torch_compile"] = run_torch("conv", x_train, x_test, batch, epochs, compiled=True)
    return best_of_rounds(rows, rounds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/mnist.npz")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (E)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of E epochs")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--n-train", type=int, default=None, help="training rows (all)")
    parser.add_argument("--conv-rows", type=int, default=10_000, help="conv training rows")
    parser.add_argument("--skip-conv", action="store_true")
    args = parser.parse_args(argv)
    x_train, x_test = load_images(args.data)
    x_train = x_train[: args.n_train]
    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=1 fits

    gpu = jax.default_backend() == "gpu"
    has_bf16 = "compute_dtype" in Autoencoder().get_params()
    print_versions()
    matmul = {"float32": matmul_flops(jnp.float32)}
    if has_bf16:
        matmul["bfloat16"] = matmul_flops(jnp.bfloat16)
    for dtype, flops in matmul.items():
        print(f"{dtype} matmul {MATMUL_SIZE}^3: {flops / 1e9:,.1f} GFLOP/s (best of 3)")
    if not has_bf16:
        print("bfloat16 rows skipped: this skae has no compute_dtype parameter")

    n, epochs = len(x_train), args.epochs
    dense, skae_model = {}, None
    for batch in args.batch_sizes:
        bf16 = has_bf16 and batch == 4096
        dense[batch], fitted = dense_rows(x_train, x_test, batch, epochs, bf16, args.rounds)
        skae_model = fitted if skae_model is None else skae_model
        print_results(
            f"dense {'-'.join(map(str, WIDTHS))} ({DENSE_WEIGHTS:,} weights), "
            f"{batch_label(batch, n)}, "
            f"{n:,} training rows, best of {args.rounds} rounds of {epochs} timed epochs",
            dense[batch],
        )
    if not args.skip_conv:
        n_conv = min(args.conv_rows, n)
        for batch in args.batch_sizes:
            print_results(
                f"classic convolutional ({CLASSIC_WEIGHTS:,} weights), "
                f"{batch_label(batch, n_conv)}, "
                f"the first {n_conv:,} training rows only (--conv-rows), "
                f"best of {args.rounds} rounds of {epochs} timed epochs",
                conv_rows(x_train[:n_conv], x_test, batch, epochs, args.rounds),
            )

    print(f"\ninference on the {len(x_test):,} test rows (dense skae, batch {args.batch_sizes[0]})")
    print_table(throughput_rows(skae_model, x_train, x_test))

    floor_s = dense_epoch_flops(n) / matmul["float32"]
    print(
        f"\nfloor: {dense_epoch_flops(n) / 1e9:,.1f} GFLOP per dense epoch (6 x {n:,} rows x "
        f"{MATMUL_WEIGHTS:,} matmul weights) / float32 matmul FLOP/s = {floor_s:.4g} s/epoch"
    )
    for batch, rows in dense.items():
        skae = rows["skae"]
        print(
            f"batch {batch}: skae {skae['s/epoch']:.4g} s/epoch = "
            f"{skae['s/epoch'] / floor_s:.3f}x the floor; setup per fit "
            f"{skae['setup s']:.3g} s = {100 * skae['setup s'] / skae['s/epoch']:.0f}% of an epoch"
        )
    bf16_ratio = None
    if "bf16" in dense.get(4096, {}):
        bf16, f32 = dense[4096]["bf16"], dense[4096]["skae"]
        achieved = dense_epoch_flops(n) / bf16["s/epoch"]
        bf16_ratio = achieved / matmul["bfloat16"]
        print(
            f"batch 4096 bfloat16: skae {bf16['s/epoch']:.4g} s/epoch ({f32['s/epoch']:.4g} in "
            f"float32), {achieved / 1e9:,.1f} GFLOP/s = {bf16_ratio:.3f}x a bfloat16 matmul; "
            f"test MSE {bf16['test MSE']:.4g} ({f32['test MSE']:.4g} in float32)"
        )

    print(f"\ntargets ({'GPU' if gpu else 'CPU'}, dense model, batch 256):")
    ok = check(targets(dense.get(256), floor_s, bf16_ratio, gpu))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
