"""Root pytest configuration, loaded before any module imports SciPy."""

import os

import pytest

# scikit-learn's check_array_api_input runs only with SciPy's array API mode on;
# set it here so that parametrize_with_checks runs every check, none skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")


@pytest.fixture(autouse=True)
def _keep_jax_compilation_cache_settings():
    """Undo what a test or doctest of ``skae.enable_compilation_cache`` sets."""
    import jax

    from skae._compilation_cache import _OPTIONS

    saved = {name: (getattr(jax.config, name), os.environ.get(name.upper())) for name in _OPTIONS}
    yield
    for name, (value, variable) in saved.items():
        jax.config.update(name, value)
        if variable is None:
            os.environ.pop(name.upper(), None)
        else:
            os.environ[name.upper()] = variable
