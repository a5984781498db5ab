"""Model cards (README.md in each model folder) written from the recorded training
metadata and the fairness report, so every figure in a card is a measured one."""
from __future__ import annotations

import argparse
import json
import os


def fmt_seen(seen) -> str:
    if isinstance(seen, dict):
        return ", ".join(f"{k.replace('_', ' ')} {v / 1e6:.2f}M bytes" for k, v in seen.items())
    return f"{seen / 1e6:.2f}M bytes"


def card(name: str, training: dict, config: dict, report: dict, manifest: dict | None) -> str:
    lines = [f"# {name}", "",
             f"Byte-level GPT-2 ({config['n_layer']} layers, {config['n_head']} heads, d={config['n_embd']}, "
             f"context {config['n_positions']}, vocab {config['vocab_size']}), part of fairspec's default pack. "
             "Hugging Face layout: `config.json`, `tokenizer.json`, `onnx/model.onnx` (KV cache, Optimum I/O names).", "",
             "## Training", "",
             f"- stage: {training.get('stage')}; parameters: {training.get('params', 'see base')}",
             f"- device: {training.get('device')}",
             f"- bytes seen: {fmt_seen(training.get('bytes_seen', 0))}",
             f"- wall time: {training.get('wall_seconds', 'n/a')} s",
             f"- hyperparameters: `{json.dumps(training.get('hyperparameters', {}), sort_keys=True)}`", ""]
    if training.get("specialist_group"):
        langs = sorted({l for members in training.get("tasks", {}).values() for l in members})
        lines += [f"A specialist for the {training['specialist_group']} script group, trained on its {len(langs)} languages "
                  f"only ({', '.join(langs)}); the route stage measures it, and the router may send it, only there.", ""]
    selection = training.get("selection")
    if selection:
        chosen = selection["results"][selection["chosen"]]
        lines += ["## Hyperparameters chosen", "",
                  f"{selection['rule']}, {selection['selected_on']}, seeds {selection['seeds']}, weights from "
                  f"{ {'k': 'K', 'kl': 'KL = K - H'}.get(training.get('weight_signal'), 'none (w = 1)') }: {selection['chosen']} "
                  f"(held-out U {chosen['U_change']:+.1%}, mean α {chosen['mean_alpha_change']:+.4f}, the language that "
                  f"fares worst {chosen['worst_loss_language']} α {-chosen['worst_loss']:+.4f}"
                  + ("" if selection["feasible"] else "; no configuration kept every language within 0.02")
                  + ("" if selection["lr_bracketed"] else "; the rate is at the edge of its grid") + ").", ""]
    for set_name, s in report["sets"].items():
        if name == "verifier":
            bpb = s["verifier_bits_per_byte"]
            lines += [f"## Bits per byte on held-out {set_name}", "",
                      " | ".join(f"{l} {v:.2f}" for l, v in sorted(bpb.items())), ""]
        elif name in s["drafters"]:
            d, rel = s["drafters"][name], s["relative_to_baseline"][name]
            lines += [f"## Against the verifier on held-out {set_name}", "",
                      f"mean α {d['mean_alpha']:.4f} ({rel['mean_alpha_change']:+.4f} vs baseline), worst α {d['worst_alpha']:.4f} "
                      f"({d['worst_language']}), U {d['U']:.4f} ({rel['U_change']:+.1%}), U_KL {d['U_KL']:.4f} ({rel['U_KL_change']:+.1%}), "
                      f"predicted speed-up mean {d['mean_predicted_speedup']:.2f}, max/min {d['speedup_max_min_ratio']:.2f}", ""]
    if name == "verifier":
        lines += ["## Samples (prompt in bold, continuation as generated)", ""]
        for lang, smp in report["samples"].items():
            for mode in ("greedy", "temperature_0.7"):
                text = smp[mode].replace("\n", " ⏎ ")
                lines.append(f"- {lang}, {mode}: **{smp['prompt']}**{text}")
        lines.append("")
    if manifest:
        lines += ["## Data", "", "Trained on the corpus described by the pipeline's manifest "
                  f"({manifest.get('total_bytes', manifest.get('totals', 'see manifest'))}); UDHR never used for training.", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pack", required=True)
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args(argv)
    report = json.load(open(os.path.join(args.pack, "eval.json"), encoding="utf-8"))
    manifest_path = os.path.join(args.corpus, "manifest.json")
    manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else None
    for name in sorted(os.listdir(args.pack)):
        folder = os.path.join(args.pack, name)
        if not os.path.exists(os.path.join(folder, "config.json")):
            continue
        training = json.load(open(os.path.join(folder, "training.json")))
        config = json.load(open(os.path.join(folder, "config.json")))
        with open(os.path.join(folder, "README.md"), "w", encoding="utf-8") as f:
            f.write(card(name, training, config, report, manifest))
    print(f"wrote model cards in {args.pack}")


if __name__ == "__main__":
    main()
