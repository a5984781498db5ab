"""Contexts the drafter meets when serving: a prompt, then the verifier's own sampled bytes.

Live, every draft continues text the verifier sampled, not reference text; a drafter fitted
only on reference text can agree with the verifier there and less on its samples. These
helpers build such windows (prompt + continuation sampled from the verifier, KV cache reused
step by step) and the mask of positions a server would draft at: every position up to and
including the one that predicts the first end-of-text, none after it (the request has ended).
"""
from __future__ import annotations

import torch

from .model import EOS_ID, GPT


@torch.no_grad()
def continue_with_verifier(verifier: GPT, prompts: torch.Tensor, n_bytes: int, temperature: float,
                           seed: int, chunk: int = 256) -> torch.Tensor:
    """prompts int64 [n, P] -> [n, P + n_bytes]: each prompt followed by n_bytes sampled from
    the verifier at `temperature` (> 0). Runs on the verifier's device; returns a CPU tensor."""
    if temperature <= 0:
        raise ValueError("continue_with_verifier samples: temperature must be > 0")
    if prompts.shape[1] + n_bytes > verifier.cfg.n_positions:
        raise ValueError(f"prompt {prompts.shape[1]} + {n_bytes} bytes exceeds the context {verifier.cfg.n_positions}")
    device = next(verifier.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    was_training = verifier.training
    verifier.eval()
    out = []
    for i in range(0, prompts.shape[0], chunk):
        x = prompts[i: i + chunk].to(device)
        logits, past = verifier(x)
        seq = [x]
        for _ in range(n_bytes):
            probs = torch.softmax(logits[:, -1].float() / temperature, dim=-1)
            nxt = torch.multinomial(probs, 1, generator=gen)
            seq.append(nxt)
            logits, past = verifier(nxt, past_key_values=past)
        out.append(torch.cat(seq, dim=1).cpu())
    verifier.train(was_training)
    return torch.cat(out)


def drafting_mask(windows: torch.Tensor, prompt_bytes: int) -> torch.Tensor:
    """windows [n, L+1] (prompt of prompt_bytes, then sampled bytes) -> bool [n, L]: position t
    (predicting byte t+1) counts unless an end-of-text was already sampled at or before t."""
    sampled_eos = torch.zeros_like(windows, dtype=torch.bool)
    sampled_eos[:, prompt_bytes:] = windows[:, prompt_bytes:] == EOS_ID
    ended_before = torch.cumsum(sampled_eos.long(), dim=1)[:, :-1] > 0  # EOS at index <= t
    return ~ended_before


def sampled_positions(windows: torch.Tensor, prompt_bytes: int) -> torch.Tensor:
    """Like drafting_mask, restricted to positions whose target is a sampled byte (t >= P-1):
    where a server drafts, the prompt being given."""
    mask = drafting_mask(windows, prompt_bytes)
    mask[:, : prompt_bytes - 1] = False
    return mask
