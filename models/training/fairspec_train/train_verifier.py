"""Stage 2: pre-train the verifier on the natural (imbalanced) mix by next-byte prediction."""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from .common import Budget, autocast, device_description, log, make_optimizer, pick_device, save_checkpoint, set_lr
from .data import Corpus, NaturalMix
from .model import GPT, GPTConfig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    corpus = Corpus(args.corpus, "train")
    mix = NaturalMix(corpus, args.ctx + 1, args.seed)
    model = GPT(GPTConfig(args.layers, args.heads, args.dim, args.ctx)).to(device)
    opt = make_optimizer(model, args.lr)
    budget = Budget(args.minutes, args.max_steps, args.warmup)
    log("verifier", f"{model.num_params() / 1e6:.2f}M params on {device_description(device)}")
    seen, ema = 0, None
    while not budget.done():
        batch = mix.batch(args.batch).to(device)
        set_lr(opt, args.lr * budget.lr_scale())
        with autocast(device):
            logits, _ = model(batch[:, :-1])
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        budget.step += 1
        seen += batch[:, 1:].numel()
        # The running mean stays on the device: reading the loss every step would stall a GPU.
        bpb = loss.detach() / 0.6931
        ema = bpb if ema is None else 0.95 * ema + 0.05 * bpb
        if budget.step % 20 == 0 or budget.step == 1:
            log("verifier", f"step {budget.step} bits/byte {ema.item():.3f} bytes {seen} "
                f"{seen / budget.elapsed():.0f} B/s lr {args.lr * budget.lr_scale():.2e}")
    card = {"stage": "verifier", "device": device_description(device), "bytes_seen": seen,
            "steps": budget.step, "wall_seconds": round(budget.elapsed(), 1), "final_train_bits_per_byte": None if ema is None else round(ema.item(), 4),
            "hyperparameters": vars(args), "params": model.num_params()}
    save_checkpoint(model, args.out, card)
    log("verifier", f"saved {args.out}: {card}")


if __name__ == "__main__":
    main()
