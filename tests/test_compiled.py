"""winnow's compiled modules are built wherever they can be."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path

import pytest

from winnow.compiled import unbuilt


def test_compiled_modules_are_built_where_a_compiler_is():
    if not shutil.which("cc") or not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        pytest.skip("no C compiler or no Python headers here: the compiled modules cannot be built")
    assert not unbuilt(), "pip install -e . should have built winnow's compiled modules (setup.py)"
