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


@lru_cache(maxsize=200_000)
def coauthor_key(printed: str) -> str:
    """The exact key of a printed coauthor name (coauthor_keys' first)."""
    return coauthor_keys(printed)[0]


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
    """Hashed counts of author entries per full name, first name and surname, and how varied
    each name part is: the number of distinct first names printed with a surname and of distinct
    surnames printed with a first name. Variety, unlike entry counts, is not inflated by one
    prolific person: "Jurafsky" comes with 2 first names, "Wang" with 1,493."""

    full: np.ndarray
    first: np.ndarray
    last: np.ndarray
    first_variety: np.ndarray
    last_variety: np.ndarray
    distinct_names: int = 1

    @classmethod
    def build(cls, names: Iterable[tuple[str, str]]) -> "NameStats":
        full = np.zeros(_BUCKETS_FULL, dtype=np.int64)
        first = np.zeros(_BUCKETS_PART, dtype=np.int64)
        last = np.zeros(_BUCKETS_PART, dtype=np.int64)
        first_variety = np.zeros(_BUCKETS_PART, dtype=np.int64)
        last_variety = np.zeros(_BUCKETS_PART, dtype=np.int64)
        seen: set[tuple[str, str]] = set()
        for f, la in names:
            nf, nl = norm(f), norm(la)
            full[_bucket(f"{nf} {nl}".strip(), _BUCKETS_FULL)] += 1
            if nf:
                first[_bucket(nf, _BUCKETS_PART)] += 1
            last[_bucket(nl, _BUCKETS_PART)] += 1
            if (nf, nl) not in seen:
                seen.add((nf, nl))
                if nf:
                    first_variety[_bucket(nf, _BUCKETS_PART)] += 1
                last_variety[_bucket(nl, _BUCKETS_PART)] += 1
        cap = np.iinfo(np.uint16).max

        def small(a: np.ndarray) -> np.ndarray:
            return np.minimum(a, cap).astype(np.uint16)

        return cls(
            full=small(full),
            first=small(first),
            last=small(last),
            first_variety=small(first_variety),
            last_variety=small(last_variety),
            distinct_names=max(len(seen), 1),
        )

    def full_count(self, key: str) -> int:
        return int(self.full[_bucket(key, len(self.full))])

    def first_count(self, nf: str) -> int:
        return int(self.first[_bucket(nf, len(self.first))]) if nf else 0

    def last_count(self, nl: str) -> int:
        return int(self.last[_bucket(nl, len(self.last))])

    def namesakes(self, nf: str, nl: str) -> float:
        """Expected number of distinct names printing this first name and surname if the two
        met at random among the distinct names: a prior on how many people share it."""
        fv = int(self.first_variety[_bucket(nf, len(self.first_variety))]) if nf else 0
        lv = int(self.last_variety[_bucket(nl, len(self.last_variety))])
        return max(fv, 1) * max(lv, 1) / self.distinct_names

    def variety(self, nf: str, nl: str) -> tuple[int, int]:
        """(distinct surnames with this first name, distinct first names with this surname)."""
        fv = int(self.first_variety[_bucket(nf, len(self.first_variety))]) if nf else 0
        return fv, int(self.last_variety[_bucket(nl, len(self.last_variety))])
