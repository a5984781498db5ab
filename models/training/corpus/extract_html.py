"""Visible text of translated HTML and Mallard help pages."""
import glob
import os

from . import languages, markup
from .documents import Doc

# source -> (directory holding one sub-directory per language, file suffix)
LAYOUTS = {
    "libreoffice-help": ("usr/share/libreoffice/help", ".html"),
    "debian-handbook": ("usr/share/doc/debian-handbook/html", ".html"),
    "gnome-user-docs": ("usr/share/help", ".page"),
    "installation-guide": ("usr/share/doc/installation-guide-amd64", ".html"),
}
SKIP_LOCALES = {"en-GB", "en_GB", "common"}


def read_page(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        return markup.html_lines(fh.read())


def find(root, source):
    base, suffix = LAYOUTS[source]
    docs = {}
    top = os.path.join(root, base)
    for locale in sorted(os.listdir(top)) if os.path.isdir(top) else []:
        if locale in SKIP_LOCALES or not os.path.isdir(os.path.join(top, locale)):
            continue
        code = "en" if locale in ("C", "en-US", "en-us") else languages.canonical(locale)
        if not languages.is_language(code):
            continue
        paths = sorted(glob.glob(os.path.join(top, locale, "**", "*" + suffix), recursive=True))
        docs.setdefault(code, []).extend(Doc(source, p, read_page) for p in paths)
    return docs
