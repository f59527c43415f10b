"""Kubernetes resource quantities (`500m`, `128Gi`, `1e3`) as exact fractions, enough to compare and sum them."""
from fractions import Fraction

_SUFFIX = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
           "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
           "P": Fraction(10**15), "E": Fraction(10**18),
           "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30), "Ti": Fraction(2**40),
           "Pi": Fraction(2**50), "Ei": Fraction(2**60)}


def parse(q) -> Fraction:
    """A quantity as a Fraction; raises ValueError on anything the API server would reject."""
    if isinstance(q, (int, float)):
        return Fraction(q)
    s = str(q).strip()
    for suffix in sorted(_SUFFIX, key=len, reverse=True):
        if suffix and s.endswith(suffix):
            return Fraction(s[:-len(suffix)]) * _SUFFIX[suffix]
    if "e" in s.lower():
        base, _, exp = s.lower().partition("e")
        return Fraction(base) * Fraction(10) ** int(exp)
    return Fraction(s)


def fmt(v: Fraction) -> str:
    """Short human form for messages: whole numbers plain, else millis."""
    if v.denominator == 1:
        return str(v.numerator)
    return f"{float(v * 1000):g}m"
