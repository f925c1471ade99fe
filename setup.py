"""The compiled parts of winnow (winnow/compiled.py lists them): the block walk over libxml2's tree
(winnow/_walk.pyx), the counting of block text (winnow/_textstats.pyx), the walk through the
classifier's trees (winnow/_trees.pyx) and the writing of `winnow predict`'s lines (winnow/_jsonlines.pyx).

Everything else is in pyproject.toml. The extensions are optional: where they cannot be built (no C
compiler), the Python walk in segment.py, numpy counting in text_features.py, LightGBM's own
prediction and Python's formatting give the same blocks, numbers, probabilities and
lines more slowly.
"""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = cythonize([Extension("winnow._walk", ["winnow/_walk.pyx"], include_dirs=lxml.get_include()),
                        Extension("winnow._textstats", ["winnow/_textstats.pyx"]),
                        Extension("winnow._trees", ["winnow/_trees.pyx"]),
                        Extension("winnow._jsonlines", ["winnow/_jsonlines.pyx"])],
                       language_level=3, quiet=True)
for extension in extensions:
    extension.optional = True  # set after cythonize, which drops it
setup(ext_modules=extensions)
