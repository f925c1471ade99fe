"""Count characters and regex matches per string over a whole batch of strings at once.

Running ~20 regexes block by block cost more than parsing the pages. Here the strings are joined with
"\\n" into one string: character classes are looked up per code point in a table made once per batch
(numpy does the counting), and each pattern scans the joined string once, matches being assigned to
their string by position. Patterns must not match across the separator: in `one_line` patterns
`\\s` never matches "\\n", and `^`/`$` hold at each string's start and end (re.MULTILINE).
"""

from __future__ import annotations

import re

import numpy as np

SEPARATOR = "\n"
_SPACE_NOT_SEPARATOR = r"[^\S\n]"


def one_line(pattern: str, flags: int = 0) -> re.Pattern:
    """Compile a pattern for a joined string: `\\s` stays inside one string, `^`/`$` bound each string.

    The pattern must not use `\\s` inside a character class (`[...]`), where the rewrite would not parse.
    """
    return re.compile(pattern.replace(r"\s", _SPACE_NOT_SEPARATOR), flags | re.MULTILINE)


class CharClasses:
    """Which code points belong to which named regex character class; answers are kept across batches."""

    UNKNOWN = 0xFFFFFFFF  # in `table`: not looked up yet

    def __init__(self, classes: dict[str, str]):
        self.names = list(classes)
        self._patterns = [re.compile(pattern) for pattern in classes.values()]
        self.table = np.full(0x110000, self.UNKNOWN, dtype=np.uint32)  # code point -> class bits

    def bits_of(self, code: int) -> int:
        """The class bits of a code point (bit k: in class k), looked up once and kept in `table`."""
        bits = int(self.table[code])
        if bits == self.UNKNOWN:
            char = chr(code)
            bits = sum(1 << k for k, pattern in enumerate(self._patterns) if pattern.fullmatch(char))
            self.table[code] = bits
        return bits

    def flags(self, codes: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
        """Name -> boolean array over `codes`, for the classes `names` (default: all)."""
        bits = self.table[codes]
        unknown = bits == self.UNKNOWN
        if unknown.any():
            for code in np.unique(codes[unknown]):
                self.bits_of(int(code))
            bits = self.table[codes]
        return {name: (bits & (1 << k)) != 0 for k, name in enumerate(self.names) if names is None or name in names}


class Joined:
    """A batch of strings as one string, with the arrays that map a position back to its string."""

    def __init__(self, joined: str):
        self.string = joined
        self.codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        self.ends = np.flatnonzero(self.codes == ord(SEPARATOR))  # the separator after each string
        self.count = len(self.ends)
        self.lengths = np.diff(self.ends, prepend=-1) - 1
        self.owner = np.repeat(np.arange(self.count), self.lengths + 1)  # string of each position

    @classmethod
    def of(cls, texts) -> Joined:
        return cls("".join(text.replace(SEPARATOR, " ") + SEPARATOR for text in texts))

    def lower(self) -> Joined:
        return Joined(self.string.lower())  # lowering may change lengths, so positions are found anew

    def per_string(self, positions: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Sum over positions (or their weights) for each string."""
        return np.bincount(self.owner[positions], weights=weights, minlength=self.count)

    def count_chars(self, flags: np.ndarray) -> np.ndarray:
        return self.per_string(np.flatnonzero(flags))

    def count_matches(self, pattern: re.Pattern) -> np.ndarray:
        """Matches of `pattern` in each string."""
        starts = np.fromiter((match.start() for match in pattern.finditer(self.string)), dtype=np.int64)
        return self.per_string(starts)

    def previous(self, flags: np.ndarray) -> np.ndarray:
        """flags shifted one position right: the flag of the character before (False at the start)."""
        return np.concatenate([[False], flags[:-1]])

    def next(self, flags: np.ndarray) -> np.ndarray:
        return np.concatenate([flags[1:], [False]])

    def last_nonspace(self, space: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """For each string: is its last non-space character flagged (False for an all-space string)."""
        kept = np.flatnonzero(~space)
        owners = self.owner[kept]
        last = kept[np.r_[owners[1:] != owners[:-1], True]] if len(kept) else kept
        result = np.zeros(self.count, dtype=bool)
        result[self.owner[last]] = flags[last]
        return result
