"""Unit tests for the corpus builder's pure functions (no downloads).

Run: /usr/bin/python3 -m unittest discover -s models/training/tests -p test_corpus.py
"""
import os
import sys
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from corpus import clean, languages, markup, mix, overlap  # noqa: E402


class NormalizeTest(unittest.TestCase):
    def test_decomposed_vietnamese_becomes_nfc(self):
        decomposed = unicodedata.normalize("NFD", "Tiếng Việt có dấu")
        self.assertNotEqual(decomposed, "Tiếng Việt có dấu")
        self.assertEqual(clean.normalize(decomposed), "Tiếng Việt có dấu")
        self.assertTrue(unicodedata.is_normalized("NFC", clean.normalize(decomposed)))

    def test_control_chars_and_box_drawing_removed(self):
        self.assertEqual(clean.normalize("a\x00b\u2500\u2502 \x1b[1mc\x1b[0m\t d"), "ab c d")


class EnglishFallbackTest(unittest.TestCase):
    def test_exact_english_source_string_dropped(self):
        f = clean.LineFilter("de", frozenset({"Open the file"}))
        self.assertFalse(f.keep("Open the file"))
        self.assertTrue(f.keep("Datei öffnen"))

    def test_langid_drops_untranslated_english(self):
        f = clean.LineFilter("de", frozenset())
        self.assertFalse(f.keep("This option controls whether the window is shown at startup."))
        self.assertTrue(f.keep("Diese Option legt fest, ob das Fenster beim Start angezeigt wird."))

    def test_non_latin_language_needs_target_script(self):
        f = clean.LineFilter("ru", frozenset())
        self.assertFalse(f.keep("Print the help message and exit"))
        self.assertTrue(f.keep("Показать справку и выйти"))

    def test_english_itself_is_never_filtered(self):
        f = clean.LineFilter("en", frozenset({"Open the file"}))
        self.assertTrue(f.keep("Open the file"))


class MediaWikiMarkupTest(unittest.TestCase):
    def test_strip(self):
        text = "Siehe {{PLURAL:$1|Seite|Seiten}} auf [[Special:Log|dem Logbuch]] für <b>$2</b>."
        self.assertEqual(" ".join(markup.strip_mediawiki(text).split()),
                         "Siehe auf dem Logbuch für .")

    def test_plain_link(self):
        self.assertEqual(markup.strip_mediawiki("[[Hauptseite]]"), "Hauptseite")


class CanonicalCodeTest(unittest.TestCase):
    def test_codes(self):
        cases = {"pt_BR": "pt", "pt-PT": "pt", "zh_CN": "zh", "zh-hans": "zh", "zh_TW": "zh-Hant",
                 "zh-hk": "zh-Hant", "sr-ec": "sr", "sr-el": "sr", "sr@latin": "sr",
                 "kk-cyrl": "kk", "tt-latn": "tt", "deu": "de", "arb": "ar", "pes": "fa",
                 "cmn": "zh", "swh": "sw", "ca@valencia": "ca", "de-formal": "de", "en_GB": "en",
                 "be-tarask": "be", "ast": "ast"}
        for raw, expected in cases.items():
            self.assertEqual(languages.canonical(raw), expected, raw)

    def test_scripts(self):
        self.assertEqual(languages.script("ja"), "Kana")
        self.assertEqual(languages.script("zh-Hant"), "Han")
        self.assertEqual(languages.script_of("ქ"), "Georgian")
        self.assertEqual(languages.script_of("ሰ"), "Ethiopic")


class UdhrOverlapTest(unittest.TestCase):
    ARTICLE = ("Everyone has the right to freedom of thought, conscience and religion; this right includes "
               "freedom to change his religion or belief, and freedom, either alone or in community with others.")
    RUSSIAN = "Каждый человек имеет право на свободу мысли, совести и религии; это право включает свободу менять свою религию."

    def blob(self, text):
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    def test_hashes_match_equal_ngrams_only(self):
        h = overlap.ngram_hashes(self.blob("abcdabcd"), 4)
        self.assertEqual(len(h), 5)
        self.assertEqual(h[0], h[4])
        self.assertEqual(len(set(h.tolist())), 4)

    def test_unrelated_text_shares_nothing(self):
        corpus = self.blob("Open the file and print the help message. " * 50 + "Показать справку и выйти. " * 50)
        shares = overlap.udhr_overlap(corpus, {"en": self.ARTICLE, "ru": self.RUSSIAN})
        self.assertEqual(shares, {"en": 0.0, "ru": 0.0})

    def test_a_copied_sentence_is_found_in_its_language_only(self):
        sentence = self.RUSSIAN.split(";")[0]
        corpus = self.blob("Показать справку и выйти. " * 20 + sentence + " и ещё текст. " * 20)
        shares = overlap.udhr_overlap(corpus, {"en": self.ARTICLE, "ru": self.RUSSIAN})
        self.assertEqual(shares["en"], 0.0)
        self.assertGreater(shares["ru"], 0.2)

    def test_found_across_slice_boundaries(self):
        # A tiny slice size would split the copy; the slices overlap by n - 1 bytes.
        corpus = np.concatenate([np.full((1 << 24) - 30, 32, dtype=np.uint8), self.blob(self.ARTICLE)])
        self.assertEqual(overlap.udhr_overlap(corpus, {"en": self.ARTICLE})["en"], 1.0)

    def test_check_corpus_raises_naming_the_language_and_file(self):
        import json
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "udhr.json"), "w", encoding="utf-8") as fh:
                json.dump({"en": {"text": self.ARTICLE}, "ru": {"text": self.RUSSIAN}}, fh)
            self.blob("clean training text. " * 40).tofile(os.path.join(d, "train.bin"))
            self.blob("held out text. " * 40).tofile(os.path.join(d, "heldout.bin"))
            self.assertEqual(overlap.check_corpus(d)["train.bin"], {"en": 0.0, "ru": 0.0})
            self.blob("held out text. " * 40 + self.RUSSIAN).tofile(os.path.join(d, "heldout.bin"))
            with self.assertRaisesRegex(RuntimeError, r"ru in heldout.bin: 100.0%"):
                overlap.check_corpus(d)


class SplitTest(unittest.TestCase):
    def test_heldout_and_train_never_overlap(self):
        lines = [("src", f"line number {i}") for i in range(1000)]
        target = mix.heldout_size(sum(mix.nbytes(l) for _, l in lines), 0.05, 2048, 8192)
        heldout, train = mix.split(lines, target, cap=5000)
        self.assertTrue(heldout and train)
        self.assertFalse({l for _, l in heldout} & {l for _, l in train})
        self.assertLessEqual(sum(mix.nbytes(l) for _, l in heldout), target)
        self.assertLessEqual(sum(mix.nbytes(l) for _, l in train), 5000)

    def test_heldout_size_clamped(self):
        self.assertEqual(mix.heldout_size(10_000_000, 0.05, 2048, 49152), 49152)
        self.assertEqual(mix.heldout_size(20_000, 0.05, 2048, 8192), 2048)
        self.assertEqual(mix.heldout_size(1000, 0.05, 2048, 8192), 500)

    def test_walk_dedupes_and_round_robins_sources(self):
        from corpus.documents import Doc
        docs = [Doc("a", __file__, lambda p: ["alpha eins", "alpha eins", "alpha zwei"]),
                Doc("b", __file__, lambda p: ["beta eins"])]
        kept, exhausted, _ = mix.walk("de", docs, clean.LineFilter("de", frozenset()), 0, 10**6)
        self.assertTrue(exhausted)
        self.assertEqual(sorted(l for _, l in kept), ["alpha eins", "alpha zwei", "beta eins"])


if __name__ == "__main__":
    unittest.main()
