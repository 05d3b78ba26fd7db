#!/usr/bin/env bash
# `regis site build` on a synthetic registry (../shared/bench/synth_registry.py, 10 versions
# a package): a build from scratch, a rebuild with nothing changed, and a rebuild after one
# publish (a new version appended to one package's metadata and index file). Whole
# processes of the release binary, RUNS times each, medians of wall time and max RSS, and
# how many files each wrote. The synthetic registry is kept under target/bench-data/ (the
# same one benches/compare.sh makes).
#
#   benches/site.sh                      # 1,000,000 versions (100,000 packages), 3 runs
#   SCALE=100000 RUNS=5 benches/site.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${SCALE:-1000000}
RUNS=${RUNS:-3}
BENCH=../shared/bench
WORK=target/bench-data/compare
mkdir -p "$WORK"
cargo build --release --locked -q
synth="$WORK/synth-$SCALE"
if [ ! -d "$synth/metadata" ]; then
  echo "writing a synthetic registry of $SCALE versions ..." >&2
  python3 "$BENCH/synth_registry.py" "$synth" $((SCALE / 10)) 10 >/dev/null
fi
python3 - "$synth" "$RUNS" <<'PY'
import json, os, shutil, statistics, subprocess, sys, time, resource
synth, runs = sys.argv[1], int(sys.argv[2])
work = os.path.abspath(f"{synth}-site")
regis = os.path.abspath("target/release/regis")

def build(out):
    # Each case starts with nothing waiting to be written to disk (what the case before it
    # wrote, or removed, would otherwise be written back during this one), and its own
    # writes are flushed after it, timed apart: `wall` is the build as a user waits for
    # it, `flush` what the disk then takes to hold its files.
    os.sync()
    start = time.perf_counter()
    p = subprocess.run([regis, "--json", "--registry", f"{work}/registry", "--index", f"{work}/index",
                        "site", "build", out], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(p.stderr)
    start = time.perf_counter()
    os.sync()
    flush = time.perf_counter() - start
    # ru_maxrss of children is the largest so far: each case runs after a fresh copy, so
    # the figure is an upper bound of the case's own peak.
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, rss, json.loads(p.stdout)["files"], flush

# A copy of the synthetic registry the "one publish" case edits. What an earlier run left
# is removed only after this one: ext4 skips recently deleted inodes when it makes new
# ones, so a build right after 300,000 files were removed would time that, not regis.
old = f"{work}.old"
if os.path.isdir(work):
    if os.path.isdir(old):
        shutil.rmtree(old)
    os.rename(work, old)
os.makedirs(work)
shutil.copytree(f"{synth}/metadata", f"{work}/registry/metadata")
shutil.copytree(f"{synth}/package-sets", f"{work}/registry/package-sets")
shutil.copytree(f"{synth}/idx", f"{work}/index")
rows = {"from scratch": [], "rebuild, nothing changed": [], "rebuild after one publish": []}
for run in range(runs):
    out = f"{work}/site-{run}"  # a new directory each run, for the reason above
    rows["from scratch"].append(build(out))
    rows["rebuild, nothing changed"].append(build(out))
    # One publish: pkg-000042 gains a version (metadata entry and index line).
    name = "pkg-000042"
    meta_path = f"{work}/registry/metadata/{name}.json"
    meta = json.load(open(meta_path))
    version = f"{100 + run}.0.0"
    meta["published"][version] = {"bytes": 1234, "compilers": ["0.15.15"], "hash": "sha256-" + "A" * 43 + "=",
                                  "publishedTime": "2026-12-01T00:00:00.000Z", "ref": ""}
    meta["published"] = dict(sorted(meta["published"].items(), key=lambda kv: [int(x) for x in kv[0].split(".")]))
    open(meta_path, "w").write(json.dumps(meta, indent=2) + "\n")
    index_path = f"{work}/index/pk/g-/{name}"
    line = {"name": name, "version": version, "license": "MIT", "location": {"githubOwner": "synth", "githubRepo": name},
            "ref": f"v{version}", "dependencies": {}}
    open(index_path, "a").write(json.dumps(line, separators=(",", ":")) + "\n")
    rows["rebuild after one publish"].append(build(out))
if os.path.isdir(old):
    shutil.rmtree(old)
print(f"\nregis site build, synthetic registry in {synth} ({runs} runs, medians)")
for label, results in rows.items():
    wall = statistics.median(r[0] for r in results)
    rss = statistics.median(r[1] for r in results) / 1024
    w = results[-1][2]
    flush = statistics.median(r[3] for r in results)
    print(f"  {label:<28} {wall:7.2f} s  (+ {flush:5.2f} s to flush)   max RSS {rss:7.0f} MiB   "
          f"written {w['written']:,}, unchanged {w['unchanged']:,}, removed {w['removed']:,}")
PY
