"""Verifier outputs used as distillation targets."""
from __future__ import annotations

import torch

from .model import GPT


@torch.no_grad()
def teacher_logprobs(verifier: GPT, windows: torch.Tensor, chunk: int = 8) -> torch.Tensor:
    """log p for every next-byte position of `windows` [n, L+1] -> [n, L, vocab] (float16 on CPU
    to keep a pool of a million positions in a few hundred MB)."""
    out = []
    for i in range(0, windows.shape[0], chunk):
        logits, _ = verifier(windows[i: i + chunk, :-1])
        out.append(torch.log_softmax(logits.float(), dim=-1).half().cpu())
    return torch.cat(out)
