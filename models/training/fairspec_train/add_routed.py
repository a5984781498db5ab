"""Adds the routed column to a pack's existing eval.json and redraws report.svg, from the
per-drafter figures the file already holds: for a pack evaluated before the report had the
column. Evaluates nothing; the figures come out as `report` would give them.

  python -m fairspec_train.add_routed --pack ../default
"""
from __future__ import annotations

import argparse
import json
import os

from .report import print_set, routed_columns, specialist_languages, write_chart


def shipped_drafters(pack: str, evaluated: dict) -> list[str]:
    """The pack's drafter folders that eval.json has figures for, the baseline first."""
    names = sorted(n for n in os.listdir(pack) if n in evaluated and os.path.isdir(os.path.join(pack, n)))
    if "drafter-baseline" not in names:
        raise SystemExit(f"{pack}: eval.json has no figures for a drafter-baseline folder of the pack")
    return ["drafter-baseline", *(n for n in names if n != "drafter-baseline")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", required=True)
    args = ap.parse_args(argv)
    path = os.path.join(args.pack, "eval.json")
    report = json.load(open(path, encoding="utf-8"))
    shipped = shipped_drafters(args.pack, report["sets"]["udhr"]["drafters"])
    only = specialist_languages(args.pack, shipped)
    for set_name, entry in report["sets"].items():
        entry.update(routed_columns(entry["drafters"], shipped, only))
        print_set(set_name, entry)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    write_chart(args.pack, report, shipped)
    print(f"wrote {path} and report.svg (routed among {', '.join(shipped)})")


if __name__ == "__main__":
    main()
