"""Choosing a fine-tune's hyperparameters on held-out text of the training distribution (never on
UDHR, the evaluation set), from runs with two or more seeds:

  per configuration, per language: alpha and K averaged over its seeds; U = Var_L(mean K);
  feasible: no language's mean alpha falls more than MAX_LOSS below the baseline drafter's;
  chosen: the feasible configuration with the lowest U; none feasible: the one whose worst loss
  is smallest (and the card says so).

The learning rate is bracketed when the chosen one is neither end of a grid of three or more.
"""
from __future__ import annotations

import statistics

MAX_LOSS = 0.02


def seed_mean(fits: list[dict]) -> dict:
    """drafter_fit results of one configuration's seeds -> their mean per language, and U of the means."""
    langs = fits[0]["languages"].keys()
    per = {l: {"alpha": statistics.fmean(f["languages"][l]["alpha"] for f in fits),
               "cross_entropy_nats": statistics.fmean(f["languages"][l]["cross_entropy_nats"] for f in fits)} for l in langs}
    ks = [v["cross_entropy_nats"] for v in per.values()]
    return {"U": statistics.pvariance(ks) if len(ks) > 1 else 0.0, "languages": per,
            "mean_alpha": statistics.fmean(v["alpha"] for v in per.values())}


def worst_loss(fit: dict, base: dict) -> tuple[float, str]:
    """The largest alpha a language loses against the baseline drafter, and which."""
    lang = max(fit["languages"], key=lambda l: base["languages"][l]["alpha"] - fit["languages"][l]["alpha"])
    return base["languages"][lang]["alpha"] - fit["languages"][lang]["alpha"], lang


def choose(results: dict[str, dict], base: dict, max_loss: float = MAX_LOSS) -> tuple[str, bool]:
    """results: configuration key -> seed_mean(...). Returns the chosen key and whether it is feasible."""
    if not results:
        raise ValueError("choose: no configuration was run")
    feasible = [k for k, fit in results.items() if worst_loss(fit, base)[0] <= max_loss]
    if feasible:
        return min(feasible, key=lambda k: results[k]["U"]), True
    return min(results, key=lambda k: worst_loss(results[k], base)[0]), False


def bracketed(chosen: float, grid: list[float]) -> bool:
    """True when the chosen value lies strictly inside a grid of three or more values."""
    values = sorted(set(grid))
    return len(values) >= 3 and values[0] < chosen < values[-1]
