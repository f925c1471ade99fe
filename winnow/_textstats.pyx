# cython: language_level=3, boundscheck=False, wraparound=False
"""text_features' per-block counts, one pass over each block's characters in C (text_features.py keeps
the numpy counting that gives the same numbers where this module is not built; tests/test_textstats.py
holds both to per-block regex counting)."""

from collections import deque

import numpy as np

from winnow._unicode cimport (PyUnicode_KIND, PyUnicode_DATA, PyUnicode_READ, PyUnicode_GET_LENGTH,
                             PyUnicode_1BYTE_KIND)

COUNTS = ("chars", "cjk", "upper", "letter", "digit", "punct", "lower", "cjk_function", "capitalized",
          "sentences", "ends_punct", "words", "function_words")
_SIMPLE = COUNTS[1:8]  # classes counted as they are


cdef class _Classes:
    """CharClasses' table of class bits per code point, filled through it on first sight; the first 256
    looked up at once, for one-byte strings."""
    cdef unsigned int* table
    cdef object classes  # owns the table
    cdef unsigned int latin1[256]

    def __init__(self, classes):
        cdef unsigned int[::1] table = classes.table
        self.classes, self.table = classes, &table[0]
        for code in range(256):
            self.latin1[code] = _bits(self, code)


cdef inline unsigned int _bits(_Classes classes, Py_UCS4 code):
    cdef unsigned int bits = classes.table[code]
    if bits == 0xFFFFFFFF:  # CharClasses.UNKNOWN
        bits = classes.classes.bits_of(<unsigned int>code)  # a Py_UCS4 would reach Python as a str
    return bits


cdef inline unsigned int _bits_at(_Classes classes, int kind, void* data, Py_ssize_t i):
    """The class bits of character i of a str's data."""
    if kind == PyUnicode_1BYTE_KIND:
        return classes.latin1[(<unsigned char*>data)[i]]
    return _bits(classes, PyUnicode_READ(kind, data, i))


cdef inline Py_ssize_t _next_run(_Classes bits, unsigned int member, int kind, void* data, Py_ssize_t i,
                                 Py_ssize_t length, Py_ssize_t* end):
    """Where the next run of characters of class `member` from position i starts (length: none); its end
    goes to *end."""
    while i < length and not _bits_at(bits, kind, data, i) & member:
        i += 1
    end[0] = i
    while end[0] < length and _bits_at(bits, kind, data, end[0]) & member:
        end[0] += 1
    return i


cdef unsigned long long _FNV_START = 14695981039346656037ULL


cdef inline unsigned long long _hashed(unsigned long long h, Py_UCS4 c):
    return (h ^ <unsigned long long>c) * 1099511628211ULL  # FNV-1a over code points


cdef class StringTable:
    """str -> int, looked up by a span of a str's characters without making the span a str: a substring and a
    dict lookup for each word cost more than counting its characters. Open addressing over FNV-1a hashes;
    a hit compares the characters."""
    cdef object arrays  # own the memory below
    cdef unsigned long long* hashes  # 0: an empty slot
    cdef long long* values
    cdef int* starts
    cdef int* lengths
    cdef Py_UCS4* chars
    cdef Py_ssize_t mask
    cdef readonly Py_ssize_t longest  # characters of the longest string

    def __init__(self, mapping):
        cdef Py_ssize_t size = 8, slot
        while size < 2 * len(mapping):
            size *= 2
        keys = list(mapping)
        hashes, values = np.zeros(size, dtype=np.uint64), np.zeros(size, dtype=np.int64)
        starts, lengths = np.zeros(size, dtype=np.int32), np.zeros(size, dtype=np.int32)
        chars = np.array([ord(c) for key in keys for c in key] or [0], dtype=np.uint32)
        cdef unsigned long long h
        cdef Py_ssize_t at = 0
        for key in keys:
            h = _FNV_START
            for c in key:
                h = _hashed(h, ord(c))
            slot = (h | 1) & (size - 1)
            while hashes[slot]:
                slot = (slot + 1) & (size - 1)
            hashes[slot], values[slot], starts[slot], lengths[slot] = h | 1, mapping[key], at, len(key)
            at += len(key)
        self.arrays = (hashes, values, starts, lengths, chars)
        cdef unsigned long long[::1] hash_view = hashes
        cdef long long[::1] value_view = values
        cdef int[::1] start_view = starts, length_view = lengths
        cdef unsigned int[::1] char_view = chars
        self.hashes, self.values, self.starts, self.lengths = &hash_view[0], &value_view[0], &start_view[0], &length_view[0]
        self.chars, self.mask = <Py_UCS4*>&char_view[0], size - 1
        self.longest = max(map(len, keys), default=0)

    def get(self, str text, long long missing=-1):
        """The value of `text`, or `missing`."""
        return self.find(PyUnicode_KIND(text), PyUnicode_DATA(text), 0, PyUnicode_GET_LENGTH(text), missing)

    cdef inline long long find(self, int kind, void* data, Py_ssize_t start, Py_ssize_t end, long long missing):
        cdef unsigned long long h = _FNV_START
        cdef Py_ssize_t i, slot
        for i in range(start, end):
            h = _hashed(h, PyUnicode_READ(kind, data, i))
        h |= 1
        slot = h & self.mask
        while self.hashes[slot]:
            if self.hashes[slot] == h and self.lengths[slot] == end - start:
                for i in range(end - start):
                    if self.chars[self.starts[slot] + i] != PyUnicode_READ(kind, data, start + i):
                        break
                else:
                    return self.values[slot]
            slot = (slot + 1) & self.mask
        return missing


def _spread_table(classes: int, members: list) -> np.ndarray:
    """For each combination of class bits, the 64-bit number with 1 in byte k where member k is among them."""
    patterns = np.arange(1 << classes, dtype=np.uint64)
    table = np.zeros(len(patterns), dtype=np.uint64)
    for k, member in enumerate(members):
        table += ((patterns & np.uint64(member)) != 0).astype(np.uint64) << np.uint64(8 * k)
    return table


cdef inline void _add_bytes(long long* row, unsigned long long summed):
    """Move the per-byte counts of the simple classes into row[1:8]."""
    cdef int k
    for k in range(7):
        row[k + 1] += (summed >> (8 * k)) & 0xFF


def text_counts(list texts, list lowered, classes, StringTable stopwords):
    """Each of COUNTS -> an int64 array over `texts`; words and function words (`stopwords`, a StringTable of
    them) are counted in `lowered`, the texts lower-cased."""
    cdef _Classes bits = _Classes(classes)
    cdef dict mask = {name: 1 << k for k, name in enumerate(classes.names)}
    cdef Py_ssize_t k, t, i, j, length, n = len(texts), run
    # The simple classes are counted a byte each in one 64-bit sum: spread[bits] has 1 in byte k for the k-th
    # of _SIMPLE (at most 255 characters are summed before the bytes are moved out).
    cdef unsigned long long[::1] spread = _spread_table(len(classes.names), [mask[name] for name in _SIMPLE])
    cdef unsigned long long summed
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
        previous_word, last, summed, run = False, 0, 0, 0
        for i in range(length):
            b = _bits_at(bits, kind, data, i)
            summed += spread[b]
            run += 1
            if run == 255:
                _add_bytes(row, summed)
                summed, run = 0, 0
            if b & upper and not previous_word:
                row[8] += 1
            previous_word = (b & word) != 0
            # A stop ends a sentence before a space or at the block's end (the batch's separator is a space).
            if b & cjk_stop or (b & stop and (i + 1 == length or _bits_at(bits, kind, data, i + 1) & space)):
                row[9] += 1
            if not b & space:
                last = b
        _add_bytes(row, summed)
        row[10] = (last & closing) != 0
        text = lowered[t]
        kind, data, length = PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)
        i = _next_run(bits, token, kind, data, 0, length, &j)
        while i < length:
            row[11] += 1
            if j - i <= stopwords.longest and stopwords.find(kind, data, i, j, 0):
                row[12] += 1
            i = _next_run(bits, token, kind, data, j, length, &j)
        for k in range(13):
            out[k, t] = row[k]
    return dict(zip(COUNTS, counts))


cdef class LiteralFinder:
    """Where each of a fixed set of literals first starts in each text (text_features' cue sieve): an
    Aho-Corasick automaton over the literals, one table step per character however many literals there are.

    A literal may start with "^": found only at the text's first non-space character; "\\d" in it stands
    for any digit, and its other characters may be neither digits nor beyond the Basic Multilingual Plane."""
    cdef readonly tuple literals
    cdef _Classes bits
    cdef unsigned int digit, space
    cdef Py_ssize_t symbols
    cdef object arrays  # own the memory below
    cdef unsigned short* symbol_of  # code point below 0x10000 -> its symbol (0: none of the literals')
    cdef int* step  # state * symbols + symbol -> the next state
    cdef int* ends_from  # state -> where its run in `ends` starts (the literals that end there)
    cdef int* ends
    cdef int* length
    cdef unsigned char* anchored

    def __init__(self, literals, classes):
        self.literals = tuple(literals)
        self.bits = _Classes(classes)
        self.digit = 1 << classes.names.index("digit")
        self.space = 1 << classes.names.index("space")
        bodies = [_pieces(literal[1:] if literal.startswith("^") else literal) for literal in self.literals]
        for literal, body in zip(self.literals, bodies):
            if not body or any(piece != "\\d" and (ord(piece) > 0xFFFF or _bits(self.bits, ord(piece)) & self.digit)
                               for piece in body):
                raise ValueError(f"literal {literal!r}: empty, or a digit or a character beyond the Basic "
                                 "Multilingual Plane in it")
        # Symbols: 0 any other character, 1 a digit, then each character of the literals.
        symbol = {piece: k for k, piece in enumerate(sorted({p for body in bodies for p in body} - {"\\d"}), 2)}
        symbol["\\d"] = 1
        symbol_of = np.zeros(0x10000, dtype=np.uint16)
        for piece, k in symbol.items():
            if piece != "\\d":
                symbol_of[ord(piece)] = k
        for code in range(256):  # a one-byte text's characters are looked up here alone
            if _bits(self.bits, code) & self.digit:
                symbol_of[code] = 1
        step, ends = _automaton([[symbol[piece] for piece in body] for body in bodies], len(symbol) + 1)
        ends_from = np.cumsum([0] + [len(found) for found in ends], dtype=np.int32)
        ends = np.array([number for found in ends for number in found] or [0], dtype=np.int32)
        lengths = np.array([len(body) for body in bodies] or [0], dtype=np.int32)
        anchored = np.array([literal.startswith("^") for literal in self.literals] or [0], dtype=np.uint8)
        self.arrays = (symbol_of, step, ends_from, ends, lengths, anchored)
        cdef unsigned short[::1] symbol_view = symbol_of
        cdef int[:, ::1] step_view = step
        cdef int[::1] from_view = ends_from, ends_view = ends, length_view = lengths
        cdef unsigned char[::1] anchored_view = anchored
        self.symbol_of, self.step, self.symbols = &symbol_view[0], &step_view[0, 0], step.shape[1]
        self.ends_from, self.ends, self.length = &from_view[0], &ends_view[0], &length_view[0]
        self.anchored = &anchored_view[0]

    def first(self, list texts):
        """A texts x literals int32 array: where each literal first starts in each text, -1 where nowhere."""
        positions = np.full((len(texts), len(self.literals)), -1, dtype=np.int32)
        cdef int[:, ::1] out = positions
        cdef Py_ssize_t t
        if len(self.literals):
            for t in range(len(texts)):
                self._scan(texts[t], &out[t, 0])
        return positions

    cdef void _scan(self, str text, int* first):
        cdef int kind = PyUnicode_KIND(text)
        cdef void* data = PyUnicode_DATA(text)
        cdef Py_ssize_t length = PyUnicode_GET_LENGTH(text), i, start = 0
        cdef const unsigned char* bytes_ = <const unsigned char*>data
        cdef int state = 0
        cdef unsigned short symbol
        cdef Py_UCS4 c
        while start < length and _bits(self.bits, PyUnicode_READ(kind, data, start)) & self.space:
            start += 1
        if kind == PyUnicode_1BYTE_KIND:
            for i in range(length):
                state = self.step[state * self.symbols + self.symbol_of[bytes_[i]]]
                if self.ends_from[state + 1] != self.ends_from[state]:
                    self._mark(state, i, start, first)
            return
        for i in range(length):
            c = PyUnicode_READ(kind, data, i)
            symbol = self.symbol_of[c] if c < 0x10000 else 0
            if symbol == 0 and _bits(self.bits, c) & self.digit:
                symbol = 1
            state = self.step[state * self.symbols + symbol]
            if self.ends_from[state + 1] != self.ends_from[state]:
                self._mark(state, i, start, first)

    cdef inline void _mark(self, int state, Py_ssize_t i, Py_ssize_t start, int* first):
        """Note where the literals ending at character i start, those not found before."""
        cdef int k, number
        cdef Py_ssize_t begin
        for k in range(self.ends_from[state], self.ends_from[state + 1]):
            number = self.ends[k]
            begin = i + 1 - self.length[number]
            if first[number] < 0 and (not self.anchored[number] or begin == start):
                first[number] = begin


def _automaton(literals: list, symbols: int) -> tuple[np.ndarray, list]:
    """Aho-Corasick over literals given as lists of symbols: the table of next states (state x symbol; state 0
    the start), and for each state the literals (numbers) that end there."""
    children, ends = [{}], [[]]
    for number, literal in enumerate(literals):
        state = 0
        for symbol in literal:
            if symbol not in children[state]:
                children[state][symbol] = len(children)
                children.append({})
                ends.append([])
            state = children[state][symbol]
        ends[state].append(number)
    step = np.zeros((len(children), symbols), dtype=np.int32)
    fallback = [0] * len(children)  # the state of the longest proper suffix that is a prefix of a literal
    queue = deque([0])
    while queue:  # breadth first: a state's fallback is shallower, so done before it
        state = queue.popleft()
        if state:
            ends[state] = ends[state] + ends[fallback[state]]
        for symbol in range(symbols):
            child = children[state].get(symbol)
            if child is None:
                step[state, symbol] = step[fallback[state], symbol] if state else 0
            else:
                fallback[child] = step[fallback[state], symbol] if state else 0
                step[state, symbol] = child
                queue.append(child)
    return step, ends


def _pieces(literal):
    """A literal's characters, "\\d" as one piece."""
    pieces, i = [], 0
    while i < len(literal):
        step = 2 if literal.startswith("\\d", i) else 1
        pieces.append(literal[i:i + step])
        i += step
    return pieces


cdef list _known_in(str text, _Classes bits, unsigned int member, Py_ssize_t min_length, StringTable vocabulary):
    """The columns of the tokens of `text` (lower-cased) that `vocabulary` knows, in order: a token is a run
    of `min_length` or more characters of one CharClasses class (`member`)."""
    cdef Py_ssize_t i, j, length
    cdef long long column
    cdef list found = []
    text = text.lower()
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    length = PyUnicode_GET_LENGTH(text)
    i = _next_run(bits, member, kind, data, 0, length, &j)
    while i < length:
        if j - i >= min_length:
            column = vocabulary.find(kind, data, i, j, -1)
            if column >= 0:
                found.append(column)
        i = _next_run(bits, member, kind, data, j, length, &j)
    return found


def token_columns(list strings, classes, str token_class, Py_ssize_t min_length, StringTable vocabulary):
    """The tokens of `strings` that `vocabulary` knows, as (string number, column) arrays (_known_in)."""
    cdef _Classes bits = _Classes(classes)
    cdef unsigned int member = 1 << classes.names.index(token_class)
    owners, columns = [], []
    for t in range(len(strings)):
        found = _known_in(strings[t], bits, member, min_length, vocabulary)
        owners += [t] * len(found)
        columns += found
    return np.array(owners, dtype=np.int64), np.array(columns, dtype=np.int64)


def token_evidence(list strings, classes, str token_class, Py_ssize_t min_length, StringTable vocabulary,
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


cdef bint _same_head(str text, str lowered, Py_ssize_t chars):
    """Whether the first `chars` characters of `lowered` (text_features.lowered_lines of `text`) are those of
    `text` cut there and lower-cased."""
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(text), i, end = min(length, chars)
    cdef int kind = PyUnicode_KIND(text)
    cdef void* data = PyUnicode_DATA(text)
    if PyUnicode_GET_LENGTH(lowered) != length:
        return False
    for i in range(end):
        if PyUnicode_READ(kind, data, i) == 10:  # "\n": lowered_lines made it a space
            return False
    return not (0 < chars < length and PyUnicode_READ(kind, data, chars - 1) == 0x3A3)  # "Σ"


def line_keys(list texts, list lowered, classes, Py_ssize_t chars, const unsigned char[::1] short,
              const unsigned char[::1] shaped):
    """text_features.line_keys' keys as 64-bit hashes, 0 for none: a line's shape (its first `chars` characters
    lower-cased, runs of digits as "0", spaces at the ends dropped), and for short lines the shape's first and
    last word (split at " "). `lowered` (or None) holds the texts lower-cased as text_features.lowered_lines does:
    where that kept a text's length, each character became one, so its first `chars` are those of the lowered
    text, unless they held a line break (a space there) or end in a capital sigma (lower-cased as a word's end
    when cut there)."""
    cdef _Classes bits = _Classes(classes)
    cdef unsigned int digit = 1 << classes.names.index("digit"), space = 1 << classes.names.index("space")
    cdef Py_ssize_t n = len(texts), t, start, end, i, first_space, last_space
    cdef int kind
    cdef void* data
    cdef str head
    keys = np.zeros((3, n), dtype=np.uint64)
    cdef unsigned long long[:, ::1] out = keys
    for t in range(n):
        if lowered is not None and _same_head(texts[t], lowered[t], chars):
            head = lowered[t]
        else:
            head = (<str>texts[t])[:chars].lower()
        kind, data, end = PyUnicode_KIND(head), PyUnicode_DATA(head), min(PyUnicode_GET_LENGTH(head), chars)
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
