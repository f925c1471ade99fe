"""PageRows against pandas' groupby, on pages whose rows are consecutive and on pages interleaved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from winnow.page_rows import PageRows


def _pages(kind: str, rng: np.random.Generator) -> pd.Series:
    if kind == "consecutive":
        return pd.Series(np.repeat(["x", "a", "m", "b"], [7, 1, 30, 12]))
    page = pd.Series(rng.choice(["a", "b", "c"], size=60))  # interleaved, one page short
    page[page == "c"] = ["c"] * 2 + ["a"] * (int((page == "c").sum()) - 2)
    return page


@pytest.fixture(params=["consecutive", "interleaved"])
def table(request):
    rng = np.random.default_rng(7)
    page = _pages(request.param, rng)
    values = rng.integers(0, 50, len(page)).astype(np.float32)
    values[rng.random(len(page)) < 0.3] = 49  # ties for the largest
    marked = pd.Series(rng.random(len(page)) < 0.15)
    marked[page == page.iloc[0]] = False  # a page with no marked row
    return page, pd.Series(values), marked


def _same(got: np.ndarray, expected: pd.Series) -> None:
    np.testing.assert_array_equal(got, expected.to_numpy(np.float64))


def test_positions_sizes_and_sums(table):
    page, values, _ = table
    rows = PageRows(page)
    grouped = values.groupby(page, sort=False)
    _same(rows.position(), page.groupby(page, sort=False).cumcount())
    _same(rows.size(), page.map(page.value_counts()))
    _same(rows.total(values), grouped.transform("sum"))
    _same(rows.maximum(values), grouped.transform("max"))
    _same(rows.cumulative(values), grouped.cumsum())
    assert pd.Series(rows.numbers()).groupby(page).nunique().eq(1).all()
    assert pd.Series(rows.numbers()).nunique() == page.nunique()


def test_first_place_of_max_is_the_first_of_ties(table):
    page, values, _ = table
    position = page.groupby(page, sort=False).cumcount()
    first_top = position.where(values == values.groupby(page).transform("max")).groupby(page).transform("min")
    _same(PageRows(page).first_place_of_max(values), first_top)


def test_places_of_marked_rows(table):
    page, values, marked = table
    rows = PageRows(page)
    position = page.groupby(page, sort=False).cumcount().astype(float).where(marked)
    _same(rows.first_place(marked), position.groupby(page).transform("min"))
    _same(rows.last_place(marked), position.groupby(page).transform("max"))
    _same(rows.place_before(marked), position.groupby(page).ffill())
    _same(rows.place_after(marked), position.groupby(page).bfill())
    _same(rows.value_before(values, marked), values.astype(float).where(marked).groupby(page).ffill())


@pytest.mark.parametrize("offset", [-2, -1, 1, 2])
def test_shifted(table, offset):
    page, values, _ = table
    frame = pd.DataFrame({"v": values, "w": values * 2})
    expected = frame.groupby(page, sort=False).shift(offset)
    np.testing.assert_array_equal(PageRows(page).shifted(frame.to_numpy(), offset), expected.to_numpy())


@pytest.mark.parametrize("window", [1, 5, 21])
def test_window_means_are_pandas_centred_rolling_means_per_page(table, window):
    page, values, _ = table
    frame = pd.DataFrame({"x": values.astype(float), "y": np.random.default_rng(1).random(len(values))})
    expected = (frame.groupby(page, sort=False).rolling(window, center=True, min_periods=1).mean()
                .reset_index(level=0, drop=True).sort_index())
    np.testing.assert_allclose(PageRows(page).window_means(frame.to_numpy(), window), expected.to_numpy(), rtol=1e-12)


def test_an_empty_batch():
    rows = PageRows(pd.Series([], dtype=object))
    empty = np.zeros(0)
    for got in (rows.position(), rows.size(), rows.total(empty), rows.maximum(empty), rows.cumulative(empty),
                rows.first_place_of_max(empty), rows.first_place(empty), rows.last_place(empty),
                rows.place_before(empty), rows.place_after(empty), rows.value_before(empty, empty),
                rows.shifted(np.zeros((0, 2)), 1), rows.window_means(np.zeros((0, 2)), 5)):
        assert len(got) == 0
