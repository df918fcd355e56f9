"""JAX's persistent compilation cache, so that new processes do not compile again."""

import os
from pathlib import Path

# JAX reads each option from the environment variable of its name in capitals,
# at import: setting both covers this process and the processes it starts
# (joblib's workers, a later Python session started from this one).
_OPTIONS = {
    "jax_compilation_cache_dir": None,  # filled in with the folder
    # Every program: most of skae's compile in well under JAX's default 1 s,
    # and a search of small models spends its time on many of them.
    "jax_persistent_cache_min_compile_time_secs": 0.0,
    "jax_persistent_cache_min_entry_size_bytes": 0,
}


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/skae/jax`` (``~/.cache/skae/jax`` when the variable is unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "skae" / "jax"


def enable_compilation_cache(directory=None) -> Path:
    """Keep compiled programs in ``directory``, for this process and the ones it starts.

    A fit compiles its training program once per architecture and process
    (about a second on CPU); clones, refits and ``GridSearchCV`` folds in the
    same process reuse it. A new process compiles again: a new Python
    session, or each worker of ``GridSearchCV(n_jobs=2)``. With the cache on,
    those processes read the programs from disk instead (JAX's persistent
    compilation cache; the key covers the program, the JAX version and the
    device, so a stale entry is never used).

    Call it before the first fit and before starting workers: it sets JAX's
    options in this process and the matching environment variables, which
    processes started later inherit (joblib's process workers do). The
    environment variables alone (``JAX_COMPILATION_CACHE_DIR`` and
    ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0``) do the same for a
    process you start yourself.

    Parameters
    ----------
    directory : str or path-like, default=None
        Where to keep the programs; created if missing. None:
        ``$XDG_CACHE_HOME/skae/jax``, else ``~/.cache/skae/jax``.

    Returns
    -------
    directory : Path
        The folder in use.

    Examples
    --------
    >>> import tempfile
    >>> import skae
    >>> folder = skae.enable_compilation_cache(tempfile.mkdtemp())
    >>> folder.is_dir()
    True
    """
    import jax

    directory = Path(default_cache_dir() if directory is None else directory).expanduser()
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in {**_OPTIONS, "jax_compilation_cache_dir": str(directory)}.items():
        jax.config.update(name, value)
        os.environ[name.upper()] = str(value)
    return directory
