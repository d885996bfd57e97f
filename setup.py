"""Builds the Cython extensions of hxredis._fastcore; all metadata is in pyproject.toml."""

from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

FASTCORE = Path("src/_fastcore")

extensions = [
    Extension(
        f"hxredis._fastcore.{pyx.stem}",
        [str(pyx)],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    for pyx in sorted(FASTCORE.glob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
        include_path=["src"],  # for `cimport _fastcore.slots`
    )
)
