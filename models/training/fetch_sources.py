#!/usr/bin/python3
"""Resolve, download and extract the Debian packages the corpus is built from.

Package names are resolved with apt-cache at run time, so the same code works
on any Debian release (e.g. Wesnoth packages carry their branch in the name).
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CACHE = os.path.join(HERE, "cache", "debs")


class MissingPackage(RuntimeError):
    pass


@dataclass
class Deb:
    package: str
    version: str
    path: str
    sha256: str
    size: int


def _run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def search_names(regex):
    """All package names matching `regex` (apt-cache --names-only search)."""
    out = _run(["apt-cache", "search", "--names-only", regex])
    names = sorted({line.split(" - ", 1)[0].strip() for line in out.splitlines() if line.strip()})
    pattern = re.compile(regex)
    return [n for n in names if pattern.search(n)]


def candidates(packages):
    """{name: (version, arch, sha256)} of candidate versions; unavailable names are absent."""
    if not packages:
        return {}
    # One apt-cache call for all names (one call per name costs ~0.6 s each).
    out = subprocess.run(["apt-cache", "show", "--no-all-versions", *packages],
                         capture_output=True, text=True).stdout
    found = {}
    for stanza in out.split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(" "):
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if "Package" in fields and "Version" in fields:
            found.setdefault(fields["Package"], (fields["Version"], fields.get("Architecture", "all"),
                                                 fields.get("SHA256")))
    return found


def candidate(package):
    """(version, arch, sha256) of the candidate version, or None if unavailable."""
    return candidates([package]).get(package)


def _version_key(version):
    return [int(p) for p in re.findall(r"\d+", version)]


def highest_wesnoth_branch():
    """Highest 'wesnoth-<ver>' branch prefix present in the archive, e.g. 'wesnoth-1.16'."""
    names = search_names(r"^wesnoth-[0-9.]+-")
    branches = {re.match(r"^(wesnoth-[0-9.]+)-", n).group(1) for n in names}
    if not branches:
        raise MissingPackage("no wesnoth-<version>-* packages found by apt-cache")
    return max(branches, key=lambda b: _version_key(b.split("-", 1)[1]))


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(packages, cache_dir=DEFAULT_CACHE):
    """apt-get download every package not already cached; returns {name: Deb}.

    Raises MissingPackage naming every package apt cannot provide.
    """
    os.makedirs(cache_dir, exist_ok=True)
    wanted, missing = {}, []
    available = candidates(packages)
    for name in packages:
        info = available.get(name)
        if info is None:
            missing.append(name)
            continue
        version, arch, sha = info
        filename = f"{name}_{version.replace(':', '%3a')}_{arch}.deb"
        wanted[name] = (version, os.path.join(cache_dir, filename), sha)
    if missing:
        raise MissingPackage("Debian package(s) not available via apt: " + ", ".join(missing))
    todo = [f"{n}={v}" for n, (v, path, _) in wanted.items() if not os.path.exists(path)]
    for start in range(0, len(todo), 40):
        subprocess.run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", *todo[start:start + 40]], cwd=cache_dir,
                       check=True, stdout=subprocess.DEVNULL)
    debs = {}
    for name, (version, path, expected) in wanted.items():
        actual = _sha256(path)
        if expected and actual != expected:
            os.remove(path)
            raise RuntimeError(f"sha256 mismatch for {path}; removed, rerun to download again")
        debs[name] = Deb(name, version, path, actual, os.path.getsize(path))
    return debs


def extract(deb, dest_root, patterns=None):
    """Extract `deb` into dest_root/<package>_<version>/ (once) and return that dir.

    With `patterns` (tar wildcards such as '*.mo') only matching members are extracted,
    which is much faster for big packages.
    """
    dest = os.path.join(dest_root, f"{deb.package}_{deb.version.replace(':', '%3a')}")
    done = os.path.join(dest, ".extracted")
    if os.path.exists(done):
        return dest
    os.makedirs(dest, exist_ok=True)
    if patterns:
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb.path], stdout=subprocess.PIPE)
        # tar exits 2 when no member matches; that only means the package has none.
        result = subprocess.run(["tar", "-x", "-C", dest, "--wildcards", *patterns],
                                stdin=tar.stdout, stderr=subprocess.PIPE)
        tar.stdout.close()
        if tar.wait() != 0 or result.returncode not in (0, 2):
            raise RuntimeError(f"extracting {deb.path} failed: {result.stderr.decode()[:300]}")
    else:
        subprocess.run(["dpkg-deb", "-x", deb.path, dest], check=True)
    open(done, "w").close()
    return dest


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("packages", nargs="+", help="package names, or /regex/ for apt-cache search")
    parser.add_argument("--cache", default=DEFAULT_CACHE)
    args = parser.parse_args()
    names = []
    for spec in args.packages:
        names += search_names(spec[1:-1]) if spec.startswith("/") and spec.endswith("/") else [spec]
    try:
        debs = download(names, args.cache)
    except MissingPackage as err:
        sys.exit(f"error: {err}")
    for deb in debs.values():
        print(f"{deb.package}={deb.version} sha256={deb.sha256} {deb.path}")


if __name__ == "__main__":
    main()
