"""Fairness summary of per-language evaluation results, and the routing table they imply."""
from __future__ import annotations

import statistics

from .evaluate import population_variance
from .speedup import VerifyCost, best_gamma


def summarise(results: dict, c: float, gamma_max: int, verify_cost: VerifyCost | None = None) -> dict:
    """Per drafter: mean and worst alpha, U = Var_L(K_L), U_KL = Var_L(KL_L), predicted
    speed-up per language at gamma* for sampled requests (from alpha) and for greedy ones
    (from the greedy agreement), and the max/min ratio of the sampled speed-ups."""
    drafters = sorted(next(iter(results.values()))["drafters"])
    out = {}
    for name in drafters:
        per_lang = {}
        for lang, r in results.items():
            d = r["drafters"][name]
            gamma, s = best_gamma(d["alpha"], c, gamma_max, verify_cost)
            greedy_gamma, greedy_s = best_gamma(d["greedy_agreement"], c, gamma_max, verify_cost)
            per_lang[lang] = {**d, "best_gamma": gamma, "predicted_speedup": s,
                              "best_gamma_greedy": greedy_gamma, "predicted_speedup_greedy": greedy_s}
        out[name] = aggregate(per_lang)
    return out


def aggregate(per_lang: dict) -> dict:
    """One drafter's (or the routed configuration's) figures over languages."""
    alphas = {l: v["alpha"] for l, v in per_lang.items()}
    speedups = [v["predicted_speedup"] for v in per_lang.values()]
    worst = min(alphas, key=alphas.get)
    agreement = {l: v["greedy_agreement"] for l, v in per_lang.items()}
    worst_greedy = min(agreement, key=agreement.get)
    return {
        "mean_alpha": statistics.fmean(alphas.values()),
        "worst_alpha": alphas[worst], "worst_language": worst,
        "mean_greedy_agreement": statistics.fmean(agreement.values()),
        "worst_greedy_agreement": agreement[worst_greedy], "worst_greedy_language": worst_greedy,
        "mean_predicted_speedup_greedy": statistics.fmean(v["predicted_speedup_greedy"] for v in per_lang.values()),
        "U": population_variance([v["cross_entropy_nats"] for v in per_lang.values()]),
        "U_KL": population_variance([v["kl_nats"] for v in per_lang.values()]),
        "mean_predicted_speedup": statistics.fmean(speedups),
        "worst_predicted_speedup": min(speedups),
        "speedup_max_min_ratio": max(speedups) / min(speedups),
        "languages": per_lang,
    }


def candidates(shipped: list[str], lang: str, only: dict[str, set[str]] | None) -> list[str]:
    """The shipped drafters that may serve `lang`: a specialist (in `only`, with its languages) only
    its own, as the route stage measures them; every other drafter everywhere."""
    return [d for d in shipped if only is None or d not in only or lang in only[d]]


def routed(summary: dict, shipped: list[str], only: dict[str, set[str]] | None = None) -> dict:
    """The routed configuration as one more column: per language, the shipped drafter with the best
    predicted sampled speed-up (the drafter routing_table routes to, plain decoding aside) and its
    figures, with `drafter` naming it; then the same figures over languages as for one drafter."""
    langs = sorted(next(iter(summary.values()))["languages"])
    per_lang = {}
    for lang in langs:
        name = max(candidates(shipped, lang, only), key=lambda d: summary[d]["languages"][lang]["predicted_speedup"])
        per_lang[lang] = {**summary[name]["languages"][lang], "drafter": name}
    return aggregate(per_lang)


def relative(summary: dict, baseline: str) -> dict:
    """Each drafter's change against the baseline drafter (relative U, absolute alpha)."""
    base = summary[baseline]
    return {name: {"U_change": s["U"] / base["U"] - 1.0 if base["U"] else 0.0,
                   "U_KL_change": s["U_KL"] / base["U_KL"] - 1.0 if base["U_KL"] else 0.0,
                   "mean_alpha_change": s["mean_alpha"] - base["mean_alpha"],
                   "worst_alpha_change": s["worst_alpha"] - base["worst_alpha"]}
            for name, s in summary.items()}


def served_name(folder: str) -> str:
    """The server names the drafter in folder `drafter-NAME` NAME."""
    return folder[len("drafter-"):] if folder.startswith("drafter-") else folder


def routing_table(summary: dict, shipped: list[str], regime: str = "sampled", only: dict[str, set[str]] | None = None) -> dict:
    """Per language the shipped drafter and gamma with the best predicted speed-up in the
    regime ('sampled': from alpha; 'greedy': from the greedy agreement); drafter null and
    gamma 0 where speculation would not pay. Drafters by served name."""
    suffix = "_greedy" if regime == "greedy" else ""
    speed, gamma_key = f"predicted_speedup{suffix}", f"best_gamma{suffix}"
    langs = sorted(next(iter(summary.values()))["languages"])
    table = {}
    for lang in langs:
        name = max(candidates(shipped, lang, only), key=lambda d: summary[d]["languages"][lang][speed])
        best = summary[name]["languages"][lang]
        if best[gamma_key] == 0:
            table[lang] = {"drafter": None, "draft_length": 0}
        else:
            table[lang] = {"drafter": served_name(name), "draft_length": best[gamma_key]}
    general = [d for d in shipped if only is None or d not in only]
    default_drafter = max(general, key=lambda d: statistics.fmean(v[speed] for v in summary[d]["languages"].values()))
    gammas = [v["draft_length"] for v in table.values() if v["draft_length"] > 0]
    default_gamma = int(statistics.median(gammas)) if gammas else 0
    return {"default": {"drafter": served_name(default_drafter) if default_gamma else None, "draft_length": default_gamma},
            "languages": table}
