"""Per-language sampling: walk a language's documents, clean, dedupe, split held-out/train."""
import hashlib
import random

from . import clean

CHUNK_BYTES = 4096  # bytes taken from one source before moving to the next


def nbytes(line):
    return len(line.encode("utf-8")) + 1


def _source_lines(code, source, docs, seed, read_hashes):
    rng = random.Random(f"{seed}:{code}:{source}")
    docs = list(docs)
    rng.shuffle(docs)
    for doc in docs:
        with open(doc.path, "rb") as fh:
            read_hashes[doc.path] = (doc.source, hashlib.sha256(fh.read()).hexdigest())
        units = doc.read(doc.path)
        if doc.catalog:
            rng.shuffle(units)
        for unit in units:
            yield from unit.split("\n")


def walk(code, docs, line_filter, seed, budget):
    """Round-robin over sources, keeping clean unique lines until `budget` bytes.

    Returns (lines as [(source, line)], exhausted, read_hashes).
    """
    by_source = {}
    for doc in docs:
        by_source.setdefault(doc.source, []).append(doc)
    read_hashes = {}
    active = [(s, _source_lines(code, s, by_source[s], seed, read_hashes)) for s in sorted(by_source)]
    kept, seen, total = [], set(), 0
    while active and total < budget:
        still = []
        for source, lines in active:
            taken, alive = 0, True
            while taken < CHUNK_BYTES:
                raw = next(lines, None)
                if raw is None:
                    alive = False
                    break
                line = clean.normalize(raw)
                if not line or line in seen:
                    continue
                seen.add(line)
                if line_filter.keep(line):
                    kept.append((source, line))
                    taken += nbytes(line)
            total += taken
            if alive:
                still.append((source, lines))
            if total >= budget:
                break
        active = still
    return kept, not active, read_hashes


def heldout_size(clean_bytes, fraction, minimum, maximum):
    """Target held-out bytes: fraction of the clean text, clamped, never over half of it."""
    return int(min(max(fraction * clean_bytes, minimum), maximum, clean_bytes / 2))


def walk_budget(cap, fraction, maximum):
    """Bytes to collect so both the cap and an exact held-out fraction are known."""
    return max(cap + maximum, int(maximum / fraction))


def split(lines, heldout_bytes, cap):
    """First lines (up to heldout_bytes) are held out; training takes the next ones up to cap."""
    heldout, train, size = [], [], 0
    i = 0
    while i < len(lines) and size + nbytes(lines[i][1]) <= heldout_bytes:
        size += nbytes(lines[i][1])
        heldout.append(lines[i])
        i += 1
    size = 0
    while i < len(lines) and size + nbytes(lines[i][1]) <= cap:
        size += nbytes(lines[i][1])
        train.append(lines[i])
        i += 1
    return heldout, train
