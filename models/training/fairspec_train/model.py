"""GPT-2 with Hugging Face parameter names, so a checkpoint loads as GPT2LMHeadModel.

Pre-LayerNorm blocks, tanh-GELU ("gelu_new"), learned positions, head tied to the
token embedding. Linear weights use HF's Conv1D layout [in_features, out_features].
The forward pass takes an explicit attention_mask over past + current positions and
explicit position_ids: the server masks rejected cache slots instead of copying the
cache, so masked keys must get no attention at all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB_SIZE = 257  # 256 bytes + <|endoftext|>
EOS_ID = 256


@dataclass
class GPTConfig:
    n_layer: int = 8
    n_head: int = 8
    n_embd: int = 512
    n_positions: int = 512
    vocab_size: int = VOCAB_SIZE

    def hf_config(self) -> dict:
        return {
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "activation_function": "gelu_new",
            "n_layer": self.n_layer,
            "n_head": self.n_head,
            "n_embd": self.n_embd,
            "n_positions": self.n_positions,
            "n_ctx": self.n_positions,
            "n_inner": None,
            "vocab_size": self.vocab_size,
            "bos_token_id": EOS_ID,
            "eos_token_id": EOS_ID,
            "layer_norm_epsilon": 1e-5,
            "initializer_range": 0.02,
            "resid_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "attn_pdrop": 0.0,
            "scale_attn_weights": True,
            "tie_word_embeddings": True,
            "use_cache": True,
            "torch_dtype": "float32",
        }

    @staticmethod
    def from_hf(cfg: dict) -> "GPTConfig":
        return GPTConfig(cfg["n_layer"], cfg["n_head"], cfg["n_embd"], cfg["n_positions"], cfg["vocab_size"])

    def to_dict(self) -> dict:
        return asdict(self)


class Conv1D(nn.Module):
    """HF's Conv1D: y = x @ W + b with W stored as [in, out]."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head = cfg.n_head
        self.head_dim = cfg.n_embd // cfg.n_head
        self.c_attn = Conv1D(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = Conv1D(cfg.n_embd, cfg.n_embd)

    def forward(self, x, bias, past=None):
        b, s, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        # [b, heads, s, head_dim]
        q, k, v = (t.view(b, s, self.n_head, self.head_dim).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        if bias is None:  # training: plain causal attention, fused where PyTorch has it
            y = causal_attention(q, k, v)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim)) + bias  # [b, h, s, past+s]
            y = torch.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(b, s, d)), (k, v)


class MLP(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.c_fc = Conv1D(cfg.n_embd, 4 * cfg.n_embd)
        self.c_proj = Conv1D(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.mlp = MLP(cfg)

    def forward(self, x, bias, past=None):
        a, present = self.attn(self.ln_1(x), bias, past)
        x = x + a
        return x + self.mlp(self.ln_2(x)), present


class Transformer(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.h = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=1e-5)


class GPT(nn.Module):
    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.transformer = Transformer(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight
        nn.init.normal_(self.transformer.wte.weight, std=0.02)
        nn.init.normal_(self.transformer.wpe.weight, std=0.01)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2's residual scaling
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layer))

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, input_ids, attention_mask=None, position_ids=None, past_key_values=None):
        """input_ids [b, s]; attention_mask [b, past+s] (1 = attend); position_ids [b, s];
        past_key_values: list of (key, value), each [b, heads, past, head_dim].
        Returns logits [b, s, vocab] and the presents (past + s)."""
        b, s = input_ids.shape
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        if position_ids is None:
            position_ids = torch.arange(past_len, past_len + s, device=input_ids.device).unsqueeze(0).expand(b, s)
        x = self.transformer.wte(input_ids) + self.transformer.wpe(position_ids)
        fused = attention_mask is None and past_key_values is None and HAS_SDPA
        bias = None if fused else attention_bias(attention_mask, b, s, past_len, x.dtype, x.device)
        presents = []
        for i, block in enumerate(self.transformer.h):
            x, present = block(x, bias, None if past_key_values is None else past_key_values[i])
            presents.append(present)
        return self.lm_head(self.transformer.ln_f(x)), presents


HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def causal_attention(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def attention_bias(attention_mask, b, s, past_len, dtype, device):
    """Additive bias [b, 1, s, past+s]: causal by physical slot, plus the key mask.
    finfo.min rather than -inf keeps a fully masked row finite (no NaN)."""
    total = past_len + s
    q_pos = torch.arange(past_len, total, device=device).unsqueeze(1)
    k_pos = torch.arange(total, device=device).unsqueeze(0)
    allowed = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)  # [1, 1, s, total]
    if attention_mask is not None:
        allowed = allowed & (attention_mask[:, None, None, :] > 0)
    neg = torch.tensor(torch.finfo(dtype).min, dtype=dtype, device=device)
    zero = torch.tensor(0.0, dtype=dtype, device=device)
    return torch.where(allowed, zero, neg)
