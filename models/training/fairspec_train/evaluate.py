"""Per-language drafter-verifier statistics on held-out text.

For every scored position s: verifier p(.|s), drafter q(.|s); exact acceptance
alpha = sum_x min(p, q) (acceptance of sampled speculative decoding), greedy agreement
[argmax q == argmax p] (acceptance of greedy speculative decoding), cross-entropy
K = -sum_x p log q, KL = K - H(p), and both models' bits per byte. Windows of the model context with a stride, so every scored
position after the first window has at least (ctx - stride) bytes of context.
"""
from __future__ import annotations

import statistics

import numpy as np
import torch

from .losses import acceptance_rate, cross_entropy_to_teacher
from .model import GPT
from .verifier_samples import continue_with_verifier, sampled_positions

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
    device = next(verifier.parameters()).device
    ctx = verifier.cfg.n_positions
    scores = Scores(drafters)
    for window, first in windows(ids, ctx, stride):
        x = torch.tensor([window[:-1]], device=device)
        y = torch.tensor(window[1:], device=device)[first:]
        vlogits, _ = verifier(x)
        logp = torch.log_softmax(vlogits[0, first:].float(), -1)  # [n, vocab]
        scores.add(x, logp, y, lambda d: d[0, first:])
    return {"bytes": len(ids), **scores.result()}


def served_windows(text: str, verifier: GPT, prompts: int, prompt_bytes: int, n_bytes: int, temperature: float,
                   seed: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """`prompts` prompts of prompt_bytes evenly spaced through `text`, each continued by n_bytes
    the verifier samples: windows [prompts, P + n_bytes] and the positions a server drafts at
    (sampled_positions), both on the verifier's device; None if the text is shorter than a prompt."""
    ids = list(text.encode("utf-8"))
    if len(ids) < prompt_bytes:
        return None
    device = next(verifier.parameters()).device
    starts = np.linspace(0, len(ids) - prompt_bytes, num=prompts).astype(int)
    seqs = continue_with_verifier(verifier, torch.tensor([ids[s: s + prompt_bytes] for s in starts]), n_bytes, temperature, seed)
    return seqs.to(device), sampled_positions(seqs, prompt_bytes).to(device)


@torch.no_grad()
def score_samples(text: str, verifier: GPT, drafters: dict[str, GPT], prompts: int, prompt_bytes: int,
                  n_bytes: int, temperature: float, seed: int) -> dict | None:
    """The same statistics where a server drafts (served_windows): only positions that predict a
    sampled byte are scored, none after a sampled end-of-text."""
    served = served_windows(text, verifier, prompts, prompt_bytes, n_bytes, temperature, seed)
    if served is None:
        return None
    seqs, mask = served
    x, y = seqs[:, :-1], seqs[:, 1:]
    logp = torch.log_softmax(verifier(x)[0].float(), -1)[mask]  # [scored, vocab]
    scores = Scores(drafters)
    scores.add(x, logp, y[mask], lambda d: d[mask])
    return {"bytes": prompts * prompt_bytes, **scores.result()}


class Scores:
    """Sums of the per-position statistics of every drafter against the verifier."""

    def __init__(self, drafters: dict[str, GPT]):
        self.drafters = drafters
        self.n, self.v_nll, self.v_ent = 0, 0.0, 0.0
        self.per = {name: {"alpha": 0.0, "greedy": 0.0, "k": 0.0, "nll": 0.0} for name in drafters}

    def add(self, x, logp, y, scored):
        """x: drafter input; logp [n, vocab]: verifier log-probs at the scored positions; y [n]:
        the bytes that followed; scored(logits) picks the scored positions out of drafter logits."""
        self.n += y.numel()
        self.v_nll += -logp.gather(1, y[:, None]).sum().item()
        self.v_ent += -(logp.exp() * logp).sum().item()
        for name, drafter in self.drafters.items():
            dlogits = scored(drafter(x)[0]).float()
            s = self.per[name]
            s["alpha"] += acceptance_rate(dlogits, logp).sum().item()
            s["greedy"] += (dlogits.argmax(-1) == logp.argmax(-1)).sum().item()
            s["k"] += cross_entropy_to_teacher(dlogits, logp).sum().item()
            s["nll"] += -torch.log_softmax(dlogits, -1).gather(1, y[:, None]).sum().item()

    def result(self) -> dict:
        n = max(1, self.n)
        entropy = self.v_ent / n
        out = {"positions": self.n, "verifier_bits_per_byte": self.v_nll / n / LN2, "verifier_entropy_nats": entropy, "drafters": {}}
        for name, s in self.per.items():
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


def evaluate_samples(texts: dict[str, str], verifier: GPT, drafters: dict[str, GPT], prompts: int, prompt_bytes: int,
                     n_bytes: int, temperature: float, seed: int) -> dict:
    verifier.eval()
    for d in drafters.values():
        d.eval()
    out = {}
    for i, (lang, text) in enumerate(sorted(texts.items())):
        scored = score_samples(text, verifier, drafters, prompts, prompt_bytes, n_bytes, temperature, seed + i)
        if scored is not None:
            out[lang] = scored
    return out


@torch.no_grad()
def teacher_windows(texts: dict[str, str], verifier: GPT, max_bytes: int, stride: int) -> dict:
    """The verifier's log-probs on every scored position of reference text, once, for scoring
    many drafters: {lang: [(input [1, n], counted positions [1, n], log p [1, n, vocab])]} on the
    verifier's device."""
    device = next(verifier.parameters()).device
    out = {}
    for lang, text in sorted(texts.items()):
        ids = list(text.encode("utf-8"))[:max_bytes]
        rows = []
        for window, first in windows(ids, verifier.cfg.n_positions, stride):
            x = torch.tensor([window[:-1]], device=device)
            mask = torch.arange(x.shape[1], device=device).unsqueeze(0) >= first
            rows.append((x, mask, torch.log_softmax(verifier(x)[0].float(), -1)))
        out[lang] = rows
    return out


@torch.no_grad()
def teacher_samples(texts: dict[str, str], verifier: GPT, prompts: int, prompt_bytes: int, n_bytes: int,
                    temperature: float, seed: int) -> dict:
    """Like teacher_windows, on the contexts of serving (served_windows, one seed per language)."""
    out = {}
    for i, (lang, text) in enumerate(sorted(texts.items())):
        served = served_windows(text, verifier, prompts, prompt_bytes, n_bytes, temperature, seed + i)
        if served is not None:
            seqs, mask = served
            inp = seqs[:, :-1]
            out[lang] = [(inp, mask, torch.log_softmax(verifier(inp)[0].float(), -1))]
    return out


@torch.no_grad()
def drafter_fit(cached: dict, drafter: GPT) -> dict:
    """Per language: mean alpha and mean cross-entropy K (nats) of `drafter` against the cached
    verifier outputs (teacher_windows or teacher_samples), and over languages U = Var_L(K_L),
    the mean alpha and the worst language's alpha."""
    was_training = drafter.training
    drafter.eval()
    per = {}
    for lang, rows in cached.items():
        alpha = k = n = 0.0
        for x, mask, logp in rows:
            dlogits = drafter(x)[0].float()
            alpha += (acceptance_rate(dlogits, logp) * mask).sum().item()
            k += (cross_entropy_to_teacher(dlogits, logp) * mask).sum().item()
            n += mask.sum().item()
        per[lang] = {"alpha": alpha / max(1.0, n), "cross_entropy_nats": k / max(1.0, n)}
    drafter.train(was_training)
    worst = min(per, key=lambda l: per[l]["alpha"])
    return {"U": population_variance([v["cross_entropy_nats"] for v in per.values()]),
            "mean_alpha": statistics.fmean(v["alpha"] for v in per.values()),
            "worst_alpha": per[worst]["alpha"], "worst_language": worst, "languages": per}
