"""Canonical language codes, writing scripts and resource tiers."""
import bisect
import re

HIGH = ["en", "de", "fr", "ru", "ja", "zh", "es"]
MID = ["it", "pt", "pl", "cs", "tr", "nl", "uk", "el", "ko", "ar", "fa", "he", "hi", "th", "vi",
       "id", "bg", "sv", "fi", "hu", "bn", "ta", "ka", "ur", "zh-Hant", "ca", "sr", "da"]

# ISO 639-3 (and a few ISO 639-2/B or macro-language members) -> ISO 639-1.
ISO3_TO_1 = {
    "afr": "af", "amh": "am", "ara": "ar", "arb": "ar", "asm": "as", "aze": "az", "azj": "az",
    "bel": "be", "ben": "bn", "bod": "bo", "tib": "bo", "bos": "bs", "bre": "br", "bul": "bg",
    "cat": "ca", "ces": "cs", "cze": "cs", "cym": "cy", "wel": "cy", "dan": "da", "deu": "de",
    "ger": "de", "ell": "el", "gre": "el", "eng": "en", "epo": "eo", "est": "et", "ekk": "et",
    "eus": "eu", "baq": "eu", "fas": "fa", "per": "fa", "pes": "fa", "fin": "fi", "fra": "fr",
    "fre": "fr", "fry": "fy", "gle": "ga", "gla": "gd", "glg": "gl", "guj": "gu", "hau": "ha",
    "heb": "he", "hin": "hi", "hrv": "hr", "hun": "hu", "hye": "hy", "arm": "hy", "ibo": "ig",
    "ind": "id", "isl": "is", "ice": "is", "ita": "it", "jpn": "ja", "kat": "ka", "geo": "ka",
    "kaz": "kk", "khm": "km", "kan": "kn", "kor": "ko", "kir": "ky", "lat": "la", "ltz": "lb",
    "lit": "lt", "lav": "lv", "lvs": "lv", "mkd": "mk", "mac": "mk", "mal": "ml", "mon": "mn",
    "khk": "mn", "mar": "mr", "msa": "ms", "zsm": "ms", "mlt": "mt", "mya": "my", "bur": "my",
    "nep": "ne", "npi": "ne", "nld": "nl", "dut": "nl", "nno": "nn", "nob": "nb", "nor": "nb",
    "oci": "oc", "ori": "or", "ory": "or", "pan": "pa", "pol": "pl", "por": "pt", "pus": "ps",
    "ron": "ro", "rum": "ro", "rus": "ru", "sin": "si", "slk": "sk", "slo": "sk", "slv": "sl",
    "som": "so", "spa": "es", "sqi": "sq", "alb": "sq", "als": "sq", "srp": "sr", "swa": "sw",
    "swh": "sw", "swe": "sv", "tam": "ta", "tel": "te", "tgk": "tg", "tha": "th", "tir": "ti",
    "tuk": "tk", "tgl": "tl", "tur": "tr", "tat": "tt", "uig": "ug", "ukr": "uk", "urd": "ur",
    "uzb": "uz", "uzn": "uz", "vie": "vi", "xho": "xh", "yid": "yi", "yor": "yo", "zul": "zu",
    "zho": "zh", "chi": "zh", "cmn": "zh", "kin": "rw", "sna": "sn", "nya": "ny", "wol": "wo",
    "lin": "ln", "lug": "lg", "orm": "om", "gaz": "om", "que": "qu", "quy": "qu", "grn": "gn",
    "hat": "ht", "kur": "ku", "kmr": "ku", "ckb": "ckb", "snd": "sd", "div": "dv", "dzo": "dz",
    "lao": "lo", "sme": "se", "tsn": "tn", "tso": "ts", "ven": "ve", "ssw": "ss", "nso": "nso",
    "sot": "st", "fao": "fo", "roh": "rm", "bak": "ba", "chv": "cv", "oss": "os", "kal": "kl",
    "mri": "mi", "smo": "sm", "ton": "to", "fij": "fj", "haw": "haw", "ast": "ast",
}

ZH_HANT = {"zh-hant", "zh-tw", "zh-hk", "zh-mo", "zh_tw", "zh_hk", "zh-hant-tw", "zh-hant-hk"}
# Orthographic / register variants merged into their base language.
VARIANT_BASE = {"be-tarask": "be", "be-x-old": "be", "de-formal": "de", "nl-informal": "nl",
                "hu-formal": "hu", "sh": "sh", "no": "nb", "nb-no": "nb", "valencia": "ca",
                "en-gb": "en", "en-ca": "en", "en-us": "en", "en-au": "en", "en-za": "en",
                "simple": "en", "pt-br": "pt", "pt-pt": "pt"}


def canonical(code):
    """Map a locale/BCP-47/MediaWiki/ISO 639-3 code to the corpus language code.

    >>> canonical('pt_BR'), canonical('zh-TW'), canonical('sr@latin'), canonical('arb')
    ('pt', 'zh-Hant', 'sr', 'ar')
    """
    c = code.strip().lower().replace("_", "-")
    c = c.split(".")[0]
    base_only = c.split("@")[0]
    if c.endswith("@valencia") or c == "ca-valencia":
        return "ca"
    c = base_only
    if c in ZH_HANT or c.startswith("zh-hant"):
        return "zh-Hant"
    if c.startswith("zh"):
        return "zh"
    if c in VARIANT_BASE:
        return VARIANT_BASE[c]
    base = c.split("-")[0]
    if c.startswith("en-"):
        return "en"
    return ISO3_TO_1.get(base, base)


# Code -> primary script. Everything not listed is Latin.
SCRIPT = {
    "ru": "Cyrillic", "uk": "Cyrillic", "bg": "Cyrillic", "be": "Cyrillic", "mk": "Cyrillic",
    "sr": "Cyrillic", "kk": "Cyrillic", "ky": "Cyrillic", "tg": "Cyrillic", "mn": "Cyrillic",
    "tt": "Cyrillic", "ba": "Cyrillic", "cv": "Cyrillic", "os": "Cyrillic", "sah": "Cyrillic",
    "ce": "Cyrillic", "av": "Cyrillic", "udm": "Cyrillic", "kv": "Cyrillic", "mhr": "Cyrillic",
    "myv": "Cyrillic", "mdf": "Cyrillic", "koi": "Cyrillic", "krc": "Cyrillic", "lez": "Cyrillic",
    "inh": "Cyrillic", "kbd": "Cyrillic", "ab": "Cyrillic", "xal": "Cyrillic", "tyv": "Cyrillic",
    "bxr": "Cyrillic", "rue": "Cyrillic", "lbe": "Cyrillic", "mrj": "Cyrillic", "alt": "Cyrillic",
    "el": "Greek", "grc": "Greek", "pnt": "Greek",
    "ar": "Arabic", "fa": "Arabic", "ur": "Arabic", "ps": "Arabic", "ckb": "Arabic",
    "sd": "Arabic", "ug": "Arabic", "arz": "Arabic", "ary": "Arabic", "azb": "Arabic",
    "mzn": "Arabic", "glk": "Arabic", "lrc": "Arabic", "bqi": "Arabic", "prs": "Arabic",
    "skr": "Arabic", "pnb": "Arabic", "ks": "Arabic", "bal": "Arabic", "bgn": "Arabic",
    "sdh": "Arabic", "acm": "Arabic", "apc": "Arabic", "aeb": "Arabic", "arq": "Arabic",
    "he": "Hebrew", "yi": "Hebrew", "lad": "Latin",
    "hi": "Devanagari", "mr": "Devanagari", "ne": "Devanagari", "sa": "Devanagari",
    "mai": "Devanagari", "bho": "Devanagari", "new": "Devanagari", "awa": "Devanagari",
    "anp": "Devanagari", "dty": "Devanagari", "gom": "Devanagari", "doi": "Devanagari",
    "bn": "Bengali", "as": "Bengali", "bpy": "Bengali", "mni": "Bengali",
    "pa": "Gurmukhi", "gu": "Gujarati", "or": "Oriya", "ta": "Tamil", "te": "Telugu",
    "kn": "Kannada", "ml": "Malayalam", "si": "Sinhala", "th": "Thai", "lo": "Lao",
    "bo": "Tibetan", "dz": "Tibetan", "my": "Myanmar", "shn": "Myanmar", "mnw": "Myanmar",
    "ka": "Georgian", "xmf": "Georgian", "hy": "Armenian", "hyw": "Armenian",
    "am": "Ethiopic", "ti": "Ethiopic", "km": "Khmer", "ko": "Hangul",
    "zh": "Han", "zh-Hant": "Han", "yue": "Han", "wuu": "Han", "gan": "Han", "lzh": "Han",
    "ja": "Kana", "iu": "Canadian", "cr": "Canadian", "chr": "Cherokee", "dv": "Thaana",
    "sat": "Ol Chiki", "syc": "Syriac", "arc": "Syriac", "nqo": "NKo", "zgh": "Tifinagh",
    "ii": "Yi", "vai": "Vai", "jv-java": "Javanese", "ban-bali": "Balinese",
}

# Extra scripts also accepted for a language (merged script variants, Japanese kanji).
ALSO_ACCEPTED = {"ja": {"Han"}, "sr": {"Latin"}, "kk": {"Latin", "Arabic"},
                 "tt": {"Latin"}, "ku": {"Arabic"}, "uz": {"Cyrillic"}, "ug": {"Latin"},
                 "ks": {"Devanagari"}, "pa": {"Arabic"}, "sd": {"Devanagari"},
                 "crh": {"Cyrillic"}, "tg": {"Latin"}, "az": {"Arabic"}, "mn": {"Mongolian"},
                 "sh": {"Cyrillic"}, "bs": {"Cyrillic"}, "shi": {"Tifinagh"}, "kab": {"Tifinagh"}}

_RANGES = [
    (0x0041, 0x005A, "Latin"), (0x0061, 0x007A, "Latin"), (0x00C0, 0x02AF, "Latin"),
    (0x0370, 0x03FF, "Greek"), (0x0400, 0x052F, "Cyrillic"), (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"), (0x0600, 0x06FF, "Arabic"), (0x0700, 0x074F, "Syriac"),
    (0x0750, 0x077F, "Arabic"), (0x0780, 0x07BF, "Thaana"), (0x07C0, 0x07FF, "NKo"),
    (0x08A0, 0x08FF, "Arabic"), (0x0900, 0x097F, "Devanagari"), (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"), (0x0A80, 0x0AFF, "Gujarati"), (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"), (0x0C00, 0x0C7F, "Telugu"), (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"), (0x0D80, 0x0DFF, "Sinhala"), (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"), (0x0F00, 0x0FFF, "Tibetan"), (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"), (0x1100, 0x11FF, "Hangul"), (0x1200, 0x139F, "Ethiopic"),
    (0x13A0, 0x13FF, "Cherokee"), (0x1400, 0x167F, "Canadian"), (0x1780, 0x17FF, "Khmer"),
    (0x1800, 0x18AF, "Mongolian"), (0x1B00, 0x1B7F, "Balinese"), (0x1C50, 0x1C7F, "Ol Chiki"),
    (0x1C80, 0x1C8F, "Cyrillic"), (0x1C90, 0x1CBF, "Georgian"), (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"), (0x2C60, 0x2C7F, "Latin"), (0x2D00, 0x2D2F, "Georgian"),
    (0x2D30, 0x2D7F, "Tifinagh"), (0x2D80, 0x2DDF, "Ethiopic"), (0x2DE0, 0x2DFF, "Cyrillic"),
    (0x3040, 0x30FF, "Kana"), (0x3130, 0x318F, "Hangul"), (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xA000, 0xA4CF, "Yi"),
    (0xA500, 0xA63F, "Vai"), (0xA640, 0xA69F, "Cyrillic"), (0xA720, 0xA7FF, "Latin"),
    (0xA8E0, 0xA8FF, "Devanagari"), (0xA980, 0xA9DF, "Javanese"), (0xAC00, 0xD7AF, "Hangul"),
    (0xF900, 0xFAFF, "Han"), (0xFB1D, 0xFB4F, "Hebrew"), (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"), (0xFF21, 0xFF3A, "Latin"), (0xFF41, 0xFF5A, "Latin"),
    (0xFF66, 0xFF9F, "Kana"), (0x20000, 0x2FFFF, "Han"),
]
_STARTS = [r[0] for r in _RANGES]


def script_of(char):
    """Script name of one character, or None if outside the table."""
    cp = ord(char)
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0 and cp <= _RANGES[i][1]:
        return _RANGES[i][2]
    return None


def script(code):
    return SCRIPT.get(code, "Latin")


def accepted_scripts(code):
    return {script(code)} | ALSO_ACCEPTED.get(code, set())


def tier(code):
    if code in HIGH:
        return "high"
    if code in MID:
        return "mid"
    return "low"


_VALID = re.compile(r"^[a-z]{2,3}(-Hant)?$")


def is_language(code):
    """False for codes that are not a language (qqq, test locales, 'x-...')."""
    return bool(_VALID.match(code)) and code not in {"qqq", "qqx", "und", "mul", "zxx", "art"}
