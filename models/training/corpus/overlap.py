"""UDHR must never reach training: the share of each UDHR text's byte n-grams found in a corpus
blob (train.bin, heldout.bin).

A byte n-gram of 64 bytes (about 20 characters of a three-byte script, 60 of a Latin one) is long
enough that unrelated text shares almost none with the Declaration, and short enough that a
copied article, or a sentence of one, is found whatever surrounds it. Hashes are polynomial over
uint64 (wrapping), compared exactly; a collision between 2^64 values is not a concern here.

  python3 -m corpus.overlap --corpus DIR    # checks DIR/udhr.json against DIR/train.bin, heldout.bin
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

N = 64
# A share above this is copied text, not chance: legal phrasing ("everyone has the right to")
# recurs, but not 64 bytes of it at a time in more than a handful of places.
MAX_SHARE = 0.01
_BASE = np.uint64(1099511628211)


def ngram_hashes(data: np.ndarray, n: int = N) -> np.ndarray:
    """Hashes of every byte n-gram of `data` (uint8 [len]) -> uint64 [len - n + 1]."""
    if data.size < n:
        return np.empty(0, dtype=np.uint64)
    count = data.size - n + 1
    h = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            h *= _BASE
            h += data[k:k + count].astype(np.uint64)
    return h


def udhr_overlap(blob: np.ndarray, texts: dict[str, str], n: int = N) -> dict[str, float]:
    """Per language: the share of its UDHR text's distinct n-grams that occur anywhere in `blob`."""
    found = set()
    per_language = {}
    for code, text in texts.items():
        per_language[code] = np.unique(ngram_hashes(np.frombuffer(text.encode("utf-8"), dtype=np.uint8), n))
    wanted = np.unique(np.concatenate(list(per_language.values()))) if per_language else np.empty(0, np.uint64)
    # In slices, so a 40 MB blob needs a few hundred MB rather than 8 bytes per position at once.
    step = 1 << 24
    for start in range(0, max(0, blob.size - n + 1), step):
        hashes = ngram_hashes(blob[start:start + step + n - 1], n)
        found.update(np.intersect1d(hashes, wanted).tolist())
    hits = np.fromiter(found, dtype=np.uint64, count=len(found))
    return {code: float(np.isin(grams, hits).mean()) if grams.size else 0.0 for code, grams in per_language.items()}


def check_corpus(corpus_dir: str, max_share: float = MAX_SHARE) -> dict[str, dict[str, float]]:
    """Overlap of udhr.json with train.bin and heldout.bin; raises when any language exceeds `max_share`."""
    with open(os.path.join(corpus_dir, "udhr.json"), encoding="utf-8") as fh:
        texts = {code: entry["text"] for code, entry in json.load(fh).items()}
    report, leaks = {}, []
    for name in ("train.bin", "heldout.bin"):
        blob = np.fromfile(os.path.join(corpus_dir, name), dtype=np.uint8)
        report[name] = udhr_overlap(blob, texts)
        leaks += [f"{code} in {name}: {share:.1%}" for code, share in report[name].items() if share > max_share]
    if leaks:
        raise RuntimeError(f"UDHR text reached the training corpus ({N}-byte n-grams shared, above {max_share:.0%}): " + ", ".join(leaks))
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", required=True, help="a folder build_corpus.py wrote")
    ap.add_argument("--max-share", type=float, default=MAX_SHARE)
    args = ap.parse_args(argv)
    try:
        report = check_corpus(args.corpus, args.max_share)
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 1
    for name, shares in report.items():
        worst = max(shares, key=shares.get)
        print(f"{name}: UDHR {N}-byte n-grams found: worst {worst} {shares[worst]:.2%}, mean {np.mean(list(shares.values())):.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
