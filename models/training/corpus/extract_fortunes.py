"""Fortune cookie files: one document per file, entries separated by '%'."""
import os

from .documents import Doc

FORTUNE_DIR = "usr/share/games/fortunes"
SKIP_DIRS = {"off"}  # offensive fortunes


def read_fortunes(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    return text.split("\n%\n")


def find(root, code):
    top = os.path.join(root, FORTUNE_DIR)
    docs = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith((".dat", ".u8")) and not os.path.islink(os.path.join(dirpath, name)):
                docs.append(Doc("fortunes", os.path.join(dirpath, name), read_fortunes, catalog=True))
    return {code: docs} if docs else {}
