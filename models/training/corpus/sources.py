"""Which Debian packages each corpus source needs, per build profile."""
import re
from dataclasses import dataclass, field

import fetch_sources

MAN_LANGS = ["de", "fr", "es", "it", "pl", "ru", "pt-br", "nl", "ja", "zh", "uk", "cs", "da",
             "fi", "sv", "hu", "ro", "el", "vi", "tr", "id"]
FORTUNE_LANGS = {"fortunes": "en", "fortunes-de": "de", "fortunes-ru": "ru", "fortunes-pl": "pl",
                 "fortunes-it": "it", "fortunes-cs": "cs", "fortunes-es": "es", "fortunes-zh": "zh",
                 "fortunes-br": "pt", "fortunes-bg": "bg", "fortunes-eo": "eo"}
TOY_FORTUNES = ["fortunes", "fortunes-de", "fortunes-ru", "fortunes-zh"]


@dataclass
class Source:
    name: str
    kind: str  # which extractor reads it: man, fortunes, html, gettext, mediawiki
    required: list
    optional: list = field(default_factory=list)
    patterns: list = None  # tar wildcards to extract; None = whole package


def full_profile():
    man_optional = [f"manpages-{l}" for l in MAN_LANGS]
    dev = fetch_sources.candidates([f"manpages-{l}-dev" for l in MAN_LANGS])
    man_optional += sorted(dev)  # "-dev" only where it exists
    wesnoth = fetch_sources.highest_wesnoth_branch()
    wesnoth_pkgs = [n for n in fetch_sources.search_names(f"^{re.escape(wesnoth)}-")
                    if not n.endswith(("-core", "-music", "-server", "-tools"))]
    help_pkgs = [n for n in fetch_sources.search_names(r"^libreoffice-help-[a-z]")
                 if n not in ("libreoffice-help-common", "libreoffice-help-en-gb")]
    return [
        Source("man", "man", ["manpages", "manpages-dev"], man_optional, ["*/man/*"]),
        Source("fortunes", "fortunes", ["fortunes"], [p for p in FORTUNE_LANGS if p != "fortunes"]),
        Source("libreoffice-help", "html", [], help_pkgs, ["*.html"]),
        Source("debian-handbook", "html", ["debian-handbook"], [], ["*.html"]),
        Source("gnome-user-docs", "html", ["gnome-user-docs"], [], ["*.page"]),
        Source("installation-guide", "html", ["installation-guide-amd64"], [], ["*.html"]),
        Source("wesnoth", "gettext", [], wesnoth_pkgs, ["*.mo"]),
        Source("freeciv", "gettext", ["freeciv-data"], [], ["*.mo"]),
        Source("libreoffice-l10n", "gettext", [],
               fetch_sources.search_names(r"^libreoffice-l10n-[a-z]"), ["*.mo"]),
        Source("mediawiki", "mediawiki", ["mediawiki"], [], ["*/languages/i18n/*.json"]),
    ]


def toy_profile():
    return [Source("fortunes", "fortunes", TOY_FORTUNES)]
