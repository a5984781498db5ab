"""MediaWiki core interface messages (languages/i18n/<code>.json)."""
import glob
import json
import os

from . import languages, markup
from .documents import Doc

I18N = "usr/share/mediawiki/languages/i18n"


def _messages(path):
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as err:
        raise RuntimeError(f"unreadable MediaWiki message file {path}: {err}") from err
    return {k: v for k, v in data.items() if k != "@metadata" and isinstance(v, str)}


class MessageReader:
    """Reads one language file, dropping values identical to en.json."""

    def __init__(self, english):
        self.english = english

    def __call__(self, path):
        lines = []
        for key, value in _messages(path).items():
            if self.english.get(key) == value:
                continue
            lines.append(markup.strip_mediawiki(value))
        return lines


def read_english(path):
    return [markup.strip_mediawiki(v) for v in _messages(path).values()]


def find(root):
    """({lang: [Doc]}, English message lines)."""
    top = os.path.join(root, I18N)
    english = _messages(os.path.join(top, "en.json"))
    reader = MessageReader(english)
    docs = {}
    for path in sorted(glob.glob(os.path.join(top, "*.json"))):
        name = os.path.basename(path)[:-5]
        code = languages.canonical(name)
        if name in ("qqq", "qqx") or not languages.is_language(code):
            continue
        if code == "en":
            if name != "en":
                continue
            docs.setdefault("en", []).append(Doc("mediawiki", path, read_english, catalog=True))
            continue
        docs.setdefault(code, []).append(Doc("mediawiki", path, reader, catalog=True))
    english_lines = {l for v in english.values() for l in markup.strip_mediawiki(v).split("\n")}
    return docs, english_lines
