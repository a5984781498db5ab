"""Distillation losses and the s-CDF task weights."""
from __future__ import annotations

import torch


def cross_entropy_to_teacher(student_logits: torch.Tensor, teacher_logp: torch.Tensor) -> torch.Tensor:
    """K = -sum_x p(x) log q(x) per position, in nats. [..., vocab] -> [...].
    Equals KL(p || q) + H(p); H(p) has no gradient w.r.t. the drafter, so minimising K
    is forward-KL distillation."""
    return -(teacher_logp.float().exp() * torch.log_softmax(student_logits.float(), dim=-1)).sum(-1)


def acceptance_rate(student_logits: torch.Tensor, teacher_logp: torch.Tensor) -> torch.Tensor:
    """Exact alpha = sum_x min(p(x), q(x)) per position. [..., vocab] -> [...]."""
    return torch.minimum(teacher_logp.float().exp(), torch.softmax(student_logits.float(), dim=-1)).sum(-1)


def scdf_weights(task_k: dict[str, float]) -> dict[str, float]:
    """s-CDF weights w_i = K_i - min_j K_j: the best-served task gets 0, the worst the most.
    Plain floats, so they are constants in the step's loss (no gradient flows through them)."""
    if not task_k:
        raise ValueError("scdf_weights needs at least one task")
    best = min(task_k.values())
    return {task: k - best for task, k in task_k.items()}
