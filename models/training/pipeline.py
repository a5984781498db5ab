#!/usr/bin/python3
"""Rebuilds the model pack with one command: corpus -> verifier -> baseline drafter ->
fine-tunes (s-CDF and controls) -> ONNX export -> parity + timing -> report -> zero-cost
drafters (n-gram tables, prompt lookup) -> routing.json from measured speed-ups.

  /usr/bin/python3 models/training/pipeline.py --profile cpu --pack models/default

A stage whose output already exists is skipped (resume after a failure); --from STAGE
reruns that stage and everything after it.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fairspec_train.data import GROUPS, script_group  # noqa: E402
from fairspec_train.profiles import PROFILES  # noqa: E402

STAGES = ["corpus", "verifier", "drafter", "finetune", "specialists", "export", "check", "report", "zero-cost", "route"]
SHIPPED = ["verifier", "drafter-baseline", "drafter-scdf"]
# Evaluated in the report beside the shipped ones: both s-CDF weightings and the two controls.
COMPARED = ["drafter-scdf-k", "drafter-scdf-kl", "drafter-balanced", "drafter-cont"]
EVAL_LANGS_FROM = "udhr.json"


def run(cmd: list[str], log_name: str, work: str) -> None:
    print(f"$ {' '.join(cmd)}", flush=True)
    # OpenBLAS's own pthread pool spins (sched_yield) beside torch's OpenMP threads: keep one.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": os.environ.get("FAIRSPEC_TORCH_THREADS", "1")}
    t0 = time.time()
    with open(os.path.join(work, f"{log_name}.log"), "a") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=HERE, env=env)
        for line in proc.stdout:
            if "Warning" in line or "warnings.warn" in line:
                continue
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            log.flush()
        if proc.wait() != 0:
            raise SystemExit(f"stage {log_name} failed (exit {proc.returncode}); see {work}/{log_name}.log")
    print(f"-- {log_name} took {time.time() - t0:.0f}s", flush=True)


def run_parallel(jobs: list[tuple[list[str], str]], work: str) -> None:
    """Runs stages side by side (one CPU core each by default), failing if any fails."""
    errors: list[BaseException] = []

    def target(cmd, name):
        try:
            run(cmd, name, work)
        except BaseException as exc:  # SystemExit from run() carries the message
            errors.append(exc)

    threads = [threading.Thread(target=target, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(str(errors[0]))


def present_groups(corpus: str) -> list[str]:
    """The script groups (fairspec_train.data.GROUPS) the training corpus has a language in."""
    index = json.load(open(os.path.join(corpus, "train.json"), encoding="utf-8"))["languages"]
    found = {script_group(e.get("script", "Latin")) for e in index.values()}
    return [g for g in GROUPS if g in found]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    ap.add_argument("--pack", default=os.path.join(HERE, "..", "default"))
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--from", dest="from_stage", choices=STAGES)
    ap.add_argument("--until", choices=STAGES, default=STAGES[-1])
    args = ap.parse_args()
    prof = PROFILES[args.profile]
    py = sys.executable
    work, pack = os.path.abspath(args.work), os.path.abspath(args.pack)
    corpus, ckpt = os.path.join(work, "corpus"), os.path.join(work, "checkpoints")
    os.makedirs(ckpt, exist_ok=True)
    dev = ["--device", prof["device"]]
    first = STAGES.index(args.from_stage) if args.from_stage else None

    def wanted(stage: str, output: str) -> bool:
        i = STAGES.index(stage)
        if i > STAGES.index(args.until) or (first is not None and i < first):
            return False
        return first is not None or not os.path.exists(output)

    if wanted("corpus", os.path.join(corpus, "udhr.json")):
        run([py, "build_corpus.py", "--out", corpus, *prof["corpus"]], "corpus", work)
    if not os.path.exists(os.path.join(corpus, EVAL_LANGS_FROM)):
        raise SystemExit(f"corpus missing: {corpus}/{EVAL_LANGS_FROM} does not exist (run the corpus stage first)")
    eval_langs = ",".join(sorted(json.load(open(os.path.join(corpus, EVAL_LANGS_FROM)))))
    # The drafter's next-byte warm-up needs no verifier: it runs beside the verifier's training.
    pretrain = [py, "-m", "fairspec_train.train_drafter", "--corpus", corpus, "--phase", "next_byte",
                "--out", f"{ckpt}/drafter-warmup", *dev, *prof["drafter"], *prof["drafter_warmup"]]
    jobs = []
    if wanted("verifier", os.path.join(ckpt, "verifier", "pytorch_model.bin")):
        jobs.append(([py, "-m", "fairspec_train.train_verifier", "--corpus", corpus, "--out", f"{ckpt}/verifier", *dev, *prof["verifier"]], "verifier"))
    baseline_wanted = wanted("drafter", os.path.join(ckpt, "drafter-baseline", "pytorch_model.bin"))
    if baseline_wanted and (first is not None or not os.path.exists(os.path.join(ckpt, "drafter-warmup", "pytorch_model.bin"))):
        jobs.append((pretrain, "drafter-warmup"))
    run_parallel(jobs, work)
    if baseline_wanted:
        run([py, "-m", "fairspec_train.train_drafter", "--corpus", corpus, "--verifier", f"{ckpt}/verifier", "--phase", "distill",
             "--init", f"{ckpt}/drafter-warmup", "--out", f"{ckpt}/drafter-baseline", *dev, *prof["drafter"]], "drafter", work)
    # On a GPU the teacher pool and the held-out outputs are rebuilt in seconds; on CPU they are
    # kept for reruns, and each language's held-out outputs serve its specialist too.
    on_cpu = prof["device"] == "cpu"
    held_out_cache = ["--held-out-cache", f"{work}/held-out"] if on_cpu else []
    if wanted("finetune", os.path.join(ckpt, "drafter-cont", "pytorch_model.bin")):
        pool_cache = ["--pool-cache", f"{work}/teacher-pool.pt"] if on_cpu else []
        run([py, "-m", "fairspec_train.finetune_drafter", "--corpus", corpus, "--verifier", f"{ckpt}/verifier",
             "--drafter", f"{ckpt}/drafter-baseline", "--out-dir", ckpt, *pool_cache, *held_out_cache, *dev, *prof["finetune"]], "finetune", work)
    groups = present_groups(corpus)
    shipped = [*SHIPPED, *(f"drafter-{g}" for g in groups)]
    if wanted("specialists", os.path.join(ckpt, shipped[-1], "pytorch_model.bin")):
        # Each specialist: the shipped s-CDF weighting, distilled and tuned on its script group alone.
        signal = json.load(open(os.path.join(ckpt, "drafter-scdf", "training.json")))["weight_signal"]
        for group in groups:
            pool_cache = ["--pool-cache", f"{work}/teacher-pool-{group}.pt"] if on_cpu else []
            run([py, "-m", "fairspec_train.finetune_drafter", "--corpus", corpus, "--verifier", f"{ckpt}/verifier",
                 "--drafter", f"{ckpt}/drafter-baseline", "--out-dir", ckpt, "--group", group, "--modes", f"scdf-{signal}",
                 *pool_cache, *held_out_cache, *dev, *prof["finetune"], *prof["specialists"]], "specialists", work)
    if wanted("export", os.path.join(pack, shipped[-1], "onnx", "model.onnx")):
        for name in shipped:
            shutil.rmtree(os.path.join(pack, name), ignore_errors=True)
            run([py, "-m", "fairspec_train.export_onnx", "--checkpoint", f"{ckpt}/{name}", "--out", f"{pack}/{name}",
                 "--parity-dir", f"{work}/parity/{name}"], "export", work)
    timing = {name: f"{work}/parity/{name}/timing.json" for name in ("verifier", "drafter-baseline")}
    if wanted("check", timing["drafter-baseline"]):
        for name in shipped:
            cmd = ["node", "check_onnx.mjs", f"{pack}/{name}", "--parity", f"{work}/parity/{name}/parity.json"]
            if name in timing:
                cmd += ["--time", timing[name], "--reps", prof["timing_reps"]]
            run(cmd, "check", work)
    if wanted("report", os.path.join(pack, "eval.json")):
        run([py, "-m", "fairspec_train.report", "--corpus", corpus, "--work", ckpt, "--pack", pack,
             "--drafters", ",".join([*shipped[1:], *COMPARED]), "--shipped", ",".join(shipped[1:]),
             "--verifier-timing", timing["verifier"], "--drafter-timing", timing["drafter-baseline"], *prof["report"]], "report", work)
        run([py, "-m", "fairspec_train.cards", "--pack", pack, "--corpus", corpus], "report", work)
    # The zero-cost drafters and the measured routes run in Node on the exported pack (src/engine).
    node = ["node", "--import", "tsx"]
    if wanted("zero-cost", os.path.join(pack, "drafter-ngram", "ngram.json")):
        run([*node, "build_ngram_drafter.ts", "--corpus", corpus, "--verifier", f"{pack}/verifier", "--out", f"{pack}/drafter-ngram", *prof["ngram"]], "zero-cost", work)
        run([*node, "build_lookup_drafter.ts", "--out", f"{pack}/drafter-lookup"], "zero-cost", work)
    if wanted("route", os.path.join(pack, "routing-evidence.json")):
        run([*node, "route_drafters.ts", "--pack", pack, "--languages", eval_langs, *prof["route"]], "route", work)
    print(f"pack ready: {pack}" if args.until == STAGES[-1] else f"stopped after stage {args.until}")


if __name__ == "__main__":
    main()
