"""Stage 5: export a checkpoint as a Hugging Face-layout ONNX model folder with KV cache.

I/O follows Optimum / transformers.js decoder-with-past exports: inputs input_ids,
attention_mask, position_ids, past_key_values.{i}.key|value [batch, heads, past, head_dim];
outputs logits, present.{i}.key|value. Also writes parity.json: PyTorch logits that
check_onnx.mjs compares against onnxruntime (with and without cache, at several past lengths).
"""
from __future__ import annotations

import argparse
import json
import os
import warnings

import torch

from .common import cpu_threads, load_card, load_checkpoint
from .model import EOS_ID, GPT
from .tokenizer import tokenizer_config, tokenizer_json

OPSET = 14


class OnnxWrapper(torch.nn.Module):
    def __init__(self, model: GPT):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *flat_past):
        past = [(flat_past[2 * i], flat_past[2 * i + 1]) for i in range(len(flat_past) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        return (logits, *[t for kv in presents for t in kv])


def export(model: GPT, out_dir: str) -> str:
    model = model.cpu().eval()
    cfg = model.cfg
    head_dim = cfg.n_embd // cfg.n_head
    past_len, seq = 3, 2
    past = []
    for _ in range(cfg.n_layer):
        past += [torch.randn(1, cfg.n_head, past_len, head_dim), torch.randn(1, cfg.n_head, past_len, head_dim)]
    ids = torch.tensor([[72, 105]])
    inputs = (ids, torch.ones(1, past_len + seq, dtype=torch.long), torch.tensor([[past_len, past_len + 1]]), *past)
    past_names = [f"past_key_values.{i}.{kv}" for i in range(cfg.n_layer) for kv in ("key", "value")]
    present_names = [f"present.{i}.{kv}" for i in range(cfg.n_layer) for kv in ("key", "value")]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for name in past_names:
        axes[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in present_names:
        axes[name] = {0: "batch_size", 2: "total_sequence_length"}
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    path = os.path.join(out_dir, "onnx", "model.onnx")
    with torch.no_grad():
        torch.onnx.export(OnnxWrapper(model), inputs, path, opset_version=OPSET,
                          input_names=["input_ids", "attention_mask", "position_ids", *past_names],
                          output_names=["logits", *present_names], dynamic_axes=axes, do_constant_folding=True)
    return path


def write_folder_files(model: GPT, out_dir: str, card: dict) -> None:
    cfg = model.cfg
    files = {
        "config.json": cfg.hf_config(),
        "generation_config.json": {"bos_token_id": EOS_ID, "eos_token_id": EOS_ID, "max_length": cfg.n_positions},
        "tokenizer.json": tokenizer_json(),
        "tokenizer_config.json": tokenizer_config(cfg.n_positions),
        "training.json": card,
    }
    for name, obj in files.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1 if name != "tokenizer.json" else None)


@torch.no_grad()
def write_parity(model: GPT, out_dir: str) -> None:
    """Reference logits for a fixed multilingual byte sequence (no cache, one pass)."""
    text = "Hello, world! Привет, мир. こんにちは世界。 مرحبا بالعالم नमस्ते दुनिया"
    ids = list(text.encode("utf-8"))[:60]
    logits, _ = model.cpu().eval()(torch.tensor([ids]))
    with open(os.path.join(out_dir, "parity.json"), "w") as f:
        json.dump({"input_ids": ids, "logits": logits[0].tolist(), "tolerance": 1e-4}, f)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--parity-dir", required=True, help="where parity.json goes (not shipped)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")  # tracer warnings about shape-dependent constants
    torch.set_num_threads(cpu_threads())
    model = load_checkpoint(args.checkpoint)
    os.makedirs(args.out, exist_ok=True)
    export(model, args.out)
    write_folder_files(model, args.out, load_card(args.checkpoint))
    os.makedirs(args.parity_dir, exist_ok=True)
    write_parity(model, args.parity_dir)
    print(f"exported {args.out} ({model.num_params() / 1e6:.2f}M params)")


if __name__ == "__main__":
    main()
