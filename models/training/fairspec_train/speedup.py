"""Expected speed-up of speculative decoding (Leviathan et al., arXiv 2211.17192, Thm 3.8),
with the verifier's own cost growth: one pass over gamma + 1 tokens costs v(gamma) times a
one-token pass (measured; v = 1 is the paper's memory-bound idealisation)."""
from __future__ import annotations

from typing import Callable

VerifyCost = Callable[[int], float]


def expected_tokens(alpha: float, gamma: int) -> float:
    """Tokens per verifier pass: (1 - alpha^(gamma+1)) / (1 - alpha)."""
    if alpha >= 1.0:
        return gamma + 1.0
    return (1.0 - alpha ** (gamma + 1)) / (1.0 - alpha)


def speedup(alpha: float, gamma: int, c: float, v: float = 1.0) -> float:
    """Wall-clock speed-up over plain decoding; c = drafter/verifier cost per token,
    v = cost of verifying gamma + 1 tokens relative to one."""
    return expected_tokens(alpha, gamma) / (gamma * c + v)


def best_gamma(alpha: float, c: float, gamma_max: int = 8, verify_cost: VerifyCost | None = None) -> tuple[int, float]:
    """gamma* in 0..gamma_max and its speed-up; 0 (plain decoding, S = 1) when nothing pays."""
    best = (0, 1.0)
    for gamma in range(1, gamma_max + 1):
        s = speedup(alpha, gamma, c, verify_cost(gamma) if verify_cost else 1.0)
        if s > best[1]:
            best = (gamma, s)
    return best


def measured_verify_cost(median_ms_by_tokens: dict) -> VerifyCost:
    """v(gamma) from a timing table {tokens: ms}: linear between measured sizes, extended with
    the last measured slope beyond them, never below 1."""
    points = sorted((int(k), float(ms)) for k, ms in median_ms_by_tokens.items())
    one = dict(points).get(1)
    if one is None or one <= 0:
        raise ValueError("timing table needs a one-token time")

    def v(gamma: int) -> float:
        n = gamma + 1
        lo = max((p for p in points if p[0] <= n), default=points[0])
        hi = min((p for p in points if p[0] >= n), default=points[-1])
        if lo[0] == hi[0]:
            if n > points[-1][0] and len(points) > 1:
                (a, ma), (b, mb) = points[-2], points[-1]
                ms = mb + (mb - ma) / (b - a) * (n - b)
            else:
                ms = lo[1]
        else:
            ms = lo[1] + (hi[1] - lo[1]) * (n - lo[0]) / (hi[0] - lo[0])
        return max(1.0, ms / one)
    return v
