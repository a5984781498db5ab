"""Unit tests for the corpus builder's pure functions (no downloads).

Run: /usr/bin/python3 -m unittest discover -s models/training/tests -p test_corpus.py
"""
import os
import sys
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from corpus import clean, languages, markup, mix  # noqa: E402


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
