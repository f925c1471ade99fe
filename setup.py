"""The compiled part of winnow: the block walk over libxml2's tree (winnow/_walk.pyx).

Everything else is in pyproject.toml. The extension is optional: where it cannot be built (no C
compiler), winnow uses the Python walk in segment.py, which gives the same blocks more slowly.
"""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = cythonize([Extension("winnow._walk", ["winnow/_walk.pyx"], include_dirs=lxml.get_include())],
                       language_level=3, quiet=True)
for extension in extensions:
    extension.optional = True  # set after cythonize, which drops it
setup(ext_modules=extensions)
