"""The compiled parts of winnow: the block walk over libxml2's tree (winnow/_walk.pyx) and the counting
of block text (winnow/_textstats.pyx).

Everything else is in pyproject.toml. The extensions are optional: where they cannot be built (no C
compiler), winnow uses the Python walk in segment.py and numpy counting in text_features.py, which give
the same blocks and numbers more slowly.
"""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = cythonize([Extension("winnow._walk", ["winnow/_walk.pyx"], include_dirs=lxml.get_include()),
                        Extension("winnow._textstats", ["winnow/_textstats.pyx"]),
                        Extension("winnow._trees", ["winnow/_trees.pyx"])],
                       language_level=3, quiet=True)
for extension in extensions:
    extension.optional = True  # set after cythonize, which drops it
setup(ext_modules=extensions)
