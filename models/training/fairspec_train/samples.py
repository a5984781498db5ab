"""Text samples from a checkpoint, for the model card."""
from __future__ import annotations

import torch

from .model import EOS_ID, GPT


@torch.no_grad()
def sample(model: GPT, prompt: str, max_bytes: int, temperature: float, seed: int) -> str:
    gen = torch.Generator().manual_seed(seed)
    ids = list(prompt.encode("utf-8"))
    out: list[int] = []
    device = next(model.parameters()).device
    for _ in range(max_bytes):
        x = torch.tensor([(ids + out)[-model.cfg.n_positions:]], device=device)
        logits = model(x)[0][0, -1].float().cpu()
        if temperature == 0:
            nxt = int(logits.argmax())
        else:
            nxt = int(torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=gen))
        if nxt == EOS_ID:
            break
        out.append(nxt)
    return bytes(out).decode("utf-8", errors="replace")
