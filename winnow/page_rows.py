"""Per-page sums, fills, shifts and windows over the rows of a blocks table, in numpy.

pandas' groupby hashes the page keys again on every call, and the features group by page a few dozen
times per batch. A batch's pages are runs of consecutive rows, so each of these is one cumulative or
reduce-at pass over the runs. Pages whose rows are not consecutive are put in runs first (a stable sort)
and the results put back in row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class PageRows:
    """The rows of one batch, grouped by page. Every method takes and returns arrays in row order."""

    def __init__(self, page):
        codes = pd.factorize(np.asarray(page), use_na_sentinel=False)[0]  # a missing page id is a page too
        self.order = None if (np.diff(codes) >= 0).all() else np.argsort(codes, kind="stable")
        if self.order is not None:
            codes = codes[self.order]
        starts_page = np.ones(len(codes), bool)
        starts_page[1:] = codes[1:] != codes[:-1]
        self.starts = np.flatnonzero(starts_page)  # the first row of each page (in runs)
        self.page = np.cumsum(starts_page) - 1  # each row's page number
        self.sizes = np.diff(self.starts, append=len(codes))
        self.first = self.starts[self.page]  # the first row of each row's page
        self.index = np.arange(len(codes))

    def _runs(self, values) -> np.ndarray:
        values = np.asarray(values)
        return values if self.order is None else values[self.order]

    def _rows(self, values: np.ndarray) -> np.ndarray:
        if self.order is None:
            return values
        back = np.empty_like(values)
        back[self.order] = values
        return back

    def numbers(self) -> np.ndarray:
        """Each row's page as a number (0, 1, ... in order of the pages' runs)."""
        return self._rows(self.page)

    def position(self) -> np.ndarray:
        """Each row's place in its page: 0, 1, ..."""
        return self._rows(self.index - self.first)

    def size(self) -> np.ndarray:
        """The number of rows in each row's page."""
        return self._rows(self.sizes[self.page])

    def total(self, values) -> np.ndarray:
        """The sum over each row's page, in float64 (exact for the features' counts)."""
        if not len(self.index):
            return np.zeros(0)
        return self._rows(np.add.reduceat(self._runs(values).astype(np.float64), self.starts)[self.page])

    def maximum(self, values) -> np.ndarray:
        """The largest value in each row's page."""
        values = self._runs(values)
        if not len(values):
            return values
        return self._rows(np.maximum.reduceat(values, self.starts)[self.page])

    def cumulative(self, values) -> np.ndarray:
        """The sum of the values up to each row (itself included) in its page, in float64."""
        sums = np.cumsum(self._runs(values), dtype=np.float64)
        before_page = sums[self.first] - self._runs(values)[self.first]
        return self._rows(sums - before_page)

    def first_place_of_max(self, values) -> np.ndarray:
        """The place in its page of each page's first row holding the page's largest value."""
        values = self._runs(values)
        if not len(values):
            return np.zeros(0, np.int64)
        top = values == np.maximum.reduceat(values, self.starts)[self.page]
        first_top = np.minimum.reduceat(np.where(top, self.index, len(values)), self.starts)
        return self._rows((first_top - self.starts)[self.page])

    def first_place(self, where) -> np.ndarray:
        """The place of the first row of each row's page where `where` holds (NaN: none)."""
        found, inside = self._nearest(where, forward=False)
        return self._rows(self._place(found, inside, self.first))

    def last_place(self, where) -> np.ndarray:
        """The place of the last row of each row's page where `where` holds (NaN: none)."""
        found, inside = self._nearest(where, forward=True)
        return self._rows(self._place(found, inside, self.first + self.sizes[self.page] - 1))

    def place_before(self, where) -> np.ndarray:
        """For each row, the place of the nearest row at or before it in its page where `where` holds (NaN: none)."""
        found, inside = self._nearest(where, forward=True)
        return self._rows(self._place(found, inside, self.index))

    def place_after(self, where) -> np.ndarray:
        """For each row, the place of the nearest row at or after it in its page where `where` holds (NaN: none)."""
        found, inside = self._nearest(where, forward=False)
        return self._rows(self._place(found, inside, self.index))

    def value_before(self, values, where) -> np.ndarray:
        """For each row, `values` at the nearest row at or before it in its page where `where` holds (NaN: none)."""
        found, inside = self._nearest(where, forward=True)
        return self._rows(np.where(inside, self._runs(values)[found], np.nan))

    def _nearest(self, where, forward: bool) -> tuple[np.ndarray, np.ndarray]:
        """The nearest marked row at or before (forward) or at or after each row, and whether it is in the row's page."""
        marked = self._runs(where).astype(bool)
        if forward:
            found = np.maximum.accumulate(np.where(marked, self.index, -1))
        else:
            found = np.minimum.accumulate(np.where(marked, self.index, len(marked))[::-1])[::-1]
        return found, (found >= self.first) & (found < self.first + self.sizes[self.page])

    def _place(self, found: np.ndarray, inside: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The place in its page of what was found for the rows `at`, NaN where it is not in that page."""
        return np.where(inside[at], found[at] - self.first, np.nan)

    def shifted(self, values: np.ndarray, offset: int) -> np.ndarray:
        """The values of the row `offset` places before each row in its page (after, if negative); NaN where
        there is none, as pandas' groupby shift. `values` is a float array of rows (and columns)."""
        values = self._runs(values)
        source = self.index - offset
        inside = (source >= self.first) & (source < self.first + self.sizes[self.page])
        out = np.full_like(values, np.nan)
        out[inside] = values[source[inside]]
        return self._rows(out)

    def window_means(self, values: np.ndarray, window: int) -> np.ndarray:
        """The mean of each column over the `window` rows centred on each row within its page (fewer at the
        page's ends), as pandas' centred rolling mean per page, from one cumulative sum over the batch."""
        values = self._runs(np.asarray(values, dtype=np.float64))
        reach = window // 2
        low = np.maximum(self.index - reach, self.first)
        high = np.minimum(self.index + reach + 1, self.first + self.sizes[self.page])
        sums = np.zeros((len(values) + 1, values.shape[1]))
        np.cumsum(values, axis=0, out=sums[1:])
        return self._rows((sums[high] - sums[low]) / (high - low)[:, None])
