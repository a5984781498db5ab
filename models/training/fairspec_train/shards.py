"""Moves checkpoints between machines in files of bounded size: float weights travel as
float16 (half the bytes), configs, cards and stage logs as text.

  python3 -m fairspec_train.shards pack --work W --names verifier,drafter-baseline --out DIR --prefix base
  python3 -m fairspec_train.shards unpack --work W DIR/base.part*

Unpacked weights are float32 again (values rounded to float16), so everything after
training (ONNX export, parity, report) runs from exactly the weights that travelled.
"""
from __future__ import annotations

import argparse
import glob
import io
import json
import os

import torch


def pack(work: str, names: list[str], out: str, prefix: str, max_mib: float) -> list[str]:
    bundle = {"checkpoints": {}, "logs": {}}
    for name in names:
        folder = os.path.join(work, "checkpoints", name)
        bin_path = os.path.join(folder, "pytorch_model.bin")
        if not os.path.exists(bin_path):
            raise SystemExit(f"checkpoint missing: {bin_path}")
        state = torch.load(bin_path, map_location="cpu")
        bundle["checkpoints"][name] = {
            "state": {k: v.half() if v.is_floating_point() else v for k, v in state.items()},
            "config": open(os.path.join(folder, "config.json")).read(),
            "training": open(os.path.join(folder, "training.json")).read(),
        }
    for log in sorted(glob.glob(os.path.join(work, "*.log"))):
        bundle["logs"][os.path.basename(log)] = open(log, errors="replace").read()
    buf = io.BytesIO()
    torch.save(bundle, buf)
    data, size = buf.getvalue(), int(max_mib * 2**20)
    os.makedirs(out, exist_ok=True)
    paths = []
    for i in range(0, len(data), size):
        paths.append(os.path.join(out, f"{prefix}.part{i // size:02d}"))
        with open(paths[-1], "wb") as f:
            f.write(data[i: i + size])
    return paths


def unpack(work: str, parts: list[str]) -> list[str]:
    """Parts are grouped by their prefix (base.part00, base.part01, ... form one bundle)."""
    if not parts:
        raise SystemExit("no parts given")
    bundles: dict[str, list[str]] = {}
    for part in parts:
        bundles.setdefault(part.rsplit(".part", 1)[0], []).append(part)
    return sorted(name for group in bundles.values() for name in unpack_bundle(work, group))


def unpack_bundle(work: str, parts: list[str]) -> list[str]:
    data = b"".join(open(p, "rb").read() for p in sorted(parts))
    try:
        bundle = torch.load(io.BytesIO(data), map_location="cpu")
    except Exception as exc:
        raise SystemExit(f"parts {', '.join(sorted(parts))} do not form one bundle "
                         f"(missing or truncated part?): {type(exc).__name__}: {exc}") from None
    for name, ckpt in bundle["checkpoints"].items():
        folder = os.path.join(work, "checkpoints", name)
        os.makedirs(folder, exist_ok=True)
        torch.save({k: v.float() if v.is_floating_point() else v for k, v in ckpt["state"].items()},
                   os.path.join(folder, "pytorch_model.bin"))
        open(os.path.join(folder, "config.json"), "w").write(ckpt["config"])
        card = json.loads(ckpt["training"])
        card["transported_as"] = "float16"
        json.dump(card, open(os.path.join(folder, "training.json"), "w"), indent=2)
    os.makedirs(os.path.join(work, "device-logs"), exist_ok=True)
    for name, text in bundle["logs"].items():
        open(os.path.join(work, "device-logs", name), "w").write(text)
    return sorted(bundle["checkpoints"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--work", required=True)
    p.add_argument("--names", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--max-mib", type=float, default=15.0)
    u = sub.add_parser("unpack")
    u.add_argument("--work", required=True)
    u.add_argument("parts", nargs="+")
    args = ap.parse_args(argv)
    if args.cmd == "pack":
        for path in pack(args.work, args.names.split(","), args.out, args.prefix, args.max_mib):
            print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    else:
        print(f"unpacked {', '.join(unpack(args.work, args.parts))} into {args.work}/checkpoints")


if __name__ == "__main__":
    main()
