"""Name normalisation and how common a name is in the Anthology.

The counts are hashed into fixed-size arrays so that the model artifact stays small and holds no
list of people: a count says "how many author entries print this name", nothing about who they are.
"""

import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=200_000)
def norm(text: str | None) -> str:
    """Lower-case, strip accents and punctuation: "Dağ-Öz" -> "dag oz"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", ascii_text.lower()).strip()


def full_key(first: str | None, last: str | None) -> str:
    return f"{norm(first)} {norm(last)}".strip()


def split_printed(name: str) -> tuple[str, str]:
    """Split a printed coauthor name "Doo Soon Kim" into (first, last) on the last space."""
    name = name.strip()
    if " " not in name:
        return "", name
    first, last = name.rsplit(" ", 1)
    return first, last


@lru_cache(maxsize=200_000)
def coauthor_keys(printed: str) -> tuple[str, str]:
    """(exact key, initial+surname key) of a printed coauthor name."""
    first, last = split_printed(printed)
    nf, nl = norm(first), norm(last)
    return f"{nf} {nl}".strip(), f"{nf[:1]} {nl}".strip()


def first_compatibility(a: str, b: str) -> int:
    """2: same normalised first name; 1: compatible (initials, prefix); 0: different."""
    if a == b:
        return 2
    if not a or not b:
        return 1
    ta, tb = a.split(), b.split()
    if not ta or not tb:
        return 1
    if ta[0][0] != tb[0][0]:
        return 0
    # "j" vs "john", "j m" vs "john michael", "jian" vs "jian ming"
    short, long_ = (ta, tb) if len(" ".join(ta)) <= len(" ".join(tb)) else (tb, ta)
    if all(len(t) == 1 for t in short) or "".join(long_).startswith("".join(short)):
        return 1
    return 0


_BUCKETS_FULL = 1 << 20
_BUCKETS_PART = 1 << 18


def _bucket(key: str, size: int) -> int:
    return zlib.crc32(key.encode()) % size


@dataclass
class NameStats:
    """Hashed counts of author entries per full name, first name and surname."""

    full: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def build(cls, names: Iterable[tuple[str, str]]) -> "NameStats":
        full = np.zeros(_BUCKETS_FULL, dtype=np.int64)
        first = np.zeros(_BUCKETS_PART, dtype=np.int64)
        last = np.zeros(_BUCKETS_PART, dtype=np.int64)
        for f, la in names:
            nf, nl = norm(f), norm(la)
            full[_bucket(f"{nf} {nl}".strip(), _BUCKETS_FULL)] += 1
            if nf:
                first[_bucket(nf, _BUCKETS_PART)] += 1
            last[_bucket(nl, _BUCKETS_PART)] += 1
        cap = np.iinfo(np.uint16).max
        return cls(
            full=np.minimum(full, cap).astype(np.uint16),
            first=np.minimum(first, cap).astype(np.uint16),
            last=np.minimum(last, cap).astype(np.uint16),
        )

    def full_count(self, key: str) -> int:
        return int(self.full[_bucket(key, len(self.full))])

    def first_count(self, nf: str) -> int:
        return int(self.first[_bucket(nf, len(self.first))]) if nf else 0

    def last_count(self, nl: str) -> int:
        return int(self.last[_bucket(nl, len(self.last))])
