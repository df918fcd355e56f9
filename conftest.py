"""Root pytest configuration, loaded before any module imports SciPy."""

import os

# scikit-learn's check_array_api_input runs only with SciPy's array API mode on;
# set it here so that parametrize_with_checks runs every check, none skipped.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
