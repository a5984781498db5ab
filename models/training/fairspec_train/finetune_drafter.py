"""Stage 4: fine-tune the baseline drafter; only the drafter is updated.

Modes, all with the same budget (steps x windows x length):
  scdf-k    corrected s-CDF (arXiv 2510.02128, issue 19): each step samples m tasks, estimates
            each task's drafter-verifier cross-entropy K_i, and minimises
            a * K(natural-mix windows) + (1 - a) * (1/m) sum_i w_i K_i, the weights from each
            task's running K (losses.scdf_weights: the spread above the best task, mean 1, with a
            floor). The anchor share a keeps the high-resource languages at their natural share
            of the loss; the floor keeps the best-fitting tasks from drifting.
  scdf-kl   the same with weights from KL_i = K_i - H_i (H: the verifier's entropy), the part of
            the misfit a drafter can change; K follows the verifier's entropy, which it cannot.
  balanced  the same task sampling and anchor with w_i = 1 (uniform rebalancing).
  cont      the same budget spent on more plain distillation on the natural mix.
With both s-CDF modes, the one selection.py's rule prefers is also saved as drafter-scdf, the
one the pack ships. Every mode is tuned the same way: a grid of learning rates (x anchor shares), each run with every
seed of --seeds, chosen by selection.py's rule on held-out text of the training distribution.
Teacher distributions come from a pool of verifier outputs computed once per run
(teacher.py), so the fine-tune itself costs only drafter passes; the seeds change the order and
choice of the pool's windows.
Targets (--targets):
  corpus            windows of training text (teacher-forced reference text).
  verifier-samples  a prompt of --prompt-bytes training text, then bytes the verifier itself
                    sampled at --temperature (verifier_samples.py): the contexts a drafter
                    meets when serving; positions after a sampled end-of-text are left out.
"""
from __future__ import annotations

import argparse
import os
import shutil
import zlib

import numpy as np
import torch

from .common import Budget, autocast, device_description, load_card, load_checkpoint, log, make_optimizer, pick_device, save_checkpoint, set_lr
from .data import GROUPS, Corpus, NaturalMix, build_tasks, sample_windows
from .evaluate import drafter_fit, teacher_samples, teacher_windows
from .losses import cross_entropy_to_teacher, scdf_weights, teacher_entropy
from .selection import MAX_LOSS, bracketed, choose, seed_mean, worst_loss
from .teacher import teacher_logprobs
from .verifier_samples import continue_with_verifier, drafting_mask, sampled_positions


class Pool:
    """Windows [n, L+1] with teacher log-probs [n, L, vocab] and the positions that count
    [n, L], grouped by task."""

    def __init__(self, windows: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor, rows_by_task: dict[str, np.ndarray]):
        self.windows, self.teacher, self.mask, self.rows_by_task = windows, teacher, mask, rows_by_task

    def take(self, task: str, k: int, rng: np.random.Generator):
        rows = torch.from_numpy(rng.choice(self.rows_by_task[task], size=k, replace=False)).to(self.windows.device)
        return self.windows[rows], self.teacher[rows], self.mask[rows]

    def to(self, device: torch.device) -> "Pool":
        """On a GPU the whole pool fits in its memory (a few GB), which spares a copy per step."""
        return Pool(self.windows.to(device), self.teacher.to(device), self.mask.to(device), self.rows_by_task)


def build_pools(corpus, verifier, tasks, per_task, length, natural_windows, seed, device, targets="corpus",
                prompt_bytes=0, temperature=1.0):
    rng = np.random.default_rng(seed)
    window_bytes = prompt_bytes if targets == "verifier-samples" else length + 1
    parts, rows_by_task, start = [], {}, 0
    for task, langs in tasks.items():
        w = sample_windows([corpus.block(l) for l in langs], per_task, window_bytes, rng)
        parts.append(w)
        rows_by_task[task] = np.arange(start, start + per_task)
        start += per_task
    nat = NaturalMix(corpus, window_bytes, seed).batch(natural_windows)
    parts.append(nat)
    rows_by_task["__natural__"] = np.arange(start, start + natural_windows)
    windows = torch.cat(parts)
    if targets == "verifier-samples":
        windows = continue_with_verifier(verifier, windows, length + 1 - prompt_bytes, temperature, seed,
                                         chunk=1024 if device.type == "cuda" else 16)
        mask = drafting_mask(windows, prompt_bytes)
    else:
        mask = torch.ones(windows.shape[0], length, dtype=torch.bool)
    teacher = teacher_logprobs(verifier, windows.to(device), chunk=64 if device.type == "cuda" else 8)
    return Pool(windows, teacher, mask, rows_by_task)


def masked_task_means(values: torch.Tensor, mask: torch.Tensor, tasks: int) -> torch.Tensor:
    """values, mask [tasks * k, L] -> per-task mean over the counted positions [tasks]."""
    m = mask.to(values.dtype).view(tasks, -1)
    return (values.view(tasks, -1) * m).sum(-1) / m.sum(-1).clamp(min=1.0)


MODES = {"scdf-k": "k", "scdf-kl": "kl", "balanced": None, "cont": None}


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--verifier", required=True)
    ap.add_argument("--drafter", required=True, help="baseline drafter checkpoint to start from")
    ap.add_argument("--out-dir", required=True, help="writes <out-dir>/drafter-<mode>")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--group", choices=GROUPS, help="a specialist: train and choose on this script group's languages only; "
                    "writes <out-dir>/drafter-<group> (one mode)")
    ap.add_argument("--min-task-bytes", type=int, default=4096)
    ap.add_argument("--tail-groups", type=int, default=8)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--pool-per-task", type=int, default=96)
    ap.add_argument("--tasks-per-step", type=int, default=24, help="m")
    ap.add_argument("--windows-per-task", type=int, default=4)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lrs", default="5e-4,1e-3,2e-3,4e-3", help="learning-rate grid, every mode")
    ap.add_argument("--anchor-shares", default="0.3,0.5", help="natural-mix share of the loss to choose from (task modes)")
    ap.add_argument("--weight-floor", type=float, default=0.25, help="least s-CDF weight, as a share of the mean weight")
    ap.add_argument("--seeds", default="3,4", help="every configuration runs once per seed")
    ap.add_argument("--select-max-bytes", type=int, default=16000, help="corpus targets: held-out bytes per language for the choice")
    ap.add_argument("--select-prompts", type=int, default=64, help="verifier-samples: held-out prompts per language for the choice")
    ap.add_argument("--select-min-bytes", type=int, default=8192,
                    help="held-out languages of the low tier take part in the choice from this many held-out bytes (high and mid always)")
    ap.add_argument("--ema", type=float, default=0.9)
    ap.add_argument("--targets", choices=["corpus", "verifier-samples"], default="corpus")
    ap.add_argument("--prompt-bytes", type=int, default=128, help="verifier-samples: training text before the sampled bytes")
    ap.add_argument("--temperature", type=float, default=1.0, help="verifier-samples: sampling temperature")
    ap.add_argument("--pool-cache", default="", help="file to keep the teacher pool in between runs")
    ap.add_argument("--held-out-cache", default="", help="folder to keep each language's held-out verifier outputs in between runs")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    if args.targets == "verifier-samples" and not 0 < args.prompt_bytes <= args.length:
        raise SystemExit(f"--prompt-bytes must be in 1..--length ({args.length})")
    modes = [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown or not modes:
        raise SystemExit(f"--modes: unknown {unknown}; known: {','.join(MODES)}")
    if args.group and len(modes) != 1:
        raise SystemExit("--group trains one specialist: give one mode")
    lrs, anchors, seeds = floats(args.lrs), floats(args.anchor_shares), [int(x) for x in args.seeds.split(",") if x]
    if not lrs or not anchors or not seeds or any(not 0.0 <= a < 1.0 for a in anchors) or not 0.0 <= args.weight_floor <= 1.0:
        raise SystemExit("--lrs, --anchor-shares (each in [0, 1)) and --seeds need at least one value; --weight-floor in [0, 1]")

    device = pick_device(args.device)
    verifier = load_checkpoint(args.verifier, device).eval()
    corpus = Corpus(args.corpus, "train", args.group)
    tasks = build_tasks(corpus, args.min_task_bytes, args.tail_groups)
    if not tasks:
        raise SystemExit("no s-CDF task has enough training text")
    m = min(args.tasks_per_step, len(tasks))
    pool = teacher_pool(args, verifier, corpus, tasks, seeds[0], device)
    cached, held_out_langs = held_out_teacher(args, verifier, seeds[0])
    base = drafter_fit(cached, load_checkpoint(args.drafter, device))
    log("finetune", f"{len(tasks)} tasks; choice on {len(held_out_langs)} held-out languages; baseline held-out U {base['U']:.4f}, "
        f"mean alpha {base['mean_alpha']:.4f}, worst {base['worst_alpha']:.4f} ({base['worst_language']})")
    del verifier
    chosen = {}
    for mode in modes:
        chosen[mode] = tune(mode, args, lrs, [0.0] if mode == "cont" else anchors, seeds, tasks, pool, m, device, cached, base)
    if not args.group and "scdf-k" in chosen and "scdf-kl" in chosen:
        variants = {mode: chosen[mode] for mode in ("scdf-k", "scdf-kl")}
        better, _ = choose(variants, base)
        shipped = f"{args.out_dir}/drafter-scdf"
        shutil.rmtree(shipped, ignore_errors=True)
        shutil.copytree(f"{args.out_dir}/drafter-{better}", shipped)
        log("finetune", f"drafter-scdf is drafter-{better} (held-out U {variants[better]['U']:.4f} against "
            + ", ".join(f"{k} {v['U']:.4f}" for k, v in variants.items() if k != better) + ")")


def teacher_pool(args, verifier, corpus, tasks, seed, device) -> Pool:
    natural_windows = args.pool_per_task * len(tasks)
    pool_key = {"tasks": tasks, "per_task": args.pool_per_task, "length": args.length, "seed": seed,
                "targets": args.targets, "prompt_bytes": args.prompt_bytes, "temperature": args.temperature,
                "verifier": os.path.getmtime(os.path.join(args.verifier, "pytorch_model.bin"))}
    cached = torch.load(args.pool_cache, weights_only=False) if args.pool_cache and os.path.exists(args.pool_cache) else None
    if cached is not None and cached["key"] == pool_key:
        log("finetune", f"teacher pool from {args.pool_cache}")
        pool = Pool(cached["windows"], cached["teacher"], cached["mask"], cached["rows_by_task"])
    else:
        log("finetune", f"building teacher pool ({natural_windows * 2} windows of {args.targets})")
        pool = build_pools(corpus, verifier, tasks, args.pool_per_task, args.length, natural_windows, seed, device,
                           args.targets, args.prompt_bytes, args.temperature)
        if args.pool_cache:
            torch.save({"key": pool_key, "windows": pool.windows, "teacher": pool.teacher, "mask": pool.mask,
                        "rows_by_task": pool.rows_by_task}, args.pool_cache)
    return pool.to(device) if device.type == "cuda" else pool


def held_out_teacher(args, verifier, seed):
    """The verifier's outputs on held-out text of the training distribution, on the same kind of
    context as the training targets, for every high- and mid-tier language and every low-tier one
    with --select-min-bytes of held-out text. Each language's draws have a seed of their own, so
    a language gets the same held-out contexts in every run that chooses on it (the general
    fine-tune and its group's specialist), which lets --held-out-cache keep them between runs."""
    heldout = Corpus(args.corpus, "heldout", args.group)
    langs = [l for l in heldout.languages() if heldout.tier(l) in ("high", "mid") or len(heldout.block(l)) >= args.select_min_bytes]
    verifier_mtime = os.path.getmtime(os.path.join(args.verifier, "pytorch_model.bin"))
    device = next(verifier.parameters()).device
    cached = {}
    for lang in langs:
        text = bytes(np.asarray(heldout.block(lang))).decode("utf-8", "ignore")
        lang_seed = seed + 100 + zlib.crc32(lang.encode()) % 10_000
        key = {"targets": args.targets, "prompts": args.select_prompts, "prompt_bytes": args.prompt_bytes, "length": args.length,
               "temperature": args.temperature, "max_bytes": args.select_max_bytes, "seed": lang_seed,
               "text": zlib.crc32(text.encode()), "verifier": verifier_mtime}
        path = os.path.join(args.held_out_cache, f"held-out-{lang}.pt") if args.held_out_cache else ""
        kept = torch.load(path, weights_only=False, map_location=device) if path and os.path.exists(path) else None
        if kept is not None and kept["key"] == key:
            rows = kept["rows"]
        else:
            if args.targets == "verifier-samples":
                one = teacher_samples({lang: text}, verifier, args.select_prompts, args.prompt_bytes,
                                      args.length + 1 - args.prompt_bytes, args.temperature, lang_seed)
            else:
                one = teacher_windows({lang: text}, verifier, args.select_max_bytes, 384)
            rows = one.get(lang)
            if path:
                os.makedirs(args.held_out_cache, exist_ok=True)
                torch.save({"key": key, "rows": rows}, path)
        if rows is not None:
            cached[lang] = rows
    if args.held_out_cache:
        log("finetune", f"held-out verifier outputs for {len(cached)} languages (kept in {args.held_out_cache})")
    return cached, sorted(cached)


def tune(mode, args, lrs, anchors, seeds, tasks, pool, m, device, cached, base):
    """Runs the mode's grid with every seed, chooses by selection.py's rule, saves drafter-<mode>."""
    results, runs = {}, {}
    for lr in lrs:
        for anchor in anchors:
            key = f"lr={lr:g}" + (f",anchor={anchor:g}" if mode != "cont" else "")
            fits = []
            for seed in seeds:
                drafter, card = finetune(mode, lr, anchor, seed, args, tasks, pool, m, device)
                fit = drafter_fit(cached, drafter)
                fits.append(fit)
                runs[(key, seed)] = ({k: v.detach().cpu().clone() for k, v in drafter.state_dict().items()}, card, fit)
            mean = seed_mean(fits)
            loss, loss_lang = worst_loss(mean, base)
            results[key] = {"lr": lr, "anchor": anchor, "U": mean["U"], "U_change": mean["U"] / base["U"] - 1.0 if base["U"] > 0 else 0.0,
                            "mean_alpha_change": mean["mean_alpha"] - base["mean_alpha"], "worst_loss": loss,
                            "worst_loss_language": loss_lang, "per_seed_U": [f["U"] for f in fits], "languages": mean["languages"]}
            log(f"finetune {mode}", f"{key}: held-out U {mean['U']:.4f} ({results[key]['U_change']:+.1%}), mean alpha "
                f"{results[key]['mean_alpha_change']:+.4f}, worst-faring {loss_lang} {-loss:+.4f}, over {len(seeds)} seeds")
    chosen, feasible = choose(results, base)
    if not feasible:
        log(f"finetune {mode}", f"WARNING: every configuration costs some language more than 0.02 alpha; {chosen} costs least")
    lr_inside = bracketed(results[chosen]["lr"], lrs)
    if len(set(lrs)) >= 3 and not lr_inside:
        log(f"finetune {mode}", f"WARNING: the chosen rate {results[chosen]['lr']:g} is at the edge of the grid; widen --lrs")
    # Of the chosen configuration's seeds, the run that itself keeps the rule with the lowest U.
    seed_runs = [runs[(chosen, seed)] for seed in seeds]
    state, card, _ = min(seed_runs, key=lambda r: (worst_loss(r[2], base)[0] > MAX_LOSS, r[2]["U"]))
    card["selection"] = {
        "selected_on": f"in-distribution held-out ({args.targets}), {len(cached)} languages, never UDHR",
        "rule": "lowest U over the seed means, no language losing more than 0.02 alpha against the baseline drafter",
        "baseline": {"U": base["U"], "mean_alpha": base["mean_alpha"], "worst_alpha": base["worst_alpha"], "worst_language": base["worst_language"]},
        "results": {k: {x: v for x, v in r.items() if x != "languages"} for k, r in results.items()},
        "chosen": chosen, "feasible": feasible, "lr_bracketed": lr_inside, "seeds": seeds,
    }
    drafter = load_checkpoint(args.drafter, "cpu")
    drafter.load_state_dict(state)
    name = f"drafter-{args.group}" if args.group else f"drafter-{mode}"
    card["specialist_group"] = args.group
    if args.group:
        card["stage"] = f"{name} ({mode})"
    save_checkpoint(drafter, f"{args.out_dir}/{name}", card)
    log("finetune", f"saved {name} ({mode}, {chosen}, seed {card['seed']})")
    return results[chosen]


def finetune(mode, lr, anchor, seed, args, tasks, pool, m, device):
    drafter = load_checkpoint(args.drafter, device).train()
    opt = make_optimizer(drafter, lr)
    rng = np.random.default_rng(seed + 1)
    torch.manual_seed(seed)
    budget = Budget(0, args.steps, 10)
    signal = MODES[mode]
    # Every mode sees m * windows-per-task windows a step: an anchored one gives about the anchor's
    # share of them to the natural mix and samples fewer tasks; cont takes them all from it.
    total = m * args.windows_per_task
    m = max(1, round((1.0 - anchor) * m))
    task_windows = m * args.windows_per_task
    anchor_windows = total - task_windows
    ema: dict[str, float] = {}
    if signal is not None:  # start every task's estimate from one no-grad pass
        with torch.no_grad():
            for task in tasks:
                w, t, mask = pool.take(task, args.windows_per_task, rng)
                logits, _ = drafter(w[:, :-1].to(device))
                t = t.to(device)
                ema[task] = masked_task_means(misfit(signal, cross_entropy_to_teacher(logits, t), t), mask.to(device), 1).item()
    while not budget.done():
        set_lr(opt, lr * budget.lr_scale())
        if mode == "cont":
            w, t, mask = pool.take("__natural__", total, rng)
            with autocast(device):
                logits, _ = drafter(w[:, :-1].to(device))
                loss = masked_task_means(cross_entropy_to_teacher(logits, t.to(device)), mask.to(device), 1)[0]
        else:
            chosen = list(rng.choice(sorted(tasks), size=m, replace=False))
            parts = [pool.take(task, args.windows_per_task, rng) for task in chosen]
            if anchor_windows:
                parts.append(pool.take("__natural__", anchor_windows, rng))
            w = torch.cat([p[0] for p in parts]).to(device)
            t = torch.cat([p[1] for p in parts]).to(device)
            mask = torch.cat([p[2] for p in parts]).to(device)
            with autocast(device):
                logits, _ = drafter(w[:, :-1])
                k = cross_entropy_to_teacher(logits, t)  # [windows, L]
                k_hat = masked_task_means(k[:task_windows], mask[:task_windows], m)  # [m]
            if signal is not None:
                with torch.no_grad():
                    scores = masked_task_means(misfit(signal, k[:task_windows].detach(), t[:task_windows]), mask[:task_windows], m)
                for task, score in zip(chosen, scores.tolist()):
                    ema[task] = args.ema * ema[task] + (1 - args.ema) * score
                weights = scdf_weights(ema, args.weight_floor)
                w_vec = torch.tensor([weights[task] for task in chosen], device=device)
            else:
                w_vec = torch.ones(m, device=device)
            loss = (w_vec * k_hat).mean()
            if anchor_windows:
                natural = masked_task_means(k[task_windows:], mask[task_windows:], 1)[0]
                loss = anchor * natural + (1.0 - anchor) * loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(drafter.parameters(), 1.0)
        opt.step()
        budget.step += 1
        if budget.step % 25 == 0 or budget.step == 1:
            log(f"finetune {mode}", f"lr {lr:g} anchor {anchor:g} seed {seed}: step {budget.step}/{args.steps} loss {loss.item():.4f}")
    card = {"stage": f"drafter-{mode}", "device": device_description(device), "init": args.drafter, "seed": seed,
            "bytes_seen": budget.step * total * args.length,
            "wall_seconds": round(budget.elapsed(), 1), "hyperparameters": {**vars(args), "lr": lr, "anchor_share": anchor},
            "tasks": tasks, "final_task_score": ema or None, "weight_signal": signal, "base_card": load_card(args.drafter)}
    return drafter, card


def misfit(signal: str, k: torch.Tensor, teacher_logp: torch.Tensor) -> torch.Tensor:
    """Per position, from its cross-entropy K: K, or KL = K - H(p)."""
    return k if signal == "k" else k - teacher_entropy(teacher_logp)


if __name__ == "__main__":
    main()
