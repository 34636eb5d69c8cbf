"""How the app writes a probability: to the precision it means, never claiming certainty it does not have."""

from __future__ import annotations


def percent(p: float, decimals: int = 1) -> str:
    """`p` as a percentage with `decimals` decimals; a value that would round to 100% (or to 0% without being 0)
    says "> 99.9%" ("< 0.1%") instead: a network's softmax is never certain, and a learner reads 100.0% as "cannot
    be wrong"."""
    step = 10.0 ** -decimals / 100  # the smallest change the shown number resolves
    if p >= 1 - step / 2:
        return f"> {100 - 100 * step:.{decimals}f}%"
    if 0 < p < step / 2:
        return f"< {100 * step:.{decimals}f}%"
    return f"{p:.{decimals}%}"
