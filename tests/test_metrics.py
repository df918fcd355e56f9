"""skae.metrics: PSNR and the compression report."""

import numpy as np
import pytest
from sklearn.decomposition import PCA

import skae
from skae.metrics import compression_report, psnr


def test_psnr_is_ten_log10_of_range_over_mse():
    a, b = np.zeros((3, 4)), np.full((3, 4), 0.5)
    assert psnr(a, b) == pytest.approx(10 * np.log10(1 / 0.25))
    assert psnr(a, b, data_range=255) == pytest.approx(10 * np.log10(255**2 / 0.25))
    assert psnr(a, a) == float("inf")


def test_compression_report_measures_the_stored_code(digits):
    X_train, X_test = digits[0], digits[1]
    model = skae.Autoencoder(n_components=8, max_iter=10, random_state=0).fit(X_train)
    report = compression_report(model, X_test, X_train, code_dtype="float16")
    ours, pca = report["skae"], report["PCA"]
    assert ours["compression_ratio"] == pca["compression_ratio"] == 64 / (8 * 2)
    stored = model.transform(X_test).astype(np.float16).astype(float)
    assert ours["psnr"] == pytest.approx(psnr(X_test, model.inverse_transform(stored)))
    reference = PCA(n_components=8).fit(X_train)
    pca_stored = reference.transform(X_test).astype(np.float16).astype(float)
    assert pca["psnr"] == pytest.approx(psnr(X_test, reference.inverse_transform(pca_stored)))
    assert compression_report(model, X_test, code_dtype="float32")["skae"]["code_bytes"] == 32
    with pytest.raises(ValueError, match="code_dtype"):
        compression_report(model, X_test, code_dtype="int4")


def test_ssim_where_scikit_image_is_installed(digits):
    pytest.importorskip("skimage")
    model = skae.Autoencoder(n_components=8, max_iter=10, random_state=0).fit(digits[0])
    ssim = compression_report(model, digits[1])["skae"]["ssim"]
    assert 0 < ssim <= 1
