"""Translated strings (msgstr) from gettext .mo catalogues."""
import glob
import os
import re
import struct

from . import languages, markup
from .documents import Doc


def catalog(path):
    """{msgid: msgstr} without the header; plural forms keyed by their singular msgid.

    Parsed directly rather than with gettext.GNUTranslations, which rejects whole
    catalogues whose plural-forms header it cannot evaluate.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        magic = struct.unpack("<I", data[:4])[0]
        order = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
        if order is None:
            raise ValueError("not a .mo file")
        count, ids_at, strs_at = struct.unpack(order + "3I", data[8:20])
        pairs = {}
        for i in range(count):
            id_len, id_off = struct.unpack(order + "2I", data[ids_at + 8 * i: ids_at + 8 * i + 8])
            s_len, s_off = struct.unpack(order + "2I", data[strs_at + 8 * i: strs_at + 8 * i + 8])
            msgid = data[id_off:id_off + id_len].split(b"\0")[0].decode("utf-8", "replace")
            msgstr = data[s_off:s_off + s_len].split(b"\0")[0].decode("utf-8", "replace")
            if "\x04" in msgid:  # msgctxt
                msgid = msgid.split("\x04", 1)[1]
            if msgid and msgstr:
                pairs.setdefault(msgid, msgstr)
        return pairs
    except (OSError, ValueError, struct.error) as err:
        raise RuntimeError(f"unreadable .mo file {path}: {err}") from err


# UI mnemonics: "(_T)" suffixes (CJK), "_File", "~File"; Freeciv "?plural:" qualifiers.
_MNEMONIC_SUFFIX = re.compile(r"\s*\([_~]\w\)")
_MNEMONIC = re.compile(r"(?<!\w)[_~](?=\w)|~")
_QUALIFIER = re.compile(r"^\?[\w-]+:", re.MULTILINE)


def _plain(text):
    text = _QUALIFIER.sub("", _MNEMONIC.sub("", _MNEMONIC_SUFFIX.sub("", text)))
    return markup.strip_placeholders(markup.strip_inline_tags(text))


def read_msgstrs(path):
    return [_plain(value) for value in catalog(path).values()]


def english_lines(paths):
    """The English source strings (msgids) of the given catalogues, as text lines."""
    lines = set()
    for path in paths:
        for msgid in catalog(path):
            lines.update(_plain(msgid).split("\n"))
    return lines


def find(root, source):
    """{lang: [Doc]} for the .mo files under root (language = dir above LC_MESSAGES)."""
    docs = {}
    for path in sorted(glob.glob(os.path.join(root, "**", "LC_MESSAGES", "*.mo"), recursive=True)):
        locale = path.split(os.sep)[-3]
        code = languages.canonical(locale)
        if code == "en" or not languages.is_language(code):
            continue
        docs.setdefault(code, []).append(Doc(source, path, read_msgstrs, catalog=True))
    return docs


def all_mo_files(root):
    return sorted(glob.glob(os.path.join(root, "**", "*.mo"), recursive=True))
