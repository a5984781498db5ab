"""Unit tests of the training pipeline's pure pieces (run: /usr/bin/python3 -m unittest discover models/training/tests)."""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402

from fairspec_train import add_routed  # noqa: E402
from fairspec_train.evaluate import windows  # noqa: E402
from fairspec_train.losses import acceptance_rate, cross_entropy_to_teacher, scdf_weights  # noqa: E402
from fairspec_train.model import GPT, GPTConfig  # noqa: E402
from fairspec_train.selection import bracketed, choose, seed_mean, worst_loss  # noqa: E402
from fairspec_train.speedup import best_gamma, expected_tokens, measured_verify_cost, speedup  # noqa: E402
from fairspec_train.summary import routed, routing_table, summarise  # noqa: E402
from fairspec_train.tokenizer import bytes_to_unicode, tokenizer_json  # noqa: E402
from fairspec_train.verifier_samples import continue_with_verifier, drafting_mask, sampled_positions  # noqa: E402


def two_language_summary(alphas: dict) -> dict:
    """summarise() of drafters given as name -> (alpha in en, alpha in am); K = 2 - alpha, KL = 1 - alpha."""
    def scores(a):
        return {"alpha": a, "greedy_agreement": a, "cross_entropy_nats": 2 - a, "kl_nats": 1 - a}
    results = {lang: {"drafters": {name: scores(pair[i]) for name, pair in alphas.items()}} for i, lang in enumerate(("en", "am"))}
    return summarise(results, 0.05, 8)


class ScdfWeights(unittest.TestCase):
    def test_without_a_floor_the_best_task_gets_zero_and_the_spread_sets_the_rest(self):
        w = scdf_weights({"en": 1.2, "pl": 1.9, "am": 2.4})
        self.assertEqual(w["en"], 0.0)
        self.assertAlmostEqual(w["am"] / w["pl"], 1.2 / 0.7)
        self.assertAlmostEqual(sum(w.values()) / 3, 1.0)

    def test_a_floor_keeps_every_task_in_the_loss_at_mean_one(self):
        w = scdf_weights({"en": 1.2, "pl": 1.9, "am": 2.4}, floor=0.25)
        self.assertAlmostEqual(sum(w.values()) / 3, 1.0)
        self.assertGreater(w["en"], 0.0)
        self.assertAlmostEqual(w["en"] / w["am"], 0.25 / (1.2 / ((0.7 + 1.2) / 3)))
        self.assertLess(w["en"], w["pl"])

    def test_equal_scores_give_equal_weights(self):
        self.assertEqual(scdf_weights({"en": 2.0, "am": 2.0}, floor=0.5), {"en": 1.0, "am": 1.0})

    def test_bad_arguments_are_errors(self):
        with self.assertRaises(ValueError):
            scdf_weights({})
        with self.assertRaises(ValueError):
            scdf_weights({"en": 1.0}, floor=1.5)


class Selection(unittest.TestCase):
    BASE = {"languages": {"en": {"alpha": 0.80}, "am": {"alpha": 0.50}}}

    @staticmethod
    def fit(en, am, k_en=1.0, k_am=2.0):
        return {"languages": {"en": {"alpha": en, "cross_entropy_nats": k_en}, "am": {"alpha": am, "cross_entropy_nats": k_am}}}

    def test_seed_mean_averages_languages_then_takes_u(self):
        mean = seed_mean([self.fit(0.8, 0.5, 1.0, 2.0), self.fit(0.7, 0.6, 1.0, 1.0)])
        self.assertAlmostEqual(mean["languages"]["en"]["alpha"], 0.75)
        self.assertAlmostEqual(mean["U"], 0.0625)  # K means 1.0 and 1.5

    def test_lowest_u_among_runs_that_cost_no_language_more_than_002(self):
        results = {
            "a": {**seed_mean([self.fit(0.70, 0.60, 1.0, 1.1)]), "U": 0.001},  # en loses 0.10: out
            "b": {**seed_mean([self.fit(0.79, 0.55, 1.0, 1.4)]), "U": 0.04},
            "c": {**seed_mean([self.fit(0.80, 0.52, 1.0, 1.6)]), "U": 0.09},
        }
        self.assertEqual(choose(results, self.BASE), ("b", True))
        self.assertEqual(worst_loss(results["a"], self.BASE)[1], "en")

    def test_none_feasible_takes_the_smallest_loss(self):
        results = {"a": seed_mean([self.fit(0.70, 0.60)]), "b": seed_mean([self.fit(0.75, 0.35)])}
        self.assertEqual(choose(results, self.BASE), ("a", False))

    def test_bracketed_only_strictly_inside_a_grid_of_three(self):
        self.assertTrue(bracketed(1e-3, [5e-4, 1e-3, 2e-3]))
        self.assertFalse(bracketed(2e-3, [5e-4, 1e-3, 2e-3]))
        self.assertFalse(bracketed(1e-3, [1e-3, 2e-3]))


class Distributions(unittest.TestCase):
    def test_alpha_is_one_for_identical_and_overlap_otherwise(self):
        logits = torch.tensor([[2.0, 0.0, -1.0]])
        logp = torch.log_softmax(logits, -1)
        self.assertAlmostEqual(acceptance_rate(logits, logp).item(), 1.0, places=5)
        other = torch.tensor([[-1.0, 0.0, 2.0]])
        p, q = logp.exp()[0], torch.softmax(other, -1)[0]
        self.assertAlmostEqual(acceptance_rate(other, logp).item(), torch.minimum(p, q).sum().item(), places=6)

    def test_cross_entropy_is_entropy_plus_kl(self):
        logp = torch.log_softmax(torch.tensor([[1.0, 0.5, -2.0]]), -1)
        q_logits = torch.tensor([[0.0, 1.0, 0.0]])
        k = cross_entropy_to_teacher(q_logits, logp).item()
        p = logp.exp()
        h = -(p * logp).sum().item()
        kl = (p * (logp - torch.log_softmax(q_logits, -1))).sum().item()
        self.assertAlmostEqual(k, h + kl, places=5)


class Speedup(unittest.TestCase):
    def test_formula(self):
        self.assertAlmostEqual(expected_tokens(0.5, 3), (1 - 0.5 ** 4) / 0.5)
        self.assertAlmostEqual(speedup(0.8, 4, 0.05), expected_tokens(0.8, 4) / 1.2)

    def test_no_speculation_when_alpha_below_cost(self):
        self.assertEqual(best_gamma(0.04, 0.05), (0, 1.0))
        gamma, s = best_gamma(0.8, 0.05)
        self.assertGreater(gamma, 1)
        self.assertGreater(s, 1.0)

    def test_routing_table_turns_off_languages_that_do_not_pay(self):
        summary = {"drafter-d": {"mean_predicted_speedup": 1.5, "languages": {
            "en": {"best_gamma": 4, "predicted_speedup": 2.0}, "am": {"best_gamma": 0, "predicted_speedup": 1.0}}}}
        table = routing_table(summary, ["drafter-d"])
        self.assertEqual(table["languages"]["am"], {"drafter": None, "draft_length": 0})
        self.assertEqual(table["languages"]["en"], {"drafter": "d", "draft_length": 4})
        self.assertEqual(table["default"], {"drafter": "d", "draft_length": 4})


    def test_routed_column_takes_each_languages_fastest_shipped_drafter(self):
        summary = two_language_summary({"drafter-baseline": (0.8, 0.4), "drafter-other": (0.6, 0.7), "drafter-cont": (0.9, 0.9)})
        r = routed(summary, ["drafter-baseline", "drafter-other"])
        self.assertEqual({l: v["drafter"] for l, v in r["languages"].items()}, {"en": "drafter-baseline", "am": "drafter-other"})
        self.assertAlmostEqual(r["worst_alpha"], 0.7)
        self.assertAlmostEqual(r["U"], 0.0025)  # K 1.2 and 1.3
        only_en = routed(summary, ["drafter-baseline", "drafter-other"], {"drafter-other": {"en"}})
        self.assertEqual(only_en["languages"]["am"]["drafter"], "drafter-baseline", "a specialist serves only its own languages")
        table = routing_table(summary, ["drafter-baseline", "drafter-other"], only={"drafter-other": {"am"}})
        self.assertEqual(table["languages"]["am"]["drafter"], "other")
        self.assertEqual(table["default"]["drafter"], "baseline", "never the default route")

    def test_add_routed_gives_an_existing_eval_json_the_column_and_keeps_the_rest(self):
        summary = two_language_summary({"drafter-baseline": (0.8, 0.4), "drafter-ethiopic": (0.9, 0.7), "drafter-cont": (0.95, 0.95)})
        with tempfile.TemporaryDirectory() as pack:
            for name, card in (("drafter-baseline", {}), ("drafter-ethiopic", {"specialist_group": "other", "tasks": {"am": ["am"]}})):
                os.makedirs(os.path.join(pack, name))
                with open(os.path.join(pack, name, "training.json"), "w") as f:
                    json.dump(card, f)
            before = {"cost": {"c": 0.05}, "sets": {"udhr": {"positions": {"en": 10, "am": 10}, "drafters": summary}}}
            with open(os.path.join(pack, "eval.json"), "w") as f:
                json.dump(before, f)
            with contextlib.redirect_stdout(io.StringIO()):
                add_routed.main(["--pack", pack])
            after = json.load(open(os.path.join(pack, "eval.json")))
            self.assertTrue(os.path.exists(os.path.join(pack, "report.svg")))
        udhr = after["sets"]["udhr"]
        # drafter-cont has figures but no folder in the pack: not shipped, never routed to.
        self.assertEqual(udhr["routed"]["among"], ["drafter-baseline", "drafter-ethiopic"])
        # The specialist beats the baseline in en too, but serves only am.
        self.assertEqual({l: v["drafter"] for l, v in udhr["routed"]["languages"].items()}, {"en": "drafter-baseline", "am": "drafter-ethiopic"})
        self.assertAlmostEqual(udhr["relative_to_baseline"]["routed"]["worst_alpha_change"], 0.7 - 0.4)
        self.assertEqual(udhr["drafters"], json.loads(json.dumps(summary)))
        self.assertEqual(after["cost"], before["cost"])

    def test_same_weights_finds_the_copy_drafter_scdf_is(self):
        from fairspec_train.report import same_weights
        with tempfile.TemporaryDirectory() as work:
            for name, blob in (("drafter-baseline", b"a"), ("drafter-scdf", b"k"), ("drafter-scdf-k", b"k"), ("drafter-scdf-kl", b"l")):
                os.makedirs(os.path.join(work, name))
                with open(os.path.join(work, name, "pytorch_model.bin"), "wb") as f:
                    f.write(blob)
            self.assertEqual(same_weights(work, ["drafter-baseline", "drafter-scdf", "drafter-scdf-k", "drafter-scdf-kl"]),
                             {"drafter-scdf-k": "drafter-scdf"})

    def test_greedy_regime_routes_on_greedy_agreement(self):
        summary = {"drafter-d": {"mean_predicted_speedup": 1.5, "languages": {
            "ta": {"best_gamma": 6, "predicted_speedup": 3.0, "best_gamma_greedy": 0, "predicted_speedup_greedy": 1.0},
            "de": {"best_gamma": 5, "predicted_speedup": 2.5, "best_gamma_greedy": 3, "predicted_speedup_greedy": 1.8}}}}
        greedy = routing_table(summary, ["drafter-d"], "greedy")
        self.assertEqual(greedy["languages"]["ta"], {"drafter": None, "draft_length": 0})
        self.assertEqual(greedy["languages"]["de"], {"drafter": "d", "draft_length": 3})
        self.assertEqual(routing_table(summary, ["drafter-d"])["languages"]["ta"], {"drafter": "d", "draft_length": 6})

    def test_verifier_cost_growth_shortens_gamma(self):
        flat = best_gamma(0.7, 0.05, 8)
        v = measured_verify_cost({"1": 5.0, "2": 5.5, "4": 6.5, "8": 10.0})
        self.assertAlmostEqual(v(1), 1.1)
        self.assertAlmostEqual(v(2), 1.2)  # 3 tokens: between the 2- and 4-token times
        self.assertAlmostEqual(v(9), (10.0 + 3.5 / 4 * 2) / 5.0)  # past the table: last slope
        costly = best_gamma(0.7, 0.05, 8, v)
        self.assertLess(costly[0], flat[0])
        self.assertLess(costly[1], flat[1])
        self.assertAlmostEqual(costly[1], speedup(0.7, costly[0], 0.05, v(costly[0])))


class Windows(unittest.TestCase):
    def test_every_position_scored_once(self):
        ids = list(range(1000))
        scored = []
        for window, first in windows(ids, 128, 96):
            scored += window[1:][first:]
        self.assertEqual(scored, ids[1:])


class Model(unittest.TestCase):
    def test_cache_and_masked_slots_match_a_full_pass(self):
        torch.manual_seed(0)
        m = GPT(GPTConfig(2, 2, 32, 64)).eval()
        ids = torch.randint(0, 256, (1, 20))
        full, _ = m(ids)
        _, past = m(ids[:, :8])
        _, junk = m(torch.tensor([[5, 6]]), torch.ones(1, 10, dtype=torch.long), torch.tensor([[8, 9]]), past)
        mask = torch.tensor([[1] * 8 + [0, 0] + [1] * 12])
        rest, _ = m(ids[:, 8:], mask, torch.arange(8, 20)[None], junk)
        self.assertLess((rest - full[:, 8:]).abs().max().item(), 1e-5)

    def test_parameter_names_are_gpt2s(self):
        names = set(GPT(GPTConfig(1, 2, 32, 64)).state_dict())
        for n in ("transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight",
                  "transformer.h.0.mlp.c_fc.bias", "transformer.ln_f.weight", "lm_head.weight"):
            self.assertIn(n, names)


class VerifierSamples(unittest.TestCase):
    def test_positions_after_a_sampled_end_of_text_do_not_count(self):
        eos = 256
        w = torch.tensor([[1, eos, 3, 4, eos, 6, 7], [1, 2, 3, 4, 5, 6, 7]])  # prompt of 3 bytes
        self.assertEqual(drafting_mask(w, 3).tolist(), [[True, True, True, True, False, False],
                                                        [True] * 6])
        self.assertEqual(sampled_positions(w, 3).tolist(), [[False, False, True, True, False, False],
                                                            [False, False, True, True, True, True]])

    def test_continuations_keep_the_prompt_and_follow_the_verifier(self):
        torch.manual_seed(0)
        m = GPT(GPTConfig(1, 2, 32, 64)).eval()
        with torch.no_grad():  # every logit 0: the verifier samples uniformly
            m.lm_head.weight.zero_()
            m.transformer.ln_f.weight.zero_()
            m.transformer.ln_f.bias.zero_()
        prompts = torch.randint(0, 256, (3, 5))
        out = continue_with_verifier(m, prompts, 4, 1.0, seed=1)
        self.assertEqual(out.shape, (3, 9))
        self.assertTrue(torch.equal(out[:, :5], prompts))
        again = continue_with_verifier(m, prompts, 4, 1.0, seed=1)
        self.assertTrue(torch.equal(out, again))
        self.assertFalse(torch.equal(out, continue_with_verifier(m, prompts, 4, 1.0, seed=2)))
        with self.assertRaises(ValueError):
            continue_with_verifier(m, prompts, 60, 1.0, seed=1)


class FromOnnx(unittest.TestCase):
    def test_export_then_import_gives_the_same_weights(self):
        import json
        import tempfile
        import warnings
        from fairspec_train.export_onnx import export
        from fairspec_train.from_onnx import model_from_onnx
        torch.manual_seed(0)
        m = GPT(GPTConfig(2, 2, 32, 64))
        with torch.no_grad():  # trained weights are all distinct (the exporter merges equal initializers)
            for p in m.parameters():
                p.normal_()
        with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export(m, d)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(m.cfg.hf_config(), f)
            back = model_from_onnx(d)
        for name, value in m.state_dict().items():
            self.assertTrue(torch.equal(value, back.state_dict()[name]), name)


class Tokenizer(unittest.TestCase):
    def test_byte_map_is_a_bijection_and_vocab_is_byte_ids(self):
        m = bytes_to_unicode()
        self.assertEqual(len(set(m.values())), 256)
        vocab = tokenizer_json()["model"]["vocab"]
        self.assertEqual(vocab[m[ord("A")]], ord("A"))
        self.assertEqual(vocab["<|endoftext|>"], 256)


class HeldOutCache(unittest.TestCase):
    def test_each_language_is_computed_once_and_serves_its_specialist_from_the_cache(self):
        import argparse
        import numpy as np
        from fairspec_train import finetune_drafter
        from fairspec_train.common import save_checkpoint
        torch.manual_seed(0)
        verifier = GPT(GPTConfig(1, 2, 32, 64)).eval()
        texts = {"en": ("All human beings are born free and equal. " * 12, "Latin"),
                 "ru": ("Все люди рождаются свободными и равными. " * 12, "Cyrillic")}
        with tempfile.TemporaryDirectory() as d:
            corpus, offset, index, blob = os.path.join(d, "corpus"), 0, {}, b""
            os.makedirs(corpus)
            for lang, (text, script) in texts.items():
                raw = text.encode()
                index[lang] = {"offset": offset, "length": len(raw), "tier": "high", "script": script}
                blob, offset = blob + raw, offset + len(raw)
            np.frombuffer(blob, dtype=np.uint8).tofile(os.path.join(corpus, "heldout.bin"))
            with open(os.path.join(corpus, "heldout.json"), "w") as f:
                json.dump({"languages": index}, f)
            save_checkpoint(verifier, os.path.join(d, "verifier"), {})
            args = argparse.Namespace(corpus=corpus, group=None, select_min_bytes=8192, targets="verifier-samples", select_prompts=2,
                                      prompt_bytes=16, length=48, temperature=1.0, select_max_bytes=4000,
                                      verifier=os.path.join(d, "verifier"), held_out_cache=os.path.join(d, "held-out"))
            first, langs = finetune_drafter.held_out_teacher(args, verifier, 3)
            self.assertEqual(langs, ["en", "ru"])
            self.assertEqual(sorted(os.listdir(args.held_out_cache)), ["held-out-en.pt", "held-out-ru.pt"])

            class Unused(torch.nn.Module):
                def forward(self, x):
                    raise AssertionError("the verifier ran although the cache holds the language")
                cfg = verifier.cfg
            unused = Unused()
            unused.p = torch.nn.Parameter(torch.zeros(1))
            args.group = "cyrillic"
            specialist, langs = finetune_drafter.held_out_teacher(args, unused, 3)
            self.assertEqual(langs, ["ru"])
            for a, b in zip(first["ru"][0], specialist["ru"][0]):
                self.assertTrue(torch.equal(a, b))
            # Another seed is another draw: computed again, not taken from the cache.
            with self.assertRaisesRegex(AssertionError, "the verifier ran"):
                finetune_drafter.held_out_teacher(args, unused, 4)


if __name__ == "__main__":
    unittest.main()
