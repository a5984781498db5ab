"""Writes the decode-step timings a pack's eval.json recorded back out as check_onnx.mjs timing
files, so a pack whose verifier and baseline drafter are unchanged can be reported again (on a
machine without the project's CPU, or without node) with the cost measured for it.

  python3 -m fairspec_train.recorded_timing --report ../default/eval.json --out DIR
  -> DIR/verifier.json, DIR/drafter-baseline.json
"""
from __future__ import annotations

import argparse
import json
import os


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--report", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    cost = json.load(open(args.report, encoding="utf-8"))["cost"]
    os.makedirs(args.out, exist_ok=True)
    for name, key in (("verifier", "verifier_ms"), ("drafter-baseline", "drafter_ms")):
        ms = cost[key]
        timing = {"model": name, "threads": cost["threads"], "past_length": cost["past_length"],
                  "median_ms_by_tokens": ms, "ratio_5_to_1": ms["5"] / ms["1"], "recorded_in": os.path.abspath(args.report)}
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(timing, f, indent=1)
    print(f"wrote {args.out}/verifier.json and drafter-baseline.json from {args.report}")


if __name__ == "__main__":
    main()
