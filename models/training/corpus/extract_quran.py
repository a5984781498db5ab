"""Quran translations from the npm package quran-json (dist/quran_<l>.json)."""
import glob
import json
import os

from . import languages
from .documents import Doc


def read_translation(path):
    with open(path, encoding="utf-8") as fh:
        chapters = json.load(fh)
    key = "text" if path.endswith("quran.json") else "translation"
    return [verse[key] for chapter in chapters for verse in chapter["verses"]]


def find(package_dir):
    dist = os.path.join(package_dir, "dist")
    docs = {"ar": [Doc("quran", os.path.join(dist, "quran.json"), read_translation)]}
    for path in sorted(glob.glob(os.path.join(dist, "quran_*.json"))):
        locale = os.path.basename(path)[6:-5]
        if locale == "transliteration":
            continue
        docs.setdefault(languages.canonical(locale), []).append(Doc("quran", path, read_translation))
    return docs
