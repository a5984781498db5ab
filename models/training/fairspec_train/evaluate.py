"""Per-language drafter-verifier statistics on held-out text.

For every scored position s: verifier p(.|s), drafter q(.|s); exact acceptance
alpha = sum_x min(p, q) (acceptance of sampled speculative decoding), greedy agreement
[argmax q == argmax p] (acceptance of greedy speculative decoding), cross-entropy
K = -sum_x p log q, KL = K - H(p), and both models' bits per byte. Windows of the model context with a stride, so every scored
position after the first window has at least (ctx - stride) bytes of context.
"""
from __future__ import annotations

import statistics

import torch

from .losses import acceptance_rate, cross_entropy_to_teacher
from .model import GPT

LN2 = 0.6931471805599453


def windows(ids: list[int], ctx: int, stride: int):
    """Yields (window, first_scored_index) covering every position once."""
    start = 0
    while True:
        window = ids[start: start + ctx + 1]
        if len(window) < 2:
            return
        yield window, 0 if start == 0 else ctx - stride
        if start + ctx + 1 >= len(ids):
            return
        start += stride


@torch.no_grad()
def score_language(text: str, verifier: GPT, drafters: dict[str, GPT], max_bytes: int, stride: int) -> dict:
    ids = list(text.encode("utf-8"))[:max_bytes]
    ctx = verifier.cfg.n_positions
    sums = {"n": 0, "v_nll": 0.0, "v_ent": 0.0}
    per = {name: {"alpha": 0.0, "greedy": 0.0, "k": 0.0, "nll": 0.0} for name in drafters}
    for window, first in windows(ids, ctx, stride):
        x = torch.tensor([window[:-1]])
        y = torch.tensor(window[1:])[first:]
        vlogits, _ = verifier(x)
        logp = torch.log_softmax(vlogits[0, first:].float(), -1)  # [n, vocab]
        sums["n"] += y.numel()
        sums["v_nll"] += -logp.gather(1, y[:, None]).sum().item()
        sums["v_ent"] += -(logp.exp() * logp).sum().item()
        for name, drafter in drafters.items():
            dlogits = drafter(x)[0][0, first:].float()
            per[name]["alpha"] += acceptance_rate(dlogits, logp).sum().item()
            per[name]["greedy"] += (dlogits.argmax(-1) == logp.argmax(-1)).sum().item()
            per[name]["k"] += cross_entropy_to_teacher(dlogits, logp).sum().item()
            per[name]["nll"] += -torch.log_softmax(dlogits, -1).gather(1, y[:, None]).sum().item()
    n = max(1, sums["n"])
    entropy = sums["v_ent"] / n
    out = {"bytes": len(ids), "positions": sums["n"], "verifier_bits_per_byte": sums["v_nll"] / n / LN2,
           "verifier_entropy_nats": entropy, "drafters": {}}
    for name, s in per.items():
        out["drafters"][name] = {"alpha": s["alpha"] / n, "greedy_agreement": s["greedy"] / n, "cross_entropy_nats": s["k"] / n,
                                 "kl_nats": s["k"] / n - entropy, "drafter_bits_per_byte": s["nll"] / n / LN2}
    return out


def population_variance(xs: list[float]) -> float:
    return statistics.pvariance(xs) if len(xs) > 1 else 0.0


def evaluate_set(texts: dict[str, str], verifier: GPT, drafters: dict[str, GPT], max_bytes: int, stride: int) -> dict:
    verifier.eval()
    for d in drafters.values():
        d.eval()
    return {lang: score_language(text, verifier, drafters, max_bytes, stride) for lang, text in sorted(texts.items())}


@torch.no_grad()
def teacher_windows(texts: dict[str, str], verifier: GPT, max_bytes: int, stride: int) -> dict:
    """The verifier's log-probs on every scored position, once, for scoring many drafters:
    {lang: [(input [1, n] on the verifier's device, first scored index, log p [scored, vocab])]}."""
    device = next(verifier.parameters()).device
    out = {}
    for lang, text in sorted(texts.items()):
        ids = list(text.encode("utf-8"))[:max_bytes]
        rows = []
        for window, first in windows(ids, verifier.cfg.n_positions, stride):
            x = torch.tensor([window[:-1]], device=device)
            rows.append((x, first, torch.log_softmax(verifier(x)[0][0, first:].float(), -1)))
        out[lang] = rows
    return out


@torch.no_grad()
def drafter_fit(cached: dict, drafter: GPT) -> dict:
    """Per language: mean alpha and mean cross-entropy K (nats) of `drafter` against the cached
    verifier outputs, and over languages U = Var_L(K_L) and the mean alpha."""
    was_training = drafter.training
    drafter.eval()
    per = {}
    for lang, rows in cached.items():
        alpha = k = n = 0.0
        for x, first, logp in rows:
            dlogits = drafter(x)[0][0, first:].float()
            alpha += acceptance_rate(dlogits, logp).sum().item()
            k += cross_entropy_to_teacher(dlogits, logp).sum().item()
            n += logp.shape[0]
        per[lang] = {"alpha": alpha / max(1.0, n), "cross_entropy_nats": k / max(1.0, n)}
    drafter.train(was_training)
    return {"U": population_variance([v["cross_entropy_nats"] for v in per.values()]),
            "mean_alpha": statistics.fmean(v["alpha"] for v in per.values()), "languages": per}
