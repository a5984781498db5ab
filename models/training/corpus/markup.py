"""Markup stripping shared by the extractors."""
import re
from html.parser import HTMLParser

INLINE_TAGS = {"a", "b", "i", "em", "strong", "span", "code", "tt", "kbd", "samp", "var", "sup",
               "sub", "small", "big", "u", "s", "q", "cite", "abbr", "acronym", "font", "img",
               "link", "gui", "guiseq", "cmd", "key", "keyseq", "app", "sys", "file", "input",
               "output", "em", "switch", "emph", "item_inline", "ahelp", "menuitem", "literal"}
SPACED_TAGS = {"key", "gui"}  # <key>Super</key><key>Tab</key> -> "Super Tab"
SKIP_TAGS = {"script", "style", "head", "pre", "info", "screen", "title_hidden", "noscript"}


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines, self.current, self.skip_depth = [], [], 0

    def _break(self):
        if self.current:
            self.lines.append("".join(self.current))
            self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skip_depth += 1
        elif tag not in INLINE_TAGS:
            self._break()

    def handle_endtag(self, tag):
        if tag in SPACED_TAGS:
            self.current.append(" ")
        elif tag in SKIP_TAGS:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag not in INLINE_TAGS:
            self._break()

    def handle_startendtag(self, tag, attrs):
        if tag not in INLINE_TAGS:
            self._break()

    def handle_data(self, data):
        if not self.skip_depth:
            self.current.append(data.replace("\n", " "))


def html_lines(markup):
    """Visible text of an HTML/XML document, one line per block element."""
    parser = _TextCollector()
    parser.feed(markup)
    parser.close()
    parser._break()
    return parser.lines


_TAG = re.compile(r"<[^<>]{0,300}>")
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_PIPED_LINK = re.compile(r"\[\[[^\[\]|]*\|([^\[\]]*)\]\]")
_LINK = re.compile(r"\[\[([^\[\]]*)\]\]")
_EXT_LINK = re.compile(r"\[(?:https?:)?//\S+\s([^\]]*)\]")
_PLACEHOLDER = re.compile(r"\$\d+|%\d*\$?[sdifu]|%\d+|%[A-Z_]+%?|\$\([A-Z0-9_]+\)|%\w+%|\{\d+\}")
_ENTITY = re.compile(r"&(?:nbsp|#160);")


def strip_inline_tags(text):
    return _TAG.sub("", text)


def strip_placeholders(text):
    return _PLACEHOLDER.sub("", text)


def strip_mediawiki(text):
    """Plain text of a MediaWiki interface message."""
    for _ in range(3):  # nested templates
        text = _TEMPLATE.sub("", text)
    text = _PIPED_LINK.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _EXT_LINK.sub(r"\1", text)
    text = _ENTITY.sub(" ", strip_inline_tags(text))
    text = text.replace("'''", "").replace("''", "")
    return strip_placeholders(text)
