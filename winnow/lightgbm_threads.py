"""Let threadpoolctl limit LightGBM's threads, as it limits scikit-learn's and numpy's.

LightGBM's scikit-learn wrapper asks for one thread per physical core on every call (n_jobs=None) and
sets OpenMP's thread count to that itself, so neither `threadpool_limits(1)` (batch workers,
benchmarks) nor OMP_NUM_THREADS reached it. Its own cap, LGBM_SetMaxThreads, does: this controller
gives threadpoolctl that cap, and OMP_NUM_THREADS, when given, sets it as OpenMP would.
"""

from __future__ import annotations

import ctypes
import os

import lightgbm
from threadpoolctl import LibController, ThreadpoolController, register


class LightGBMController(LibController):
    user_api = "lightgbm"
    internal_api = "lightgbm"
    filename_prefixes = ("lib_lightgbm",)
    check_symbols = ("LGBM_SetMaxThreads", "LGBM_GetMaxThreads")

    def get_num_threads(self) -> int:
        """The cap; -1 when there is none (OpenMP's count applies)."""
        cap = ctypes.c_int()
        self.dynlib.LGBM_GetMaxThreads(ctypes.byref(cap))
        return cap.value

    def set_num_threads(self, num_threads: int) -> None:
        self.dynlib.LGBM_SetMaxThreads(ctypes.c_int(num_threads))

    def get_version(self) -> str:
        return lightgbm.__version__


register(LightGBMController)
if os.environ.get("OMP_NUM_THREADS", "").strip().isdigit():  # kept for the process, as threadpool_limits(N) is
    ThreadpoolController().select(internal_api="lightgbm").limit(limits=int(os.environ["OMP_NUM_THREADS"]))
