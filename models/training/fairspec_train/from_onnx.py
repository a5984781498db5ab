"""Turns an exported model folder (config.json + onnx/model.onnx) back into a checkpoint, so a
shipped pack can be fine-tuned again without retraining what it was built from.

  python3 -m fairspec_train.from_onnx --model ../default/verifier --out WORK/checkpoints/verifier

export_onnx.py keeps the parameter names (prefixed `model.`); the tied head is folded into one
[n_embd, vocab] initializer, which must equal the token embedding transposed. The weights are
copied bit for bit; write_parity then gives reference logits that check_onnx.mjs compares with
the ONNX model, which proves the round trip.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from .common import save_checkpoint
from .model import GPT, GPTConfig

PREFIX = "model."


def load_onnx_weights(onnx_path: str) -> dict[str, np.ndarray]:
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        raise SystemExit("the onnx Python package is missing: apt-get install -y python3-onnx") from None
    graph = onnx.load(onnx_path).graph
    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}


def model_from_onnx(folder: str) -> GPT:
    cfg = GPTConfig.from_hf(json.load(open(os.path.join(folder, "config.json"))))
    weights = load_onnx_weights(os.path.join(folder, "onnx", "model.onnx"))
    model = GPT(cfg)
    expected = set(model.state_dict())
    state = {name[len(PREFIX):]: torch.from_numpy(arr.copy()) for name, arr in weights.items() if name.startswith(PREFIX)}
    head = state.get("lm_head.weight")
    if head is None:
        folded = [arr for name, arr in weights.items() if not name.startswith(PREFIX) and arr.shape == (cfg.n_embd, cfg.vocab_size)]
        if len(folded) != 1:
            raise SystemExit(f"{folder}: expected one folded [n_embd, vocab] head initializer, found {len(folded)}")
        head = torch.from_numpy(folded[0].T.copy())
    if not torch.equal(head, state["transformer.wte.weight"]):
        raise SystemExit(f"{folder}: the output head is not the token embedding (untied weights are not a fairspec export)")
    state["lm_head.weight"] = head
    missing, extra = expected - set(state), set(state) - expected
    if missing or extra:
        raise SystemExit(f"{folder}: parameters missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]} "
                         "(the exporter merges equal initializers, e.g. untrained zero biases)")
    model.load_state_dict(state)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="exported model folder (config.json, training.json, onnx/model.onnx)")
    ap.add_argument("--out", required=True, help="checkpoint folder to write")
    args = ap.parse_args(argv)
    model = model_from_onnx(args.model)
    card_path = os.path.join(args.model, "training.json")
    card = json.load(open(card_path)) if os.path.exists(card_path) else {}
    card["imported_from_onnx"] = os.path.abspath(args.model)
    save_checkpoint(model, args.out, card)
    print(f"wrote {args.out} ({model.num_params() / 1e6:.2f}M params) from {args.model}")


if __name__ == "__main__":
    main()
