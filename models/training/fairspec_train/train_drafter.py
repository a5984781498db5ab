"""Stage 3: the baseline drafter, as common practice trains one: next-byte warm-up, then
online distillation (forward KL to the verifier's distribution) on the natural mix.

The next-byte warm-up needs no verifier, so the pipeline runs it (`--phase next_byte`)
beside the verifier's training on the other CPU core, and the distillation
(`--phase distill --init <warm-up checkpoint>`) once the verifier exists."""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from .common import (Budget, autocast, device_description, load_card, load_checkpoint, log, make_optimizer,
                     pick_device, save_checkpoint, set_lr)
from .data import Corpus, NaturalMix
from .losses import cross_entropy_to_teacher
from .model import GPT, GPTConfig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--verifier", help="verifier checkpoint (needed for --phase distill)")
    ap.add_argument("--init", help="start from this drafter checkpoint instead of random weights")
    ap.add_argument("--phase", choices=["next_byte", "distill", "both"], default="both")
    ap.add_argument("--ctx", type=int, default=512, help="context when no verifier is given")
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup-minutes", type=float, default=4.0, help="next-byte pre-training budget")
    ap.add_argument("--minutes", type=float, default=10.0, help="distillation budget")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=2)
    args = ap.parse_args(argv)
    if args.layers > 2:
        raise SystemExit("--layers: a drafter has at most 2 layers")

    torch.manual_seed(args.seed)
    device = pick_device(args.device)
    if args.phase != "next_byte" and not args.verifier:
        raise SystemExit("--verifier is required for distillation")
    verifier = load_checkpoint(args.verifier, device).eval() if args.phase != "next_byte" else None
    ctx = verifier.cfg.n_positions if verifier else args.ctx
    corpus = Corpus(args.corpus, "train")
    mix = NaturalMix(corpus, ctx + 1, args.seed + (1 if args.init else 0))
    drafter = load_checkpoint(args.init, device) if args.init else GPT(GPTConfig(args.layers, args.heads, args.dim, ctx)).to(device)
    if drafter.cfg.n_positions != ctx:
        raise SystemExit(f"--init drafter context {drafter.cfg.n_positions} != verifier context {ctx}")
    opt = make_optimizer(drafter, args.lr)
    log("drafter", f"{drafter.num_params() / 1e6:.2f}M params, phase {args.phase}")

    base = load_card(args.init) if args.init else {}
    seen = dict(base.get("bytes_seen", {"next_byte": 0, "distill": 0}))
    phases = [p for p in ("next_byte", "distill") if args.phase in (p, "both")]
    for phase in phases:
        minutes = args.warmup_minutes if phase == "next_byte" else args.minutes
        budget = Budget(minutes, args.max_steps, 20)
        ema = None
        while not budget.done():
            batch = mix.batch(args.batch).to(device)
            set_lr(opt, args.lr * budget.lr_scale())
            with autocast(device):
                logits, _ = drafter(batch[:, :-1])
                if phase == "next_byte":
                    loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
                else:
                    with torch.no_grad():
                        teacher, _ = verifier(batch[:, :-1])
                    loss = cross_entropy_to_teacher(logits, torch.log_softmax(teacher.float(), -1)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(drafter.parameters(), 1.0)
            opt.step()
            budget.step += 1
            seen[phase] += batch[:, 1:].numel()
            ema = loss.detach() if ema is None else 0.95 * ema + 0.05 * loss.detach()
            if budget.step % 25 == 0 or budget.step == 1:
                log("drafter", f"{phase} step {budget.step} loss {ema.item():.3f} nats "
                    f"{seen[phase] / budget.elapsed():.0f} B/s")
    card = {"stage": "drafter-baseline", "device": device_description(device), "bytes_seen": seen,
            "hyperparameters": vars(args), "params": drafter.num_params(),
            "init": args.init or "random", "base_card": base or None}
    save_checkpoint(drafter, args.out, card)
    log("drafter", f"saved {args.out}")


if __name__ == "__main__":
    main()
