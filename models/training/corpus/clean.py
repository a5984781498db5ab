"""Line normalisation and the filters that drop untranslated English fallback."""
import re
import unicodedata

from langdetect import DetectorFactory, detect_langs
from langdetect.lang_detect_exception import LangDetectException

from . import languages

DetectorFactory.seed = 0

# Control/format characters to remove. ZWJ/ZWNJ (U+200C/D) are kept: they are
# orthographic in Persian and Indic scripts.
_DROP = re.compile("[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u200b\u200e\u200f"
                   "\u202a-\u202e\u2060-\u2064\ufeff\ufffd\u2500-\u257f]")
_SPACE = re.compile(r"\s+")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Cheap gate before calling langdetect: a >= 25 char English line almost always
# contains one of these words, and few other-language lines do.
_ENGLISH_WORDS = re.compile(r"\b(the|and|of|is|are|with|for|this|that|you|your|which|from|"
                            r"will|have|has|not|be|can|or|when|if)\b", re.IGNORECASE)


def normalize(text):
    """NFC, drop control characters and box drawing, collapse whitespace."""
    text = _ANSI.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _DROP.sub("", text.replace("\t", " "))
    return _SPACE.sub(" ", text).strip()


def has_letters(line, minimum=2):
    count = 0
    for ch in line:
        if ch.isalpha():
            count += 1
            if count >= minimum:
                return True
    return False


def script_share(line, scripts):
    """Fraction of letters in `line` that belong to one of `scripts`."""
    letters = hits = 0
    for ch in line:
        if ch.isalpha():
            letters += 1
            if languages.script_of(ch) in scripts:
                hits += 1
    return hits / letters if letters else 0.0


def _mostly_ascii_letters(line):
    letters = [ch for ch in line if ch.isalpha()]
    return bool(letters) and sum(ch.isascii() for ch in letters) >= 0.9 * len(letters)


def looks_english(line):
    """langdetect says 'en' with probability > 0.9."""
    try:
        return any(r.lang == "en" and r.prob > 0.9 for r in detect_langs(line))
    except LangDetectException:
        return False


class LineFilter:
    """Decides whether a normalised line is usable text for language `code`."""

    def __init__(self, code, english_lines):
        self.code = code
        self.english = english_lines if code != "en" else frozenset()
        self.scripts = languages.accepted_scripts(code)
        self.latin = languages.script(code) == "Latin"
        self.stats = {"english_exact": 0, "english_langid": 0, "wrong_script": 0}

    def keep(self, line):
        if not has_letters(line):
            return False
        if self.code == "en":
            return True
        if line in self.english:
            self.stats["english_exact"] += 1
            return False
        if not self.latin:
            if script_share(line, self.scripts) < 0.3:
                self.stats["wrong_script"] += 1
                return False
            return True
        if (len(line) >= 25 and _mostly_ascii_letters(line) and _ENGLISH_WORDS.search(line)
                and looks_english(line)):
            self.stats["english_langid"] += 1
            return False
        return True
