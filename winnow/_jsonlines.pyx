# cython: language_level=3, boundscheck=False, wraparound=False
"""`winnow predict`'s JSON lines of a chunk's blocks, written straight into one buffer per page, without a
string for each line and each escaped text (predict/formats.py's format_blocks says what a line holds, and
keeps the Python formatting that gives the same text where this module is not built)."""

from libc.stdint cimport int64_t
from libc.stdlib cimport free, realloc
from libc.math cimport rint

from winnow._unicode cimport (PyUnicode_KIND, PyUnicode_DATA, PyUnicode_READ, PyUnicode_GET_LENGTH,
                             PyUnicode_FromKindAndData, PyUnicode_4BYTE_KIND)

cdef const char* HEX = "0123456789abcdef"


cdef struct Buffer:
    Py_UCS4* chars
    Py_ssize_t length, size


cdef int _reserve(Buffer* out, Py_ssize_t more) except -1:
    cdef Py_ssize_t size = out.size
    cdef Py_UCS4* grown
    if out.length + more <= size:
        return 0
    while size < out.length + more:
        size = 2 * size + 64
    grown = <Py_UCS4*>realloc(out.chars, size * sizeof(Py_UCS4))
    if grown is NULL:
        raise MemoryError()
    out.chars, out.size = grown, size
    return 0


cdef int _ascii(Buffer* out, const char* text) except -1:
    cdef Py_ssize_t k = 0, j
    while text[k]:
        k += 1
    _reserve(out, k)
    for j in range(k):
        out.chars[out.length + j] = <Py_UCS4><unsigned char>text[j]
    out.length += k
    return 0


cdef int _copy(Buffer* out, str text) except -1:
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), k
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    _reserve(out, n)
    for k in range(n):
        out.chars[out.length + k] = PyUnicode_READ(kind, data, k)
    out.length += n
    return 0


cdef int _number(Buffer* out, int64_t value) except -1:
    cdef char digits[24]
    cdef int k = 0
    cdef bint negative = value < 0
    cdef unsigned long long rest = <unsigned long long>(-value if negative else value)
    while True:
        digits[k] = <char>(48 + rest % 10)
        rest //= 10
        k += 1
        if rest == 0:
            break
    _reserve(out, k + 1)
    if negative:
        out.chars[out.length] = '-'
        out.length += 1
    while k:
        k -= 1
        out.chars[out.length] = digits[k]
        out.length += 1
    return 0


cdef int _json_string(Buffer* out, str text) except -1:
    """text as json's encoder writes it with ensure_ascii=False: quoted, '"', '\\' and control characters
    escaped, all else as it is."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), k
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    cdef Py_UCS4 c
    cdef Py_UCS4* at
    _reserve(out, 6 * n + 2)  # every character escaped as \\u00XX at most
    at = out.chars + out.length
    at[0] = '"'
    at += 1
    for k in range(n):
        c = PyUnicode_READ(kind, data, k)
        if c >= 0x20 and c != '"' and c != '\\':
            at[0] = c
            at += 1
            continue
        at[0] = '\\'
        if c == '"' or c == '\\':
            at[1] = c
        elif c == '\n':
            at[1] = 'n'
        elif c == '\r':
            at[1] = 'r'
        elif c == '\t':
            at[1] = 't'
        elif c == '\b':
            at[1] = 'b'
        elif c == '\f':
            at[1] = 'f'
        else:
            at[1] = 'u'
            at[2] = '0'
            at[3] = '0'
            at[4] = HEX[(<unsigned int>c) >> 4]
            at[5] = HEX[(<unsigned int>c) & 15]
            at += 4
        at += 2
    at[0] = '"'
    out.length = at + 1 - out.chars
    return 0


def block_lines(list page_ids, const int64_t[::1] counts, const int64_t[::1] index, list texts, list labels,
                list label_names, const double[:, ::1] proba, list rounded):
    """Each page's lines: {"page": ID, "index": I, "text": T, "label": L, "proba": {NAME: P, ...}}, with
    the page ids and label names already JSON strings, and P the rounded[k] of rint(p * 10000) (every p in
    [0, 1])."""
    cdef Buffer out
    cdef Py_ssize_t row = 0, page, end, k, classes = proba.shape[1]
    out.chars, out.length, out.size = NULL, 0, 0
    pages = []
    try:
        for page in range(len(page_ids)):
            out.length = 0
            end = row + counts[page]
            while row < end:
                _ascii(&out, '{"page": ')
                _copy(&out, page_ids[page])
                _ascii(&out, ', "index": ')
                _number(&out, index[row])
                _ascii(&out, ', "text": ')
                _json_string(&out, texts[row])
                _ascii(&out, ', "label": ')
                _copy(&out, labels[row])
                _ascii(&out, ', "proba": {')
                for k in range(classes):
                    if k:
                        _ascii(&out, ', ')
                    _copy(&out, label_names[k])
                    _ascii(&out, ': ')
                    _copy(&out, rounded[<Py_ssize_t>rint(proba[row, k] * 10000)])
                _ascii(&out, '}}\n')
                row += 1
            pages.append(PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out.chars, out.length))
    finally:
        free(out.chars)
    return pages
