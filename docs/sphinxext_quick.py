"""Run the gallery's examples in their quick mode, writing their figures to a temporary folder."""

import tempfile
from pathlib import Path

_FIGURES = Path(tempfile.mkdtemp(prefix="skae-gallery-"))


def quick_argv(gallery_conf, script_vars) -> list[str]:
    """Command-line arguments for each example: ``--quick --out <temporary png>``."""
    name = Path(script_vars["src_file"]).stem
    return ["--quick", "--out", str(_FIGURES / f"{name}.png")]
