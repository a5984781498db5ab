"""Corpus access: per-language byte blocks from build_corpus.py's train/heldout files."""
from __future__ import annotations

import json
import os

import numpy as np
import torch


# Specialist drafters' groups, by the script a language is written in (build_corpus.py's index),
# never by which languages are evaluated; a script not named here is in "other".
SCRIPT_GROUPS = {
    "latin": ("Latin",),
    "cyrillic": ("Cyrillic",),
    "cjk": ("Han", "Kana", "Hangul"),
    "indic": ("Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala"),
}
GROUPS = (*SCRIPT_GROUPS, "other")


def script_group(script: str) -> str:
    return next((group for group, scripts in SCRIPT_GROUPS.items() if script in scripts), "other")


class Corpus:
    """One split (train or heldout): a memory-mapped byte file plus its language index; with
    `group`, only the languages of that script group (SCRIPT_GROUPS)."""

    def __init__(self, corpus_dir: str, split: str, group: str | None = None):
        bin_path = os.path.join(corpus_dir, f"{split}.bin")
        idx_path = os.path.join(corpus_dir, f"{split}.json")
        for path in (bin_path, idx_path):
            if not os.path.exists(path):
                raise SystemExit(f"corpus file missing: {path} (run build_corpus.py first)")
        self.data = np.memmap(bin_path, dtype=np.uint8, mode="r")
        self.index = json.load(open(idx_path, encoding="utf-8"))["languages"]
        empty = [lang for lang, e in self.index.items() if e["length"] <= 0]
        if empty:
            raise SystemExit(f"corpus {split}: languages with no text: {', '.join(sorted(empty))}")
        if group is not None:
            if group not in GROUPS:
                raise SystemExit(f"unknown script group {group!r}; known: {', '.join(GROUPS)}")
            self.index = {l: e for l, e in self.index.items() if script_group(e.get("script", "Latin")) == group}
            if not self.index:
                raise SystemExit(f"corpus {split}: no language in script group {group}")

    def languages(self) -> list[str]:
        return sorted(self.index)

    def block(self, lang: str) -> np.ndarray:
        e = self.index[lang]
        return self.data[e["offset"]: e["offset"] + e["length"]]

    def tier(self, lang: str) -> str:
        return self.index[lang]["tier"]


def sample_windows(blocks: list[np.ndarray], n: int, length: int, rng: np.random.Generator) -> torch.Tensor:
    """n windows of `length` bytes, each from a block chosen uniformly from `blocks`
    (a block shorter than `length` is padded by repetition). Returns int64 [n, length]."""
    out = np.empty((n, length), dtype=np.int64)
    choice = rng.integers(0, len(blocks), size=n)
    for row, bi in enumerate(choice):
        block = blocks[bi]
        if len(block) > length:
            start = int(rng.integers(0, len(block) - length))
            out[row] = block[start: start + length]
        else:
            out[row] = np.resize(np.asarray(block), length)
    return torch.from_numpy(out)


class NaturalMix:
    """Windows drawn in proportion to each language's bytes: the imbalanced mix."""

    def __init__(self, corpus: Corpus, length: int, seed: int):
        self.corpus, self.length = corpus, length
        self.langs = corpus.languages()
        sizes = np.array([corpus.index[l]["length"] for l in self.langs], dtype=np.float64)
        self.p = sizes / sizes.sum()
        self.rng = np.random.default_rng(seed)

    def batch(self, n: int) -> torch.Tensor:
        picks = self.rng.choice(len(self.langs), size=n, p=self.p)
        blocks = [self.corpus.block(self.langs[i]) for i in picks]
        return torch.cat([sample_windows([b], 1, self.length, self.rng) for b in blocks])


def build_tasks(corpus: Corpus, min_bytes: int, n_groups: int) -> dict[str, list[str]]:
    """s-CDF task set, decided by the training corpus alone (never by which languages are
    evaluated): every high- or mid-tier language (build_corpus.py's tiers, by bytes of text) with
    at least `min_bytes` is its own task; the long tail of smaller languages with at least
    `min_bytes` is dealt round-robin, in (script, code) order, into n_groups tasks so each step
    still sees them without 400 separate noisy estimates."""
    tasks: dict[str, list[str]] = {}
    tail = []
    for lang in corpus.languages():
        if corpus.index[lang]["length"] < min_bytes:
            continue
        if corpus.tier(lang) in ("high", "mid"):
            tasks[lang] = [lang]
        else:
            tail.append(lang)
    tail.sort(key=lambda l: (corpus.index[l].get("script", ""), l))
    for i, lang in enumerate(tail):
        tasks.setdefault(f"tail-{i % n_groups}", []).append(lang)
    return tasks
