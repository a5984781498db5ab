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


def teacher_entropy(teacher_logp: torch.Tensor) -> torch.Tensor:
    """H(p) = -sum_x p(x) log p(x) per position, in nats. [..., vocab] -> [...]. K - H(p) is
    KL(p || q), the part of K a drafter can change."""
    logp = teacher_logp.float()
    return -(logp.exp() * logp).sum(-1)


def scdf_weights(task_score: dict[str, float], floor: float = 0.0) -> dict[str, float]:
    """Corrected s-CDF weights from each task's misfit score s_i (K_i, or KL_i = K_i - H_i):
    d_i = s_i - min_j s_j, scaled to mean 1 over the tasks, raised to at least `floor`, and
    scaled to mean 1 again, so the loss keeps the scale of plain distillation whatever the
    spread. floor 0 is the paper's w_i = K_i - min_j K_j up to that scale: the best-fitting task
    gets nothing and drifts; a floor keeps every task in the loss. Equal scores give equal
    weights. Plain floats: constants in the step's loss (no gradient flows through them)."""
    if not task_score:
        raise ValueError("scdf_weights needs at least one task")
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"scdf_weights: floor must be in [0, 1], got {floor}")
    best = min(task_score.values())
    d = {task: s - best for task, s in task_score.items()}
    mean = sum(d.values()) / len(d)
    if mean <= 0.0:
        return {task: 1.0 for task in d}
    w = {task: max(v / mean, floor) for task, v in d.items()}
    total = sum(w.values()) / len(w)
    return {task: v / total for task, v in w.items()}
