#!/usr/bin/env python3
"""Fill the fuzzer's working corpus, fuzz/corpus/<target>/, from the committed seeds
(fuzz/seeds/<target>/) and the real PureScript Registry data in
../shared/fixtures/purescript/ (read in place, never committed: fuzz/corpus is ignored).

    python3 fuzz/seed_corpus.py [TARGET...]    # default: every target

Files already in a corpus stay; a seed is named by the hash of its bytes, so re-running
adds nothing twice.
"""

import hashlib
import json
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "purescript"


def files(pattern):
    return sorted(p for p in FIXTURES.glob(pattern) if p.is_file())


def texts(pattern):
    for p in files(pattern):
        yield p.read_bytes()


def lines(pattern):
    for data in texts(pattern):
        yield from (line for line in data.splitlines() if line.strip())


def events():
    for p in files("events/*.json"):
        yield json.loads(p.read_text())


def bodies():
    for event in events():
        for key in ("issue", "comment"):
            body = (event.get(key) or {}).get("body")
            if body:
                yield body.encode()


def index_files():
    # the package's name on the first line, then its index file
    for pattern in ("real-sample/index/**/*", "mini-index/**/*"):
        for p in files(pattern):
            yield p.name.encode() + b"\n" + p.read_bytes()


def schema_strings():
    seen = set()

    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                seen.add(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str) and len(value) < 200:
            seen.add(value)

    for data in list(texts("real-sample/metadata/*.json")) + list(lines("real-sample/index/**/*")):
        walk(json.loads(data))
    for data in lines("real-sample/index/**/*"):
        location = json.loads(data)["location"]
        seen.add(json.dumps(location, separators=(",", ":")))
    return sorted(s.encode() for s in seen)


SOURCES = {
    "payload": lambda: [
        *texts("package-set-samples/update-*.json"),
        *bodies(),
        *(json.loads(p.read_text())["ed25519"]["payload"].encode() for p in files("vectors/ssh-signature.json")),
    ],
    "issue_body": lambda: list(bodies()),
    "github_event": lambda: list(texts("events/*.json")),
    "manifest_json": lambda: [*texts("manifests/*.json"), *lines("mini-index/**/*"), *lines("real-sample/index/**/*")],
    "manifest_authored_json": lambda: [*texts("manifests/*.json"), *texts("sources/*/tree/purs.json")],
    "manifest_dhall": lambda: [*texts("sources/*/tree/spago.dhall"), *(p.read_bytes() for p in sorted((ROOT / "tests/dhall").glob("*.dhall")))],
    "manifest_bower": lambda: list(texts("sources/*/tree/bower.json")),
    "manifest_spago_yaml": lambda: list(texts("sources/*/tree/spago.yaml")),
    "metadata": lambda: [*texts("real-sample/metadata/*.json"), *texts("mini-registry/metadata/*.json")],
    "index_file": lambda: list(index_files()),
    "package_set": lambda: [*texts("package-set-samples/8*.json"), *texts("mini-registry/package-sets/*.json")],
    "schema": schema_strings,
    "tarball_unpack": lambda: list(texts("sources/*/real.tar.gz")),
    "config_dhall": lambda: [(ROOT / "tests/dhall/config.dhall").read_bytes()],
}


def main(targets):
    if not FIXTURES.is_dir():
        print(f"note: {FIXTURES} is absent: only the committed seeds are used", file=sys.stderr)
    for target in targets or SOURCES:
        if target not in SOURCES:
            sys.exit(f"unknown target `{target}`: expected one of {', '.join(SOURCES)}")
        corpus = FUZZ / "corpus" / target
        corpus.mkdir(parents=True, exist_ok=True)
        seeds = [p.read_bytes() for p in sorted((FUZZ / "seeds" / target).glob("*"))]
        found = SOURCES[target]() if FIXTURES.is_dir() else []
        for data in seeds + found:
            (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"{target}: {len(seeds)} seeds, {len(found)} from the fixtures")


if __name__ == "__main__":
    main(sys.argv[1:])
