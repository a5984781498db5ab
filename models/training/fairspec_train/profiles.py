"""Budgets per profile. Every number is also a flag of its stage; these are the defaults
that `pipeline.py --profile P` passes. cpu: the shipped pack on 2 CPU cores in about
two hours; toy: every stage at a size CI runs in a few minutes; gpu: one H100."""

PROFILES = {
    "toy": {
        "device": "cpu",
        "corpus": ["--profile", "toy"],
        "verifier": ["--layers", "2", "--heads", "2", "--dim", "64", "--ctx", "128", "--batch", "4", "--max-steps", "12", "--minutes", "5", "--warmup", "3"],
        "drafter": ["--layers", "1", "--heads", "2", "--dim", "32", "--batch", "4", "--max-steps", "6", "--warmup-minutes", "5", "--minutes", "5"],
        "drafter_warmup": ["--ctx", "128"],
        "finetune": ["--length", "64", "--pool-per-task", "4", "--tasks-per-step", "3", "--windows-per-task", "2", "--steps", "4", "--min-task-bytes", "512", "--lrs", "1e-3,2e-3", "--anchor-shares", "0.4", "--seeds", "3,4", "--select-max-bytes", "600", "--select-min-bytes", "2048",
                     "--targets", "verifier-samples", "--prompt-bytes", "32", "--select-prompts", "3"],
        "specialists": [],
        "report": ["--max-bytes", "600", "--stride", "96", "--sample-bytes", "24", "--served-prompts", "2", "--served-prompt-bytes", "24", "--served-bytes", "8"],
        "timing_reps": "5",
        "ngram": ["--min-language-bytes", "30000", "--script-cap-bytes", "4000", "--fallback-cap-bytes", "1000", "--heldout-bytes", "2000"],
        "route": ["--prompts-per-language", "1", "--prompt-bytes", "48", "--max-tokens", "8", "--neural-draft-lengths", "2", "--zero-cost-draft-lengths", "2,4"],
    },
    "cpu": {
        "device": "cpu",
        "corpus": [],
        "verifier": ["--layers", "7", "--heads", "8", "--dim", "512", "--ctx", "512", "--batch", "8", "--lr", "1.5e-3", "--warmup", "30", "--minutes", "45"],
        "drafter": ["--layers", "2", "--heads", "4", "--dim", "256", "--batch", "8", "--warmup-minutes", "30", "--minutes", "7"],
        "drafter_warmup": ["--ctx", "512"],
        "finetune": ["--length", "256", "--pool-per-task", "16", "--tasks-per-step", "16", "--windows-per-task", "2", "--steps", "120", "--lrs", "2.5e-4,5e-4,1e-3", "--anchor-shares", "0.3,0.5", "--seeds", "3,4", "--select-prompts", "16",
                     "--targets", "verifier-samples", "--prompt-bytes", "128"],
        "specialists": ["--lrs", "2.5e-4,5e-4,1e-3", "--anchor-shares", "0.5"],
        "report": ["--max-bytes", "6000"],
        "timing_reps": "200",
        "ngram": [],
        "route": [],
    },
    "gpu": {
        "device": "cuda",
        "corpus": [],
        "verifier": ["--layers", "7", "--heads", "8", "--dim", "512", "--ctx", "512", "--batch", "128", "--minutes", "4.5", "--lr", "1.5e-3", "--warmup", "200"],
        "drafter": ["--layers", "2", "--heads", "4", "--dim", "256", "--batch", "128", "--warmup-minutes", "0.5", "--minutes", "1.25"],
        "drafter_warmup": ["--ctx", "512"],
        "finetune": ["--length", "256", "--pool-per-task", "512", "--tasks-per-step", "24", "--windows-per-task", "16", "--steps", "600",
                     "--lrs", "5e-4,1e-3,2e-3,4e-3,8e-3", "--anchor-shares", "0.3,0.5", "--seeds", "3,4", "--targets", "verifier-samples", "--prompt-bytes", "128", "--select-prompts", "64"],
        "specialists": [],
        "report": ["--max-bytes", "16000"],
        "timing_reps": "200",
        "ngram": [],
        "route": [],
    },
}
