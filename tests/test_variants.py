"""Each variant shows the property it exists for, on digits or small data."""

import copy
import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skae
from skae._models.conv import ConvAutoencoder, conv2d, max_pool_2x2, upsample_2x

EPOCHS = 100


def reconstruction_mse(model, X, target=None):
    target = X if target is None else target
    return float(np.mean((model.inverse_transform(model.transform(X)) - target) ** 2))


def psnr(model, noisy, clean):
    return 10 * np.log10(1.0 / reconstruction_mse(model, noisy, clean))


@pytest.fixture(scope="module")
def plain(digits):
    return skae.Autoencoder(8, max_iter=EPOCHS, random_state=0).fit(digits[0])


@pytest.fixture(scope="module")
def noise_images(digits):
    return np.random.RandomState(0).uniform(size=digits[1].shape)


# ----------------------------------------------------------------- convolutional
@pytest.mark.slow
def test_convolutional_on_digit_images_close_to_dense(digits, plain):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(
        MinMaxScaler(),
        skae.ConvolutionalAutoencoder(
            8, image_shape=(8, 8), downsampling="stride", max_iter=EPOCHS, random_state=0
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    conv = pipe[1]
    X_test_scaled = pipe[0].transform(X_test)
    # 8x8 is too small for convolutions to win; they stay close.
    assert reconstruction_mse(conv, X_test_scaled) < 1.25 * reconstruction_mse(plain, X_test)
    assert pipe.score(X_test, y_test) > 0.8


@pytest.mark.parametrize(
    "image_shape, filters, downsampling",
    [
        ((30, 30, 1), (4, 4, 4), "maxpool"),
        ((7, 9, 3), (4, 4), "stride"),
        ((8, 8, 1), (4,), "maxpool"),
    ],
)
def test_convolutional_odd_sizes_and_rgb(image_shape, filters, downsampling):
    X = np.random.RandomState(0).uniform(size=(20, *image_shape))
    model = skae.ConvolutionalAutoencoder(
        3, filters=filters, downsampling=downsampling, max_iter=2, random_state=0
    ).fit(X)
    assert model.image_shape_ == image_shape
    assert model.transform(X).shape == (20, 3)
    assert model.inverse_transform(model.transform(X)).shape == (20, math.prod(image_shape))
    # Flat rows and images give the same codes.
    np.testing.assert_array_equal(model.transform(X.reshape(20, -1)), model.transform(X))


def test_convolutional_accepts_3d_4d_and_flat_input(digits):
    images = digits[0][:50].reshape(-1, 8, 8)
    for X, kwargs in [
        (images, {}),
        (images[..., None], {}),
        (images.reshape(50, 64), {"image_shape": (8, 8)}),
        (images.reshape(50, 64), {}),  # a square width: 8x8x1
    ]:
        model = skae.ConvolutionalAutoencoder(2, filters=(4,), max_iter=1, **kwargs).fit(X)
        assert model.image_shape_ == (8, 8, 1)


def test_convolutional_wrong_image_shape_is_a_clear_error(digits):
    X = digits[0][:20]
    with pytest.raises(ValueError, match=r"image_shape=\(7, 7\) needs rows of 49 values.*64"):
        skae.ConvolutionalAutoencoder(image_shape=(7, 7), max_iter=1).fit(X)
    with pytest.raises(ValueError, match=r"images of shape \(8, 8, 1\) but image_shape"):
        skae.ConvolutionalAutoencoder(image_shape=(4, 16), max_iter=1).fit(X.reshape(-1, 8, 8))
    model = skae.ConvolutionalAutoencoder(2, filters=(4,), max_iter=1).fit(X.reshape(-1, 8, 8))
    with pytest.raises(ValueError, match="X has 49 features"):
        model.transform(np.zeros((3, 49)))


def test_classic_fully_convolutional_model_has_4385_weights():
    model = skae.ConvolutionalAutoencoder(n_components=None, filters=(16, 8, 8), max_iter=1)
    model.fit(np.random.RandomState(0).uniform(size=(8, 28, 28)))
    assert sum(leaf.size for leaf in jax.tree.leaves(model.params_)) == 4385
    assert model.n_components_ == 4 * 4 * 8
    assert list(model.get_feature_names_out()[:2]) == [
        "convolutionalautoencoder0",
        "convolutionalautoencoder1",
    ]


# On GPUs, float32 convolutions and matmuls default to TF32: compare in full float32.
@jax.default_matmul_precision("float32")
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("channels", [(2, 5), (5, 2)], ids=["im2col", "taps"])
def test_matmul_and_xla_convolutions_agree(stride, channels):
    rng = np.random.RandomState(0)
    x = jnp.asarray(rng.normal(size=(3, 9, 7, channels[0])), jnp.float32)
    kernel = jnp.asarray(rng.normal(size=(3, 3, *channels)), jnp.float32)

    def loss(x, kernel, implementation):
        return jnp.sum(jnp.tanh(conv2d(x, kernel, stride, implementation)))

    np.testing.assert_allclose(
        conv2d(x, kernel, stride, "matmul"), conv2d(x, kernel, stride, "xla"), atol=1e-5
    )
    grads_matmul = jax.grad(loss, argnums=(0, 1))(x, kernel, "matmul")
    grads_xla = jax.grad(loss, argnums=(0, 1))(x, kernel, "xla")
    for a, b in zip(grads_matmul, grads_xla):
        np.testing.assert_allclose(a, b, atol=1e-4)


@jax.default_matmul_precision("float32")
def test_whole_conv_models_agree_across_implementations():
    def build(implementation):
        return ConvAutoencoder(
            (9, 9, 1),
            (4, 4),
            3,
            "maxpool",
            3,
            "relu",
            implementation=implementation,
            rngs=nnx.Rngs(0),
        )

    x = jnp.asarray(np.random.RandomState(0).uniform(size=(4, 81)), jnp.float32)

    def loss(model):
        return jnp.mean(jnp.square(model.decode(model.encode(x)) - x))

    a, b = build("matmul"), build("xla")
    np.testing.assert_allclose(a.decode(a.encode(x)), b.decode(b.encode(x)), atol=1e-5)
    grads_a = jax.tree.leaves(nnx.grad(loss)(a))
    grads_b = jax.tree.leaves(nnx.grad(loss)(b))
    for ga, gb in zip(grads_a, grads_b):
        np.testing.assert_allclose(ga, gb, atol=1e-5)


def test_pooling_and_upsampling_keep_odd_sizes():
    x = jnp.arange(2 * 7 * 5 * 1, dtype=jnp.float32).reshape(2, 7, 5, 1)
    pooled = max_pool_2x2(x)
    assert pooled.shape == (2, 4, 3, 1)
    assert float(pooled[0, 3, 2, 0]) == float(x[0, 6, 4, 0])
    assert upsample_2x(pooled, 7, 5).shape == x.shape


# --------------------------------------------------------------------- denoising
def test_denoising_cleans_noisy_digits_better_than_plain(digits, plain):
    X_train, X_test, _, _ = digits
    noisy = np.clip(X_test + np.random.RandomState(1).normal(0, 0.3, X_test.shape), 0, 1)
    denoiser = skae.DenoisingAutoencoder(8, noise_level=0.3, max_iter=EPOCHS, random_state=0)
    denoiser.fit(X_train)
    psnr_noisy = 10 * np.log10(1.0 / np.mean((noisy - X_test) ** 2))
    psnr_plain, psnr_denoiser = psnr(plain, noisy, X_test), psnr(denoiser, noisy, X_test)
    print(f"PSNR noisy {psnr_noisy:.2f} dB, plain {psnr_plain:.2f}, denoiser {psnr_denoiser:.2f}")
    assert psnr_denoiser > psnr_plain + 0.5 > psnr_noisy
    # transform adds no noise: it is the encoder applied to the inputs as given.
    graph, variables = denoiser._eval_model()
    direct = nnx.merge(graph, *variables).encode(jnp.asarray(X_test, jnp.float32))
    np.testing.assert_allclose(denoiser.transform(X_test), direct, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("noise", ["masking", "salt_and_pepper"])
def test_other_noises_clean_their_corruption_better_than_plain(digits, plain, noise):
    from skae._noise import corrupt

    X_train, X_test, _, _ = digits
    model = skae.DenoisingAutoencoder(8, noise=noise, noise_level=0.3, max_iter=EPOCHS)
    model.set_params(random_state=0).fit(X_train)
    corrupted = np.asarray(
        corrupt(jnp.asarray(X_test), noise, 0.3, jax.random.key(7), 0.0, 1.0, False)
    )
    assert psnr(model, corrupted, X_test) > psnr(plain, corrupted, X_test) + 1.0


def test_noise_keys_differ_every_epoch_and_across_calls(digits, monkeypatch):
    from skae import _engine

    keys, real_run_epoch = [], _engine.run_epoch

    def recording(config, state, data, n_samples, key, hyper):
        keys.append(tuple(np.asarray(jax.random.key_data(key)).ravel()))
        return real_run_epoch(config, state, data, n_samples, key, hyper)

    monkeypatch.setattr(_engine, "run_epoch", recording)
    model = skae.DenoisingAutoencoder(max_iter=3, warm_start=True, random_state=0)
    model.fit(digits[0]).fit(digits[0]).partial_fit(digits[0])
    assert len(keys) == 7 and len(set(keys)) == 7


def test_noise_is_drawn_fresh_each_epoch_and_clipped():
    from skae._noise import corrupt

    x = jnp.full((1000, 4), 0.5)
    one = corrupt(x, "gaussian", 0.3, jax.random.key(0), 0.0, 1.0, True)
    two = corrupt(x, "gaussian", 0.3, jax.random.key(1), 0.0, 1.0, True)
    assert not np.array_equal(one, two)
    assert float(one.min()) >= 0 and float(one.max()) <= 1
    assert float(jnp.std(one)) == pytest.approx(0.28, abs=0.03)  # clipping shrinks it
    masked = corrupt(x, "masking", 0.25, jax.random.key(0), 0.0, 1.0, False)
    assert float(jnp.mean(masked == 0)) == pytest.approx(0.25, abs=0.03)
    salted = corrupt(x, "salt_and_pepper", 0.2, jax.random.key(0), -1.0, 2.0, False)
    assert float(jnp.mean(salted == 2.0)) == pytest.approx(0.1, abs=0.02)
    assert float(jnp.mean(salted == -1.0)) == pytest.approx(0.1, abs=0.02)


def test_probability_noise_level_above_one_is_an_error(digits):
    with pytest.raises(ValueError, match="'noise_level' parameter.*noise='masking'"):
        skae.DenoisingAutoencoder(noise="masking", noise_level=1.5).fit(digits[0])


def test_convolutional_denoising_cleans_better_than_plain_convolutional(digits):
    X_train, X_test, _, _ = digits
    noisy = np.clip(X_test + np.random.RandomState(1).normal(0, 0.3, X_test.shape), 0, 1)
    settings = {"image_shape": (8, 8), "filters": (16,), "downsampling": "stride"}
    settings.update(max_iter=60, random_state=0)
    denoiser = skae.ConvolutionalDenoisingAutoencoder(8, noise_level=0.3, **settings)
    plain_conv = skae.ConvolutionalAutoencoder(8, **settings)
    denoiser.fit(X_train)
    plain_conv.fit(X_train)
    # Same seed, same shuffles: without its noise the denoiser would be the plain
    # model exactly. (On 8x8 digits convolutions gain little: measured +0.49 dB.)
    assert psnr(denoiser, noisy, X_test) > psnr(plain_conv, noisy, X_test) + 0.25


# ------------------------------------------------------------------------ sparse
def test_kl_sparsity_meets_the_target(digits):
    X_train, X_test, _, _ = digits
    model = skae.SparseAutoencoder(
        128,
        hidden_layer_sizes=(64,),
        sparsity="kl",
        sparsity_weight=0.1,
        sparsity_target=0.05,
        max_iter=EPOCHS,
        random_state=0,
    ).fit(X_train)
    codes = model.transform(X_test)
    assert codes.mean() == pytest.approx(0.05, rel=0.25)
    # Most units are near zero for any given sample.
    assert np.median(np.mean(codes < 0.1, axis=1)) > 0.8


def test_l1_overcomplete_code_is_sparse_and_does_not_copy(digits, noise_images):
    X_train, X_test, _, _ = digits
    model = skae.SparseAutoencoder(
        128,
        hidden_layer_sizes=(),
        sparsity="l1",
        sparsity_weight=0.1,
        max_iter=EPOCHS,
        random_state=0,
    ).fit(X_train)
    codes = model.transform(X_test)
    assert np.median(np.mean(codes < 0.05, axis=1)) > 0.5
    # A copy of the input would reconstruct anything; this model reconstructs
    # digits, not noise.
    assert reconstruction_mse(model, noise_images) > 5 * reconstruction_mse(model, X_test)


# ------------------------------------------------------------------- contractive
def test_contractive_codes_are_flatter_at_similar_error(digits, plain):
    X_train, X_test, _, _ = digits
    model = skae.ContractiveAutoencoder(
        8, contractive_weight=3e-3, max_iter=EPOCHS, random_state=0
    ).fit(X_train)
    unpenalised = skae.ContractiveAutoencoder(8, contractive_weight=0.0)
    unpenalised.__dict__.update(plain.__dict__)  # the plain model, with jacobian_norm
    assert model.jacobian_norm(X_test).mean() < unpenalised.jacobian_norm(X_test).mean() / 3
    assert reconstruction_mse(model, X_test) < 1.5 * reconstruction_mse(plain, X_test)


def test_hutchinson_estimate_is_unbiased():
    from skae._losses import encoder_jacobian_sq_norm

    w = jnp.asarray(np.random.RandomState(0).normal(size=(5, 3)), jnp.float32)

    def encode(x):
        return jnp.tanh(x @ w)

    x = jnp.asarray(np.random.RandomState(1).normal(size=(4, 5)), jnp.float32)
    exact = encoder_jacobian_sq_norm(encode, x, "exact")
    estimates = jax.vmap(lambda k: encoder_jacobian_sq_norm(encode, x, "hutchinson", k))(
        jax.random.split(jax.random.key(0), 4000)
    )
    np.testing.assert_allclose(estimates.mean(axis=0), exact, rtol=0.08)


def test_contractive_with_hutchinson_flattens_the_codes(digits):
    X_train, X_test, _, _ = digits

    def fit(weight):
        model = skae.ContractiveAutoencoder(
            64, contractive_weight=weight, jacobian="auto", max_iter=20, random_state=0
        )
        return model.fit(X_train)

    penalised, unpenalised = fit(0.03), fit(0.0)
    assert penalised._objective_.jacobian == "hutchinson"
    assert penalised.jacobian_norm(X_test).mean() < unpenalised.jacobian_norm(X_test).mean() / 2


# ------------------------------------------------------------------- variational
@pytest.fixture(scope="module")
def vae(digits):
    return skae.VariationalAutoencoder(8, max_iter=EPOCHS, random_state=0).fit(digits[0])


def test_vae_samples_look_like_the_data(vae):
    samples = vae.sample(50, random_state=0)
    assert samples.shape == (50, 64)
    assert samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, vae.sample(50, random_state=0))
    assert not np.array_equal(samples, vae.sample(50, random_state=1))


def test_vae_elbo_rises_and_ranks_noise_below_digits(vae, digits, noise_images):
    assert vae.loss_curve_[-1] < 0.7 * vae.loss_curve_[0]  # -ELBO per sample
    X_test = digits[1]
    assert vae.score_samples(noise_images).max() < np.percentile(vae.score_samples(X_test), 5)


def test_vae_scores_are_reproducible_and_importance_weighting_is_tighter(vae, digits):
    X_test = digits[1]
    elbo = vae.score_samples(X_test)
    np.testing.assert_array_equal(elbo, vae.score_samples(X_test))
    order = np.random.RandomState(0).permutation(len(X_test))
    np.testing.assert_array_equal(elbo[order], vae.score_samples(X_test[order]))
    # The same weights scored with 20 importance samples (recorded at fit).
    iwae = copy.copy(vae)
    iwae._objective_ = dataclasses.replace(vae._objective_, n_importance_samples=20)
    assert iwae.score(X_test) > vae.score(X_test)


def test_vae_gaussian_likelihood_learns_each_feature_scale(small_X):
    X = small_X * np.array([10.0, 1.0, 1.0, 1.0, 0.1])
    model = skae.VariationalAutoencoder(
        2, learning_rate_init=1e-2, batch_size=8, max_iter=150, n_iter_no_change=150, random_state=0
    ).fit(X)
    assert model.reconstruction_loss_ == "mse"
    scale = np.exp(model.params_["log_scale"])
    # The learned scales follow the features' spreads (10, 1, 1, 1, 0.1).
    assert scale[0] > 2 * scale[1:4].max() and scale[4] < 0.5 * scale[1:4].min()
    assert model.sample(3, random_state=0).shape == (3, 5)


def test_convolutional_vae_beta_pulls_codes_to_the_prior(digits):
    X_train, X_test, _, _ = digits

    def fit(beta):
        return skae.ConvolutionalVariationalAutoencoder(
            4, image_shape=(8, 8), filters=(8,), beta=beta, max_iter=15, random_state=0
        ).fit(X_train)

    loose, tight = fit(0.1), fit(4.0)
    assert loose.sample(2, random_state=0).shape == (2, 64)
    # A larger beta weighs the KL term more: posterior means closer to 0...
    assert np.mean(tight.transform(X_test) ** 2) < 0.5 * np.mean(loose.transform(X_test) ** 2)
    # ...at the cost of reconstructions.
    assert reconstruction_mse(tight, X_test) > reconstruction_mse(loose, X_test)
    with pytest.raises(ValueError, match="'n_components' parameter"):
        skae.ConvolutionalVariationalAutoencoder(None).fit(digits[0])


def test_vae_bad_n_samples(vae):
    with pytest.raises(ValueError, match="n_samples must be a positive int"):
        vae.sample(0)


# ---------------------------------------------------------------- custom modules
class UserEncoder(nnx.Module):
    def __init__(self, n_features, n_components, *, rngs):
        self.hidden = nnx.Linear(n_features, 32, rngs=rngs)
        self.code = nnx.Linear(32, n_components, rngs=rngs)

    def __call__(self, x):
        return self.code(nnx.gelu(self.hidden(x)))


class UserDecoder(nnx.Module):
    def __init__(self, n_components, n_features, *, rngs):
        self.hidden = nnx.Linear(n_components, 32, rngs=rngs)
        self.out = nnx.Linear(32, n_features, rngs=rngs)

    def __call__(self, z):
        return self.out(nnx.gelu(self.hidden(z)))


def test_custom_modules_train_in_a_pipeline(digits):
    import pickle

    X_train, X_test, y_train, y_test = digits
    model = skae.Autoencoder(
        encoder=functools.partial(UserEncoder, 64, 6),
        decoder=functools.partial(UserDecoder, 6, 64),
        max_iter=30,
        random_state=0,
    )
    pipe = make_pipeline(model, LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    assert pipe[0].n_components_ == 6
    assert pipe[0].transform(X_test).shape == (len(X_test), 6)
    assert pipe.score(X_test, y_test) > 0.7
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored[0].transform(X_test), pipe[0].transform(X_test))


def test_custom_module_instances(digits):
    encoder = UserEncoder(64, 4, rngs=nnx.Rngs(0))
    decoder = UserDecoder(4, 64, rngs=nnx.Rngs(1))
    model = skae.DenoisingAutoencoder(encoder=encoder, decoder=decoder, max_iter=3, random_state=0)
    first = model.fit(digits[0]).transform(digits[1])
    np.testing.assert_array_equal(model.fit(digits[0]).transform(digits[1]), first)
    # The user's module is left as it was.
    assert np.array_equal(
        encoder.code.kernel[...], UserEncoder(64, 4, rngs=nnx.Rngs(0)).code.kernel[...]
    )


def test_custom_modules_that_do_not_fit_together(digits):
    X = digits[0]
    wrong_width = skae.Autoencoder(
        encoder=functools.partial(UserEncoder, 64, 6), decoder=functools.partial(UserDecoder, 5, 64)
    )
    with pytest.raises(ValueError, match="decoder cannot take the encoder's codes"):
        wrong_width.fit(X)
    wrong_output = skae.Autoencoder(
        encoder=functools.partial(UserEncoder, 64, 6), decoder=functools.partial(UserDecoder, 6, 10)
    )
    with pytest.raises(ValueError, match=r"decoder must return the input's shape.*\(2, 64\)"):
        wrong_output.fit(X)
    wrong_input = skae.Autoencoder(
        encoder=functools.partial(UserEncoder, 10, 6), decoder=functools.partial(UserDecoder, 6, 64)
    )
    with pytest.raises(ValueError, match=r"encoder cannot take inputs of shape \(n_samples, 64\)"):
        wrong_input.fit(X)
    with pytest.raises(ValueError, match="encoder and decoder go together"):
        skae.Autoencoder(encoder=functools.partial(UserEncoder, 64, 6)).fit(X)
