"""Render man pages to plain text with groff."""
import glob
import gzip
import os
import subprocess

from . import languages
from .documents import Doc

GROFF = ["groff", "-k", "-t", "-mandoc", "-Tutf8", "-P-cbou", "-rLL=3000n", "-rHY=0"]
SKIP_DIRS = {"zh_TW"}  # a conversion of zh_CN


def render(path):
    raw = gzip.decompress(open(path, "rb").read()) if path.endswith(".gz") else open(path, "rb").read()
    if raw.lstrip().startswith(b".so "):
        return []
    out = subprocess.run(GROFF, input=raw, capture_output=True,
                         env={**os.environ, "LC_ALL": "C.UTF-8"}).stdout.decode("utf-8", "replace")
    lines = [l for l in out.splitlines() if l.strip()]
    return lines[1:-1]  # header and footer


def find(root):
    """{lang: [Doc]} for every man page under an extracted package root."""
    docs = {}
    man = os.path.join(root, "usr/share/man")
    for path in sorted(glob.glob(os.path.join(man, "*", "*.gz")) + glob.glob(os.path.join(man, "*", "man*", "*.gz"))):
        rel = os.path.relpath(path, man).split(os.sep)
        locale = "en" if rel[0].startswith("man") else rel[0]
        if locale in SKIP_DIRS:
            continue
        docs.setdefault(languages.canonical(locale), []).append(Doc("man", path, render))
    return docs
