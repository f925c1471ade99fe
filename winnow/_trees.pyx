# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""A LightGBM multiclass model's trees walked by blocks of rows, tree by tree (trees.py says why, and which
of LightGBM's arithmetic it keeps)."""

from libc.math cimport exp, fabsf, isnan
from libc.stdint cimport int32_t
import numpy as np

DEF ROWS = 256  # rows walked through one tree before the next: they stay in cache, as does the tree
DEF GROUP = 16  # rows stepped through a tree side by side: their walks overlap in the processor
cdef float ZERO = 1e-35  # LightGBM's kZeroThreshold: it drops a dense row's values no larger (they read as 0)

cdef packed struct Node:  # trees.NODE
    int32_t feature
    float threshold
    int32_t child[2]  # [left, right]: the way for values not above the threshold, then for those above


def predict_proba(const float[:, ::1] rows, const Node[::1] nodes, const int32_t[::1] node_start,
                  const int32_t[::1] inner, const int32_t[::1] depth, const double[::1] node_value, int classes,
                  int iterations, double margin, int period):
    """Class probabilities (the softmax of the summed leaf values) of each row; with period > 0, a row gets no
    more trees once, checked every `period` iterations, its top raw score leads the next by over `margin`.

    Tree t's nodes start at node_start[t]: inner[t] split nodes, then its leaves, which lead to themselves,
    so that GROUP rows step through the tree together without a branch until all are at a leaf."""
    cdef Py_ssize_t n_rows = rows.shape[0], width = rows.shape[1], start, active, kept, i, j, g, k, t, it, step, r
    scores = np.zeros((n_rows, classes), dtype=np.float64)
    cdef double[:, ::1] score = scores
    cdef int32_t[::1] order = np.empty(ROWS, dtype=np.int32)  # the block's rows still taking trees
    cleaned = np.empty((ROWS, max(width, 1)), dtype=np.float32)
    cdef float[:, ::1] clean = cleaned
    cdef float value
    cdef double top, second, total
    cdef const Node* tree
    cdef const float* row[GROUP]
    cdef int32_t at[GROUP]
    cdef bint done
    for start in range(0, n_rows, ROWS):
        active = min(ROWS, n_rows - start)
        for i in range(active):
            order[i] = i
            for j in range(width):  # a missing value (NaN) reads as 0, as do those LightGBM drops
                value = rows[start + i, j]
                clean[i, j] = 0.0 if isnan(value) or fabsf(value) <= ZERO else value
        for it in range(iterations):
            for k in range(classes):
                t = it * classes + k
                tree = &nodes[node_start[t]]
                for i in range(0, active, GROUP):
                    g = min(GROUP, active - i)
                    for j in range(GROUP):  # a short group repeats its first row
                        row[j], at[j] = &clean[order[i + j if j < g else i], 0], 0
                    step = 0
                    while step < depth[t]:
                        for j in range(GROUP):
                            at[j] = tree[at[j]].child[row[j][tree[at[j]].feature] > tree[at[j]].threshold]
                        step += 1
                        if step % 4 == 0:
                            done = True
                            for j in range(GROUP):
                                done &= at[j] >= inner[t]
                            if done:
                                break
                    for j in range(g):  # in LightGBM's order: iteration by iteration, class by class
                        score[start + order[i + j], k] += node_value[node_start[t] + at[j]]
            if period > 0 and (it + 1) % period == 0:
                kept = 0
                for i in range(active):
                    r = start + order[i]
                    top, second = score[r, 0], score[r, 1]
                    if second > top:
                        top, second = second, top
                    for k in range(2, classes):
                        if score[r, k] > top:
                            top, second = score[r, k], top
                        elif score[r, k] > second:
                            second = score[r, k]
                    if not top - second > margin:
                        order[kept] = order[i]
                        kept += 1
                active = kept
    for r in range(n_rows):  # LightGBM's Common::Softmax
        top = score[r, 0]
        for k in range(1, classes):
            top = max(score[r, k], top)
        total = 0.0
        for k in range(classes):
            score[r, k] = exp(score[r, k] - top)
            total += score[r, k]
        for k in range(classes):
            score[r, k] /= total
    return scores
