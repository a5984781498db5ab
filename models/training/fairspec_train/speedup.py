"""Expected speed-up of speculative decoding (Leviathan et al., arXiv 2211.17192, Thm 3.8)."""
from __future__ import annotations


def expected_tokens(alpha: float, gamma: int) -> float:
    """Tokens per verifier pass: (1 - alpha^(gamma+1)) / (1 - alpha)."""
    if alpha >= 1.0:
        return gamma + 1.0
    return (1.0 - alpha ** (gamma + 1)) / (1.0 - alpha)


def speedup(alpha: float, gamma: int, c: float) -> float:
    """Wall-clock speed-up over plain decoding; c = drafter/verifier cost per token."""
    return expected_tokens(alpha, gamma) / (gamma * c + 1.0)


def best_gamma(alpha: float, c: float, gamma_max: int = 8) -> tuple[int, float]:
    """gamma* in 0..gamma_max and its speed-up; 0 (plain decoding, S = 1) when nothing pays."""
    best = (0, 1.0)
    for gamma in range(1, gamma_max + 1):
        s = speedup(alpha, gamma, c)
        if s > best[1]:
            best = (gamma, s)
    return best
