"""Property-based tests: generated inputs get finite output or an error naming the fault.

Every estimator's ``transform``, ``inverse_transform`` and ``score_samples``
(and ``fit``, on fewer examples since each one trains) is fed generated inputs:
dtypes float64/32/16, ints, bool, complex and object; NaN, infinities and values
near float32's limits; constant columns, a single row, duplicated rows; wrong
widths and dimensions; lists, sparse matrices and pandas frames with odd column
names. :func:`value_faults` and :func:`shape_faults` classify each input up
front, and :func:`check_outcome` asserts that the call either returns finite
output of the right shape and dtype, or raises a ``ValueError``/``TypeError``
whose message names one of its faults (or ``FloatingPointError`` from
training). A clean input must never raise.

JAX compilation dominates the cost, so the shapes that reach the device are few:
each estimator is fitted once, at one width; inference runs in fixed-size
chunks (the row count compiles nothing) and a wrong width is refused before
JAX; ``fit`` draws from two row counts and one width.
"""

import functools
import math
import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import is_regressor

import skae

F32_MAX = float(np.finfo(np.float32).max)
# A finite input at or above this size may overflow float32 inside the network
# (a squared error of 1e20 is 1e40): finite output or an error naming it.
EXTREME = 1e15
# Each kind of special value equally likely.
SPECIAL_VALUES = st.one_of(
    st.sampled_from([np.nan, np.inf, -np.inf]),  # faults
    st.sampled_from([1e39, -1e39, 1e300]),  # finite in float64, infinite in float32: faults
    st.sampled_from([F32_MAX, -F32_MAX, 3e38, -3e38, 1e20, -1e20]),  # finite in float32: extreme
    st.sampled_from([1e6, -1e6, 1e-310, -0.0]),  # far outside the training range, subnormal
)
INT_DTYPES = ["int64", "int32", "uint8"]
# The float dtypes twice: they are the ones that carry special values.
DTYPES = ["float64", "float32"] * 2 + ["float16", *INT_DTYPES, "bool", "complex128", "object"]
ODD_NAMES = ["a b", " ", "", "é", "列", "0", "x\n", "feature_0", "a" * 40, "None", "nan"]

# What a message must contain for each fault of an input.
MESSAGES = {
    "nan": r"NaN",
    "inf": r"infinity",
    "too large": r"infinity|too large",  # finite float64 that overflows float32
    "extreme": r"overflow|too large|infinity",  # allowed, not required, to raise
    "no rows": r"0 sample",
    "no columns": r"0 feature",
    "dimensions": r"2D array|dim \d",
    "image shape": r"image_shape",
    "complex": r"[Cc]omplex",
    "sparse": r"[Ss]parse",
    "column names": r"feature names|column names",
}

SETTINGS = dict(
    deadline=None,
    derandomize=True,  # reproducible in CI
    database=None,  # no .hypothesis folder: the same examples on every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def make(cls):
    """A small, fast instance of ``cls``."""
    params = {"n_components": 2, "max_iter": 2, "random_state": 0}
    if "filters" in cls().get_params():
        # Compiles about twice as fast on CPU as the default 3x3 kernel.
        params.update(filters=(4,), kernel_size=2, downsampling="stride")
    else:
        params.update(hidden_layer_sizes=(4,))
    return cls(**params)


def fitted_width(cls) -> int:
    """Width of the fitting data: a 3x3 image for convolutional models."""
    return 9 if "filters" in cls().get_params() else 4


# The autoencoders (the outlier detector has no transform; scikit-learn's checks
# and tests/test_outliers.py cover its input handling).
ESTIMATORS = [
    getattr(skae, name)
    for name in skae.__all__
    if isinstance(getattr(skae, name), type) and name != "AutoencoderOutlierDetector"
]
CONVOLUTIONAL = [cls for cls in ESTIMATORS if "filters" in cls().get_params()]


@functools.cache
def fitted_model(cls):
    """``make(cls)`` fitted once per session (tests must not change it)."""
    # Standard normal data: loss="auto" resolves to "mse", which models any
    # finite input (with "bce", score_samples refuses data outside [0, 1]).
    X = np.random.RandomState(0).normal(size=(6, fitted_width(cls)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(make(cls), X)


def fit(estimator, X):
    """``estimator.fit(X)``; a regressor learns to give ``X`` back."""
    return estimator.fit(X, X) if is_regressor(estimator) else estimator.fit(X)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda cls: cls.__name__)
def fitted(request):
    return fitted_model(request.param)


# ------------------------------------------------------------------ inputs
@st.composite
def numbers(draw, n_rows: int, width: int):
    """``(array, dtype name)``: numeric data with structure and special values."""
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    scale = draw(st.sampled_from([1e-3, 1.0, 100.0]))
    values = rng.normal(scale=scale, size=(n_rows, width))
    if n_rows > 1 and draw(st.booleans()):  # duplicated rows
        values = values[np.arange(n_rows) % draw(st.integers(1, n_rows - 1))]
    if width > 0 and draw(st.booleans()):  # a constant column
        values[:, draw(st.integers(0, width - 1))] = draw(st.sampled_from([0.0, 1.0, -7.5]))
    cells = st.tuples(st.integers(0, max(n_rows - 1, 0)), st.integers(0, max(width - 1, 0)))
    specials = draw(st.lists(st.tuples(cells, SPECIAL_VALUES), max_size=3))
    dtype = draw(st.sampled_from(DTYPES))
    if dtype in INT_DTYPES:
        info = np.iinfo(dtype)
        values = np.clip(np.round(values * 10), info.min, info.max).astype(dtype)
        extremes = st.sampled_from([int(info.min), int(info.max), 0])
        specials = [(cell, draw(extremes)) for cell, _ in specials]
    elif dtype == "bool":
        values = values > 0
        specials = [(cell, True) for cell, _ in specials]
    if n_rows and width:
        for cell, value in specials:
            values[cell] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in a cast: the point
        return values.astype(dtype), dtype


@st.composite
def inputs(draw, n_rows, width, images: bool = True):
    """``(X, values, faults, output dtype)``: ``values`` in some container, and its faults.

    ``faults`` names every way ``X`` is invalid whatever the estimator; the
    caller adds the width and image checks it knows.
    """
    values, dtype = draw(numbers(n_rows, width))
    faults = set(value_faults(values))
    if n_rows == 0:
        faults.add("no rows")
    if width == 0:
        faults.add("no columns")
    if dtype == "complex128":
        faults.add("complex")
    out_dtype = np.float32 if dtype == "float32" else np.float64
    containers = ["array", "list", "frame", "sparse", "1d"] + (["images"] * images)
    container = draw(st.sampled_from(containers))
    # Known failures, tested apart (test_frame_without_columns and
    # test_images_without_rows): a frame without columns, images without rows.
    if (container == "frame" and width == 0) or (container == "images" and n_rows == 0):
        container = "array"
    if container == "list":
        X = values.tolist()
        out_dtype = np.float64
        if n_rows == 0:
            faults.add("dimensions")  # [] is 1-D
    elif container == "frame":
        X, name_faults = draw(frames(values, dtype))
        faults |= name_faults
    elif container == "sparse" and dtype in ["float64", "float32", "int64", "bool"]:
        X = sp.csr_matrix(values)
        faults.add("sparse")
    elif container == "1d" and n_rows:
        X = values[0]
        faults.add("dimensions")
    elif container == "images" and math.isqrt(width) ** 2 == width and width:
        side = math.isqrt(width)
        shape = (n_rows, side, side) + ((1,) if draw(st.booleans()) else ())
        X = values.reshape(shape)
        faults.add("image")  # the caller decides: a valid image or a fault
    else:
        X = values
    return X, values, faults, out_dtype


@st.composite
def frames(draw, values, dtype):
    """``(DataFrame, faults)`` with odd column names, maybe nullable dtypes."""
    width = values.shape[1]
    kind = draw(st.sampled_from(["odd strings", "ints", "mixed", "duplicated"]))
    faults = set()
    if kind == "odd strings":
        columns = draw(st.permutations(ODD_NAMES))[:width]
        columns += [f"c{i}" for i in range(len(columns), width)]
    elif kind == "ints" or width < 2:
        columns = list(range(width))
    elif kind == "mixed":
        columns = ["a", *range(1, width)]
        faults.add("column names")
    else:
        columns = ["a", "a", *map(str, range(2, width))]
        faults.add("column names")
    frame = pd.DataFrame(values, columns=pd.Index(columns, dtype=object))
    nullable = {"float64": "Float64", "int64": "Int64", "bool": "boolean"}
    if dtype in nullable and draw(st.booleans()):
        frame = frame.astype(nullable[dtype])  # NaN becomes pd.NA
    return frame, faults


def value_faults(values: np.ndarray) -> list[str]:
    """Faults of the values themselves: NaN, infinity, too large for float32."""
    if values.dtype == object:
        values = values.astype(np.float64)
    if values.size == 0 or values.dtype.kind not in "fc":
        return []
    magnitude = np.abs(values.astype(np.complex128))
    faults = []
    if np.isnan(magnitude).any():
        faults.append("nan")
    if np.isinf(magnitude).any():
        faults.append("inf")
    finite = magnitude[np.isfinite(magnitude)]
    if (finite > F32_MAX).any():
        faults.append("too large")
    return faults


def max_finite(values: np.ndarray) -> float:
    """The largest finite ``|value|``."""
    magnitude = np.abs(values.astype(np.complex128))
    return float(np.max(magnitude[np.isfinite(magnitude)], initial=0.0))


# --------------------------------------------------------------- outcomes
def call(method, X):
    with warnings.catch_warnings():
        # Frames warn that the model was fitted without feature names; a cast
        # overflow warns too, and the output check catches what it leads to.
        warnings.simplefilter("ignore")
        try:
            return method(X), None
        except (ValueError, TypeError) as error:
            return None, error


def check_outcome(output, error, values, faults, shape, dtype, method_name, tolerated=()):
    """Finite output of ``shape`` and ``dtype``, or an error naming a fault.

    ``values`` is the input's data as a NumPy array, whatever its container;
    ``tolerated`` are faults that may, but need not, raise.
    """
    if error is not None:
        message = str(error)
        allowed = faults | set(tolerated)
        if max_finite(values) >= EXTREME:
            allowed.add("extreme")
        assert allowed, f"{method_name} refused a valid input: {error!r}"
        patterns = [MESSAGES[fault] if fault in MESSAGES else fault for fault in allowed]
        assert any(re.search(pattern, message) for pattern in patterns), (
            f"{method_name} raised {error!r}, which names none of the input's faults "
            f"{sorted(allowed)}"
        )
        return
    assert not faults, f"{method_name} accepted an input with faults {sorted(faults)}"
    assert isinstance(output, np.ndarray), type(output)
    assert output.shape == shape, f"{method_name}: shape {output.shape}, expected {shape}"
    assert output.dtype == dtype, f"{method_name}: dtype {output.dtype}, expected {dtype}"
    bad = ~np.isfinite(output)
    assert not bad.any(), (
        f"{method_name} returned {bad.sum()} non-finite values (silent NaN/inf) "
        f"for a finite input with max |x| = {max_finite(values):.3g}"
    )


def shape_faults(X, faults, expected_width, image_shape, for_codes: bool) -> set:
    """Add the faults of ``X``'s dimensions, which depend on the estimator."""
    faults = set(faults)
    image = "image" in faults
    faults.discard("image")
    ndim = X.ndim if hasattr(X, "ndim") else 2
    if image and (image_shape is None or for_codes):
        faults.add("dimensions")  # 3-D or 4-D input to a dense model or as codes
    elif image:
        shape = X.shape[1:] if ndim == 4 else (*X.shape[1:], 1)
        if tuple(shape) != tuple(image_shape):
            faults.add("image shape")
    elif ndim == 2:
        width = X.shape[1] if hasattr(X, "shape") else len(X[0]) if X else expected_width
        if width not in (0, expected_width):
            # The expected width, next to the word for a column.
            faults.add(rf"\b{expected_width}\b(.|\n)*(features|columns)")
    return faults


# ------------------------------------------------------------------ tests
# The regressors have transform and predict; the autoencoders all but predict.
METHODS = ["transform", "inverse_transform", "score_samples", "predict"]


@pytest.mark.parametrize("method_name", METHODS)
@settings(max_examples=15, **SETTINGS)
@given(data=st.data())
def test_inference_on_generated_inputs(fitted, method_name, data):
    skip_missing(fitted, method_name)
    codes = method_name == "inverse_transform"
    expected_width = fitted.n_components_ if codes else fitted.n_features_in_
    right = data.draw(st.booleans(), label="right width")
    width = expected_width if right else data.draw(st.sampled_from([0, 1, 4, 9, 16]))
    n_rows = data.draw(st.sampled_from([1, 2, 5] * 2 + [0]), label="rows")
    X, values, faults, dtype = data.draw(inputs(n_rows, width), label="input")
    image_shape = getattr(fitted, "image_shape_", None)
    faults = shape_faults(X, faults, expected_width, image_shape, codes)
    if not codes and fitted.__sklearn_tags__().input_tags.sparse:
        faults.discard("sparse")  # densified chunk by chunk (codes must be dense)
    # Codes' column names need not be checked (PCA.inverse_transform does not).
    tolerated = {"column names"} & faults if codes else set()
    faults -= tolerated

    output, error = call(getattr(fitted, method_name), X)

    shape = expected_shape(fitted, method_name, n_rows)
    check_outcome(output, error, values, faults, shape, dtype, method_name, tolerated)


def skip_missing(estimator, method_name):
    if not hasattr(estimator, method_name):
        pytest.skip(f"{type(estimator).__name__} has no {method_name}")


def expected_shape(estimator, method_name, n_rows):
    widths = {
        "transform": estimator.n_components_,
        "inverse_transform": estimator.n_features_in_,
        "predict": getattr(estimator, "n_outputs_", None),
    }
    return (n_rows, widths[method_name]) if method_name in widths else (n_rows,)


@pytest.mark.parametrize("method_name", METHODS)
@pytest.mark.parametrize(
    "value, dtype",
    [
        (1e39, np.float64),  # overflows float32: must raise
        (-1e300, np.float64),
        (F32_MAX, np.float32),  # finite in float32: finite output, or an error naming it
        (-3e38, np.float64),
        (1e20, np.float64),  # its square overflows float32
        (1e6, np.float64),  # far outside the training range: finite output
    ],
)
def test_inference_at_float32_limits(fitted, method_name, value, dtype):
    """The same contract as above on fixed inputs: one row of normal data, one of ``value``."""
    skip_missing(fitted, method_name)
    width = fitted.n_components_ if method_name == "inverse_transform" else fitted.n_features_in_
    X = np.random.RandomState(0).normal(size=(2, width)).astype(dtype)
    X[1] = value
    faults = set(value_faults(X))
    output, error = call(getattr(fitted, method_name), X)
    check_outcome(
        output, error, X, faults, expected_shape(fitted, method_name, 2), dtype, method_name
    )


@pytest.mark.parametrize("method_name", ["fit", *METHODS])
def test_frame_without_columns(fitted, method_name):
    skip_missing(fitted, method_name)
    estimator = pickle.loads(pickle.dumps(fitted))
    method = (
        functools.partial(fit, estimator)
        if method_name == "fit"
        else getattr(estimator, method_name)
    )
    with pytest.raises(ValueError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        method(pd.DataFrame(index=range(2)))
    assert re.search(MESSAGES["no columns"], str(info.value)), info.value


@pytest.mark.parametrize("method_name", ["fit", "transform", "score_samples", "predict"])
@pytest.mark.parametrize("cls", CONVOLUTIONAL, ids=lambda cls: cls.__name__)
def test_images_without_rows(cls, method_name):
    estimator = pickle.loads(pickle.dumps(fitted_model(cls)))
    skip_missing(estimator, method_name)
    method = (
        functools.partial(fit, estimator)
        if method_name == "fit"
        else getattr(estimator, method_name)
    )
    with pytest.raises(ValueError) as info:
        method(np.empty((0, 3, 3)))
    assert re.search(MESSAGES["no rows"], str(info.value)), info.value


# ``fit`` trains, and each (row count, loss) pair compiles a program: one width,
# two row counts, and the dense estimators whose objectives read the data.
FIT_ESTIMATORS = [skae.Autoencoder, skae.VariationalAutoencoder]


@pytest.mark.slow  # about 4 s per estimator, compiling
@pytest.mark.parametrize("cls", FIT_ESTIMATORS, ids=lambda cls: cls.__name__)
@settings(max_examples=20, **SETTINGS)
@given(data=st.data())
def test_fit_on_generated_inputs(cls, data):
    width = data.draw(st.sampled_from([4, 4, 4, 0]), label="width")
    n_rows = data.draw(st.sampled_from([1, 6, 6, 0]), label="rows")
    X, values, faults, dtype = data.draw(inputs(n_rows, width), label="input")
    faults = shape_faults(X, faults, width, None, for_codes=False)
    estimator = make(cls)
    faults.discard("sparse")  # the autoencoders densify it chunk by chunk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            estimator.fit(X)
        except FloatingPointError:
            # Training diverged, the documented exception: the model keeps its
            # last finite weights and works.
            clean = np.random.RandomState(0).normal(size=(3, estimator.n_features_in_))
            assert np.isfinite(estimator.transform(clean)).all()
            return
        except (ValueError, TypeError) as error:
            check_outcome(None, error, values, faults, None, None, "fit")
            return
    assert not faults, f"fit accepted an input with faults {sorted(faults)}"
    for method_name, shape in [
        ("transform", (n_rows, estimator.n_components_)),
        ("score_samples", (n_rows,)),
    ]:
        output, error = call(getattr(estimator, method_name), X)
        check_outcome(output, error, values, set(), shape, dtype, f"{method_name} after fit")


@settings(max_examples=8, **SETTINGS)
@given(data=st.data())
def test_rejected_fit_leaves_the_estimator_as_it_was(fitted, data):
    """STYLE 5b: a fit refused for bad input changes no fitted attribute."""
    width = data.draw(st.sampled_from([1, 4, 9, 16]), label="width")
    values = np.random.RandomState(0).normal(size=(3, width))
    cell = data.draw(st.tuples(st.integers(0, 2), st.integers(0, width - 1)), label="cell")
    values[cell] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e39]), label="value")
    estimator = pickle.loads(pickle.dumps(fitted))
    before = fitted_state(estimator)
    with pytest.raises(ValueError, match="NaN|infinity"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit(estimator, values)
    after = fitted_state(estimator)
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    assert not changed, f"the refused fit changed {changed}"


def fitted_state(estimator) -> dict:
    """The fitted attributes (names ending in ``_``), pickled to compare them."""
    return {
        name: pickle.dumps(value) for name, value in vars(estimator).items() if name.endswith("_")
    }
