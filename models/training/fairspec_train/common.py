"""Shared plumbing for the training stages: device, budget-driven schedule, checkpoints."""
from __future__ import annotations

import json
import math
import os
import platform
import time

import torch

from .model import GPT, GPTConfig


def cpu_threads() -> int:
    """Intra-op threads on CPU (FAIRSPEC_TORCH_THREADS, default 1). On the 2-vCPU machines
    this project runs on, one thread multiplies faster than two (measured: 194 GFLOP/s vs
    60-120 GFLOP/s for 2048x2048 sgemm), and the other vCPU stays free for the server."""
    return max(1, int(os.environ.get("FAIRSPEC_TORCH_THREADS", "1")))


def pick_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but torch.cuda.is_available() is False")
    torch.set_num_threads(cpu_threads())
    if name == "cuda":  # fp32 leftovers outside bf16 autocast (optimizer, losses) may use TF32
        torch.backends.cuda.matmul.allow_tf32 = True
    return torch.device(name)


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU x{torch.get_num_threads()} threads"


class Budget:
    """Stops a stage after `minutes` of wall time or `max_steps` steps, whichever first,
    and drives warm-up + cosine decay by the fraction of the budget spent, so a stage
    sized in minutes behaves the same on a GPU and on 2 CPU cores."""

    def __init__(self, minutes: float, max_steps: int, warmup_steps: int):
        self.seconds = minutes * 60.0
        self.max_steps = max_steps
        self.warmup = warmup_steps
        self.start = time.time()
        self.step = 0

    def fraction(self) -> float:
        by_time = (time.time() - self.start) / self.seconds if self.seconds > 0 else 0.0
        by_steps = self.step / self.max_steps if self.max_steps > 0 else 0.0
        return min(1.0, max(by_time, by_steps))

    def done(self) -> bool:
        return self.fraction() >= 1.0

    def lr_scale(self) -> float:
        if self.step < self.warmup:
            return (self.step + 1) / self.warmup
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * self.fraction()))

    def elapsed(self) -> float:
        return time.time() - self.start


def set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


def make_optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.95))


def autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def save_checkpoint(model: GPT, out_dir: str, card: dict) -> None:
    """HF-style folder: config.json + pytorch_model.bin (GPT2LMHeadModel names) + card."""
    os.makedirs(out_dir, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save(state, os.path.join(out_dir, "pytorch_model.bin"))
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(model.cfg.hf_config(), f, indent=2)
    with open(os.path.join(out_dir, "training.json"), "w") as f:
        json.dump(card, f, indent=2)


def load_checkpoint(ckpt_dir: str, device: torch.device | str = "cpu") -> GPT:
    cfg_path = os.path.join(ckpt_dir, "config.json")
    bin_path = os.path.join(ckpt_dir, "pytorch_model.bin")
    for path in (cfg_path, bin_path):
        if not os.path.exists(path):
            raise SystemExit(f"checkpoint incomplete: {path} is missing")
    try:
        cfg = GPTConfig.from_hf(json.load(open(cfg_path)))
        state = torch.load(bin_path, map_location="cpu")
        model = GPT(cfg)
        model.load_state_dict(state)
    except SystemExit:
        raise
    except Exception as exc:  # a truncated or foreign file: name it, not a torch traceback
        raise SystemExit(f"corrupt checkpoint {bin_path}: {type(exc).__name__}: {exc}") from None
    return model.to(device)


def load_card(ckpt_dir: str) -> dict:
    path = os.path.join(ckpt_dir, "training.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def log(stage: str, msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {stage}: {msg}", flush=True)
