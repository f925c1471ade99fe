# cython: language_level=3, boundscheck=False, wraparound=False
"""text_features' per-block counts, one pass over each block's characters in C (text_features.py keeps
the numpy counting that gives the same numbers where this module is not built; tests/test_textstats.py
holds both to per-block regex counting)."""

import numpy as np

cdef extern from "Python.h":
    int PyUnicode_KIND(object string)
    void* PyUnicode_DATA(object string)
    Py_UCS4 PyUnicode_READ(int kind, void* data, Py_ssize_t index)
    Py_ssize_t PyUnicode_GET_LENGTH(object string)

COUNTS = ("chars", "cjk", "upper", "letter", "digit", "punct", "lower", "cjk_function", "capitalized",
          "sentences", "ends_punct", "words", "function_words")
_SIMPLE = COUNTS[1:8]  # classes counted as they are


cdef class _Classes:
    """CharClasses' table of class bits per code point, filled through it on first sight."""
    cdef unsigned int* table
    cdef object classes  # owns the table

    def __init__(self, classes):
        cdef unsigned int[::1] table = classes.table
        self.classes, self.table = classes, &table[0]


cdef inline unsigned int _bits(_Classes classes, Py_UCS4 code):
    cdef unsigned int bits = classes.table[code]
    if bits == 0xFFFFFFFF:  # CharClasses.UNKNOWN
        bits = classes.classes.bits_of(<unsigned int>code)  # a Py_UCS4 would reach Python as a str
    return bits


cdef inline Py_ssize_t _next_run(_Classes bits, unsigned int member, int kind, void* data, Py_ssize_t i,
                                 Py_ssize_t length, Py_ssize_t* end):
    """Where the next run of characters of class `member` from position i starts (length: none); its end
    goes to *end."""
    while i < length and not _bits(bits, PyUnicode_READ(kind, data, i)) & member:
        i += 1
    end[0] = i
    while end[0] < length and _bits(bits, PyUnicode_READ(kind, data, end[0])) & member:
        end[0] += 1
    return i


def text_counts(list texts, list lowered, classes, frozenset stopwords):
    """Each of COUNTS -> an int64 array over `texts`; words and function words are counted in `lowered`,
    the texts lower-cased."""
    cdef _Classes bits = _Classes(classes)
    cdef dict mask = {name: 1 << k for k, name in enumerate(classes.names)}
    cdef unsigned int simple[7]
    cdef Py_ssize_t k, t, i, j, length, n = len(texts)
    cdef Py_ssize_t longest_stop = max(map(len, stopwords), default=0)
    for k in range(7):
        simple[k] = mask[_SIMPLE[k]]
    cdef unsigned int word = mask["word"], upper = mask["upper"], stop = mask["stop"], space = mask["space"]
    cdef unsigned int cjk_stop = mask["cjk_stop"], closing = mask["closing"], token = mask["token"]
    counts = np.zeros((len(COUNTS), n), dtype=np.int64)
    cdef long long[:, ::1] out = counts
    cdef long long row[13]
    cdef unsigned int b, last
    cdef bint previous_word
    cdef int kind
    cdef void* data
    cdef str text
    for t in range(n):
        text = texts[t]
        kind, data, length = PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)
        for k in range(13):
            row[k] = 0
        row[0] = length
        previous_word, last = False, 0
        for i in range(length):
            b = _bits(bits, PyUnicode_READ(kind, data, i))
            for k in range(7):
                row[k + 1] += (b & simple[k]) != 0
            row[8] += (b & upper) != 0 and not previous_word
            previous_word = (b & word) != 0
            # A stop ends a sentence before a space or at the block's end (the batch's separator is a space).
            if b & cjk_stop or (b & stop and (i + 1 == length or _bits(bits, PyUnicode_READ(kind, data, i + 1)) & space)):
                row[9] += 1
            if not b & space:
                last = b
        row[10] = (last & closing) != 0
        text = lowered[t]
        kind, data, length = PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)
        i = _next_run(bits, token, kind, data, 0, length, &j)
        while i < length:
            row[11] += 1
            if j - i <= longest_stop and text[i:j] in stopwords:
                row[12] += 1
            i = _next_run(bits, token, kind, data, j, length, &j)
        for k in range(13):
            out[k, t] = row[k]
    return dict(zip(COUNTS, counts))


def literal_hits(list texts, list literals, classes):
    """For each text, which of `literals` (strings) it holds: a bool array texts x literals.

    A literal may start with "^": found only at the text's first non-space character; and "\\d" in it
    stands for any digit. Literals must start with a digit or a character of the Basic Multilingual Plane."""
    cdef _Classes bits = _Classes(classes)
    cdef unsigned int space = 1 << classes.names.index("space"), digit = 1 << classes.names.index("digit")
    elements, starts, anchored, by_first = [], [], [], {}
    for number, literal in enumerate(literals):
        at_start = literal.startswith("^")
        anchored.append(at_start)
        codes = [-1 if piece == "\\d" else ord(piece) for piece in _pieces(literal[1:] if at_start else literal)]
        if codes[0] > 0xFFFF:
            raise ValueError(f"literal {literal!r} starts beyond the Basic Multilingual Plane")
        by_first.setdefault(codes[0], []).append(number)
        starts.append(len(elements))
        elements += codes
    starts.append(len(elements))
    # Which literals start with a character: bucket[first] indexes the runs of `order` (-1: none). A bucket's
    # literals are tried only where the next character is one of their second ones (modulo 64: a sieve).
    order, bucket_starts, buckets, seconds = [], [], np.full(0x10000, -1, dtype=np.int32), []
    for code, numbers in by_first.items():
        if code >= 0:
            buckets[code] = len(bucket_starts)
        bucket_starts.append(len(order))
        order += numbers
        sieve = 0
        for number in numbers:
            second = elements[starts[number] + 1] if starts[number] + 1 < starts[number + 1] else -1
            sieve |= (1 << 64) - 1 if second < 0 else 1 << (second % 64)
        seconds.append(sieve)
    bucket_starts.append(len(order))
    digit_bucket = list(by_first).index(-1) if -1 in by_first else -1
    cdef int[::1] element = np.array(elements, dtype=np.int32), start = np.array(starts, dtype=np.int32)
    cdef int[::1] bucket = buckets, bucket_start = np.array(bucket_starts, dtype=np.int32)
    cdef int[::1] ordered = np.array(order, dtype=np.int32)
    cdef unsigned long long[::1] second_sieve = np.array(seconds, dtype=np.uint64)
    cdef unsigned char[::1] at_first = np.array(anchored, dtype=np.uint8)
    found = np.zeros((len(texts), len(literals)), dtype=bool)
    cdef unsigned char[:, ::1] out = found.view(np.uint8)
    cdef Py_ssize_t t, i, first, length
    cdef int kind, b
    cdef void* data
    cdef Py_UCS4 c, after
    cdef str text
    for t in range(len(texts)):
        text = texts[t]
        kind, data, length = PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)
        first = 0
        while first < length and _bits(bits, PyUnicode_READ(kind, data, first)) & space:
            first += 1
        for i in range(first, length):
            c = PyUnicode_READ(kind, data, i)
            after = PyUnicode_READ(kind, data, i + 1) if i + 1 < length else 0
            b = bucket[c] if c <= 0xFFFF else -1
            if b >= 0 and second_sieve[b] >> (<unsigned int>after % 64) & 1:
                _match_bucket(&out[t, 0], b, &bucket_start[0], &ordered[0], &element[0], &start[0], &at_first[0],
                              i == first, kind, data, i, length, bits, digit)
            if digit_bucket >= 0 and _bits(bits, c) & digit:
                _match_bucket(&out[t, 0], digit_bucket, &bucket_start[0], &ordered[0], &element[0], &start[0],
                              &at_first[0], i == first, kind, data, i, length, bits, digit)
    return found


cdef inline void _match_bucket(unsigned char* found, int b, int* bucket_start, int* ordered, int* element,
                               int* start, unsigned char* at_first, bint is_first, int kind, void* data,
                               Py_ssize_t i, Py_ssize_t length, _Classes bits, unsigned int digit):
    """Mark in `found` (a text's row) the literals of bucket b found at position i of the text."""
    cdef Py_ssize_t k, j, p
    cdef int e
    cdef Py_UCS4 c
    for k in range(bucket_start[b], bucket_start[b + 1]):
        p = ordered[k]
        if found[p] or (at_first[p] and not is_first) or i + start[p + 1] - start[p] > length:
            continue
        for j in range(1, start[p + 1] - start[p]):
            e, c = element[start[p] + j], PyUnicode_READ(kind, data, i + j)
            if (e >= 0 and <Py_UCS4>e != c) or (e < 0 and not _bits(bits, c) & digit):
                break
        else:
            found[p] = 1


def _pieces(literal):
    """A literal's characters, "\\d" as one piece."""
    pieces, i = [], 0
    while i < len(literal):
        step = 2 if literal.startswith("\\d", i) else 1
        pieces.append(literal[i:i + step])
        i += step
    return pieces


cdef list _known_in(str text, _Classes bits, unsigned int member, Py_ssize_t min_length, dict vocabulary):
    """The columns of the tokens of `text` (lower-cased) that `vocabulary` knows, in order: a token is a run
    of `min_length` or more characters of one CharClasses class (`member`)."""
    cdef Py_ssize_t i, j, length
    cdef list found = []
    text = text.lower()
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    length = PyUnicode_GET_LENGTH(text)
    i = _next_run(bits, member, kind, data, 0, length, &j)
    while i < length:
        if j - i >= min_length:
            column = vocabulary.get(text[i:j])
            if column is not None:
                found.append(column)
        i = _next_run(bits, member, kind, data, j, length, &j)
    return found


def token_columns(list strings, classes, str token_class, Py_ssize_t min_length, dict vocabulary):
    """The tokens of `strings` that `vocabulary` knows, as (string number, column) arrays (_known_in)."""
    cdef _Classes bits = _Classes(classes)
    cdef unsigned int member = 1 << classes.names.index(token_class)
    owners, columns = [], []
    for t in range(len(strings)):
        found = _known_in(strings[t], bits, member, min_length, vocabulary)
        owners += [t] * len(found)
        columns += found
    return np.array(owners, dtype=np.int64), np.array(columns, dtype=np.int64)


def token_evidence(list strings, classes, str token_class, Py_ssize_t min_length, dict vocabulary,
                   const float[:, ::1] ratios):
    """TokenEvidence's columns for each string, without a token matrix: how many distinct tokens `vocabulary`
    knows (_known_in), then per label the mean of their ratios (summed in double in column order, rounded
    once), the largest (at least 0) and the smallest (at most 0). token_evidence._encode gives the same numbers."""
    cdef _Classes bits = _Classes(classes)
    cdef unsigned int member = 1 << classes.names.index(token_class)
    cdef Py_ssize_t t, k, known, label, column, previous, labels = ratios.shape[1]
    cdef double total
    cdef float ratio, largest, smallest
    cdef list columns
    out = np.zeros((len(strings), 1 + 3 * labels), dtype=np.float32)
    cdef float[:, ::1] columns_out = out
    for t in range(len(strings)):
        columns = _known_in(strings[t], bits, member, min_length, vocabulary)
        columns.sort()  # each distinct token once, in column order
        known, previous = 0, -1
        for k in range(len(columns)):
            column = columns[k]
            if column != previous:
                columns[known] = column
                known += 1
                previous = column
        columns_out[t, 0] = known
        for label in range(labels):
            total, largest, smallest = 0.0, 0.0, 0.0
            for k in range(known):
                ratio = ratios[<Py_ssize_t>columns[k], label]
                total += ratio
                largest = ratio if ratio > largest else largest
                smallest = ratio if ratio < smallest else smallest
            columns_out[t, 1 + 3 * label] = <float>(total / (known if known > 1 else 1))
            columns_out[t, 2 + 3 * label] = largest
            columns_out[t, 3 + 3 * label] = smallest
    return out


cdef unsigned long long _FNV_START = 14695981039346656037ULL


cdef inline unsigned long long _hashed(unsigned long long h, Py_UCS4 c):
    return (h ^ <unsigned long long>c) * 1099511628211ULL  # FNV-1a over code points


cdef unsigned long long _masked_hash(_Classes bits, unsigned int digit, int kind, void* data, Py_ssize_t start,
                                     Py_ssize_t end):
    """A hash of characters [start, end) with each run of digits as one "0" (never 0: 0 stands for "")."""
    cdef unsigned long long h = _FNV_START
    cdef Py_ssize_t i
    cdef Py_UCS4 c
    cdef bint in_digits = False
    for i in range(start, end):
        c = PyUnicode_READ(kind, data, i)
        if _bits(bits, c) & digit:
            if not in_digits:
                h = _hashed(h, 48)  # "0"
            in_digits = True
        else:
            h = _hashed(h, c)
            in_digits = False
    return h | 1


def line_keys(list texts, classes, Py_ssize_t chars, const unsigned char[::1] short, const unsigned char[::1] shaped):
    """text_features.line_keys' keys as 64-bit hashes, 0 for none: a line's shape (its first `chars` characters
    lower-cased, runs of digits as "0", spaces at the ends dropped), and for short lines the shape's first and
    last word (split at " ")."""
    cdef _Classes bits = _Classes(classes)
    cdef unsigned int digit = 1 << classes.names.index("digit"), space = 1 << classes.names.index("space")
    cdef Py_ssize_t n = len(texts), t, start, end, i, first_space, last_space
    cdef int kind
    cdef void* data
    cdef str head
    keys = np.zeros((3, n), dtype=np.uint64)
    cdef unsigned long long[:, ::1] out = keys
    for t in range(n):
        head = (<str>texts[t])[:chars].lower()
        kind, data, end = PyUnicode_KIND(head), PyUnicode_DATA(head), PyUnicode_GET_LENGTH(head)
        start = 0
        while start < end and _bits(bits, PyUnicode_READ(kind, data, start)) & space:
            start += 1
        while end > start and _bits(bits, PyUnicode_READ(kind, data, end - 1)) & space:
            end -= 1
        if start == end:
            continue
        if shaped[t]:
            out[0, t] = _masked_hash(bits, digit, kind, data, start, end)
        if short[t]:
            first_space, last_space = end, start - 1
            for i in range(start, end):
                if PyUnicode_READ(kind, data, i) == 32:
                    first_space = i if first_space == end else first_space
                    last_space = i
            out[1, t] = _masked_hash(bits, digit, kind, data, start, first_space)
            out[2, t] = _masked_hash(bits, digit, kind, data, last_space + 1, end)
    return keys
