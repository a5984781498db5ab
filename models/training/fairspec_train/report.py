"""Stage 6: the offline fairness report (eval.json, report.svg), routing.json, model cards."""
from __future__ import annotations

import argparse
import hashlib
import json
import os

import numpy as np
import torch

from .chart import render
from .common import load_card, load_checkpoint, pick_device
from .data import GROUPS, Corpus
from .evaluate import evaluate_samples, evaluate_set
from .samples import sample
from .speedup import measured_verify_cost
from .summary import relative, routed, routing_table, summarise

SAMPLE_PROMPTS = {"en": "The system administrator ", "de": "Die Datei wird ", "fr": "Le fichier est ",
                  "es": "El archivo se ", "ru": "Эта программа ", "ja": "このファイルは", "zh": "这个程序"}


def load_timing(path: str, drafter_path: str) -> dict:
    v = json.load(open(path))
    d = json.load(open(drafter_path))
    c = d["median_ms_by_tokens"]["1"] / v["median_ms_by_tokens"]["1"]
    return {"verifier_ms": v["median_ms_by_tokens"], "drafter_ms": d["median_ms_by_tokens"], "c": c,
            "verify_5_over_1": v["ratio_5_to_1"], "threads": v["threads"], "past_length": v["past_length"]}


def routed_columns(summary: dict, shipped: list[str], only: dict[str, set[str]]) -> dict:
    """A set's routed configuration (what the router would serve per language, among `shipped`)
    and every column's change against the baseline drafter."""
    routed_summary = routed(summary, shipped, only)
    return {"routed": {"among": shipped, **routed_summary},
            "relative_to_baseline": relative({**summary, "routed": routed_summary}, "drafter-baseline")}


def same_weights(folder: str, names: list[str]) -> dict[str, str]:
    """Each of `names` whose pytorch_model.bin is byte for byte an earlier one's, and that one."""
    first, copies = {}, {}
    for name in names:
        with open(os.path.join(folder, name, "pytorch_model.bin"), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest in first:
            copies[name] = first[digest]
        else:
            first[digest] = name
    return copies


def specialist_languages(folder: str, shipped: list[str]) -> dict[str, set[str]]:
    """The specialists among `shipped` (checkpoints or pack folders under `folder`) and the
    languages each serves: those it was trained on (its card's tasks)."""
    only = {}
    for name in shipped:
        card = load_card(os.path.join(folder, name))
        if card.get("specialist_group"):
            only[name] = {l for members in card.get("tasks", {}).values() for l in members}
    return only


def print_set(set_name: str, entry: dict) -> None:
    rel = entry["relative_to_baseline"]
    print(f"== {set_name}")
    for name, s in {**entry["drafters"], "routed": entry["routed"]}.items():
        print(f"{name:22s} mean α {s['mean_alpha']:.4f} worst α {s['worst_alpha']:.4f} ({s['worst_language']}) "
              f"U {s['U']:.4f} ({rel[name]['U_change']:+.1%}) U_KL {s['U_KL']:.4f} ({rel[name]['U_KL_change']:+.1%}) "
              f"S mean {s['mean_predicted_speedup']:.2f} max/min {s['speedup_max_min_ratio']:.2f} "
              f"greedy agreement mean {s['mean_greedy_agreement']:.3f} worst {s['worst_greedy_agreement']:.3f} "
              f"({s['worst_greedy_language']}) S greedy mean {s['mean_predicted_speedup_greedy']:.2f}")


def write_chart(pack: str, report: dict, shipped: list[str]) -> None:
    udhr = {**report["sets"]["udhr"]["drafters"], "routed": report["sets"]["udhr"]["routed"]}
    with open(os.path.join(pack, "report.svg"), "w", encoding="utf-8") as f:
        f.write(render({name: udhr[name] for name in ["drafter-baseline", "routed", *shipped] if name in udhr},
                       "fairspec default pack: held-out UDHR, per language: baseline, routed, each shipped drafter"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--work", required=True, help="folder with verifier/ and drafter-*/ checkpoints")
    ap.add_argument("--pack", required=True)
    ap.add_argument("--drafters", default="", help="checkpoints to evaluate (default: every drafter-* in --work but the warm-up)")
    ap.add_argument("--shipped", default="", help="those the pack ships (default: baseline, scdf and the specialists in --work)")
    ap.add_argument("--verifier-timing", required=True)
    ap.add_argument("--drafter-timing", required=True)
    ap.add_argument("--max-bytes", type=int, default=12000, help="per language and set")
    ap.add_argument("--stride", type=int, default=384)
    ap.add_argument("--gamma-max", type=int, default=8)
    ap.add_argument("--sample-bytes", type=int, default=160)
    ap.add_argument("--served-prompts", type=int, default=48, help="udhr_served set: prompts per language")
    ap.add_argument("--served-prompt-bytes", type=int, default=150, help="udhr_served set: prompt length (the load generator's default)")
    ap.add_argument("--served-bytes", type=int, default=64, help="udhr_served set: bytes the verifier samples after each prompt")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    device = pick_device(args.device)

    verifier = load_checkpoint(os.path.join(args.work, "verifier"), device)
    present = sorted(n for n in os.listdir(args.work) if n.startswith("drafter-") and n != "drafter-warmup")
    names = args.drafters.split(",") if args.drafters else present
    # drafter-scdf is a copy of the weighting the fine-tune preferred: the same weights are scored once.
    copies = same_weights(args.work, names)
    drafters = {name: load_checkpoint(os.path.join(args.work, name), device) for name in names if name not in copies}
    specialists = [f"drafter-{g}" for g in GROUPS if f"drafter-{g}" in present]
    shipped = args.shipped.split(",") if args.shipped else ["drafter-baseline", "drafter-scdf", *specialists]
    only = specialist_languages(args.work, shipped)
    udhr = json.load(open(os.path.join(args.corpus, "udhr.json"), encoding="utf-8"))
    heldout = Corpus(args.corpus, "heldout")
    in_dist_langs = [l for l in heldout.languages() if heldout.tier(l) in ("high", "mid") or l in udhr]
    timing = load_timing(args.verifier_timing, args.drafter_timing)

    udhr_texts = {l: e["text"] for l, e in udhr.items()}
    in_dist_texts = {l: bytes(np.asarray(heldout.block(l))).decode("utf-8", "ignore") for l in in_dist_langs}
    report = {"cost": timing, "gamma_max": args.gamma_max, "max_bytes_per_language": args.max_bytes,
              "languages": {l: {"udhr_code": e["udhr_code"], "name": e.get("name"), "script": e.get("script")} for l, e in udhr.items()},
              "models": {name: load_card(os.path.join(args.work, name)) for name in ["verifier", *names]},
              "sets": {}}
    scorers = {
        "udhr": lambda: evaluate_set(udhr_texts, verifier, drafters, args.max_bytes, args.stride),
        "in_distribution": lambda: evaluate_set(in_dist_texts, verifier, drafters, args.max_bytes, args.stride),
        # the UDHR prompts continued by the verifier's own samples at temperature 1, the contexts
        # a drafter meets when serving (the load generator sends these prompts)
        "udhr_served": lambda: evaluate_samples(udhr_texts, verifier, drafters, args.served_prompts,
                                                args.served_prompt_bytes, args.served_bytes, 1.0, seed=7),
    }
    for set_name, score in scorers.items():
        results = score()
        for r in results.values():
            for copy, original in copies.items():
                r["drafters"][copy] = r["drafters"][original]
        summary = summarise(results, timing["c"], args.gamma_max, measured_verify_cost(timing["verifier_ms"]))
        report["sets"][set_name] = {
            "verifier_bits_per_byte": {l: r["verifier_bits_per_byte"] for l, r in results.items()},
            "verifier_entropy_nats": {l: r["verifier_entropy_nats"] for l, r in results.items()},
            "positions": {l: r["positions"] for l, r in results.items()},
            "drafters": summary,
            **routed_columns(summary, shipped, only),
        }
        print_set(set_name, report["sets"][set_name])
    report["samples"] = {l: {"prompt": p, "greedy": sample(verifier, p, args.sample_bytes, 0.0, 0),
                             "temperature_0.7": sample(verifier, p, args.sample_bytes, 0.7, 0)}
                         for l, p in SAMPLE_PROMPTS.items()}
    report["udhr_served"] = {"prompts": args.served_prompts, "prompt_bytes": args.served_prompt_bytes,
                             "sampled_bytes": args.served_bytes, "temperature": 1.0}
    udhr_summary = report["sets"]["udhr"]["drafters"]
    # Greedy requests accept a draft only where both models' top bytes agree: their own table.
    routing = {**routing_table(udhr_summary, shipped, only=only), "greedy": routing_table(udhr_summary, shipped, "greedy", only)}
    os.makedirs(args.pack, exist_ok=True)
    with open(os.path.join(args.pack, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    with open(os.path.join(args.pack, "routing.json"), "w") as f:
        json.dump(routing, f, indent=1)
    write_chart(args.pack, report, shipped)
    print(f"wrote {args.pack}/eval.json, routing.json, report.svg")


if __name__ == "__main__":
    main()
