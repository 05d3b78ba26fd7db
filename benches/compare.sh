#!/usr/bin/env bash
# Runs regis and the baselines of ../shared/bench on the same data, interleaved (each
# paired run alternates which goes first), and prints medians and ratios. Whole processes
# are timed (wall clock).
#
#     benches/compare.sh                 # every case below
#     benches/compare.sh publish         # publish vs the shell pipeline; publish vs registry size
#     benches/compare.sh check           # regis check vs pycheck.py (real view, SCALE versions)
#     benches/compare.sh ops             # unpublish and a package-set update vs registry size
#                                        # (in the registries the publish case made)
#     RUNS=11 benches/compare.sh         # more paired runs (default 7)
#     SCALE=1000000 benches/compare.sh   # the largest registry, in versions (default 100000)
#
# Data is generated under target/bench-data/compare/ (the scale registries are kept between
# runs and published into again; delete the directory to start over). Figures: benches/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bench=$(cd ../shared/bench && pwd)
cargo build --release --locked -q
export REGIS=$PWD/target/release/regis BENCH=$bench
export WORK=$PWD/target/bench-data/compare RUNS=${RUNS:-7} SCALE=${SCALE:-100000}
VIEW=$(cd ../shared/fixtures/purescript/package-set-samples && pwd)
export VIEW
mkdir -p "$WORK"
cases=${1:-all}
if [ "$cases" = all ] || [ "$cases" = publish ]; then python3 - <<'PY'
import json, os, shutil, statistics, subprocess, sys, time

REGIS, BENCH, WORK = os.environ["REGIS"], os.environ["BENCH"], os.environ["WORK"]
RUNS, SCALE = int(os.environ["RUNS"]), int(os.environ["SCALE"])
GIT = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]


def run(cmd, **kw):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)


def timed(cmd):
    """Wall seconds of one process (and its children)."""
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr.decode()}")
    return wall


def median(xs):
    return statistics.median(xs)


def report(title, rows, base):
    print(f"\n{title}  ({RUNS} paired runs, medians)")
    base_wall = median(rows[base])
    for label, walls in rows.items():
        ratio = median(walls) / base_wall
        print(f"  {label:<44} {median(walls) * 1000:8.1f} ms   {ratio:5.2f}x {base}")


def payload(name, version, location):
    path = f"{WORK}/payload.json"
    with open(path, "w") as f:
        json.dump({"name": name, "ref": f"v{version}", "version": version, "location": location}, f)
    return path


def regis_init(dir, github_base=None):
    shutil.rmtree(dir, ignore_errors=True)
    run([REGIS, "init", dir])
    if github_base:
        config = f"{dir}/registry/regis.dhall"
        text = open(config).read().replace('"https://github.com"', json.dumps(f"file://{github_base}"), 1)
        open(config, "w").write(text)
        commit_push(f"{dir}/registry", "config")
    return f"{dir}/registry"


def commit_push(repo, message):
    run(GIT + ["-C", repo, "add", "-A"])
    run(GIT + ["-C", repo, "commit", "-qm", message])
    run(["git", "-C", repo, "push", "-q", "origin", "HEAD"], stderr=subprocess.DEVNULL)


# -- 1. publish of a 1 MB / 200-file package from a source repo with 20 versions ------------
pub = f"{WORK}/publish"
shutil.rmtree(pub, ignore_errors=True)
run(["bash", f"{BENCH}/baseline_setup.sh", pub, "pkg", "20", "200", "1000"])
src = f"{pub}/src/pkg"
port = 9418 + os.getpid() % 1000
# The same repository served by git daemon: its manifests name the git:// location.
daemon_root = f"{pub}/daemon"
served = f"{daemon_root}/pkg"
run(["git", "clone", "-q", src, served])
run(["git", "-C", served, "filter-branch", "-f", "--tree-filter",
     f"sed -i 's|file://{src}|git://127.0.0.1:{port}/pkg|' purs.json",
     "--tag-name-filter", "cat", "--", "--tags"],
    stderr=subprocess.DEVNULL, env={**os.environ, "FILTER_BRANCH_SQUELCH_WARNING": "1"})
daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={daemon_root}",
                           "--listen=127.0.0.1", f"--port={port}", daemon_root],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
reg_file = regis_init(f"{WORK}/publish-regis-file")
reg_daemon = regis_init(f"{WORK}/publish-regis-daemon")
rows = {"baseline (git clone --depth 1, tar, gzip, 2 pushes)": [],
        "regis publish (file://)": [], "regis publish (git daemon, git://)": []}
try:
    for i in range(1, min(RUNS, 20) + 1):
        v = f"{i}.0.0"
        jobs = [
            ("baseline (git clone --depth 1, tar, gzip, 2 pushes)",
             ["bash", f"{BENCH}/baseline_publish.sh", pub, "pkg", v]),
            ("regis publish (file://)",
             [REGIS, "--registry", reg_file, "publish", payload("pkg", v, {"gitUrl": f"file://{src}"})]),
        ]
        if i % 2:
            jobs.reverse()
        for label, cmd in jobs:
            rows[label].append(timed(cmd))
        cmd = [REGIS, "--registry", reg_daemon, "publish",
               payload("pkg", v, {"gitUrl": f"git://127.0.0.1:{port}/pkg"})]
        rows["regis publish (git daemon, git://)"].append(timed(cmd))
finally:
    daemon.terminate()
report("publish: 1 MB / 200 files, source repo with 20 tagged versions", rows,
       "baseline (git clone --depth 1, tar, gzip, 2 pushes)")

# -- 2. publish cost against registry size ---------------------------------------------------
def scale_registry(versions):
    """A regis registry holding a synthetic registry of `versions` (10 per package)."""
    packages = max(1, versions // 10)
    synth = f"{WORK}/synth-{versions}"
    if not os.path.isdir(f"{synth}/metadata"):
        run(["python3", f"{BENCH}/synth_registry.py", synth, str(packages), "10"])
    root = f"{WORK}/scale-{versions}"
    gh = f"{root}/github"
    if os.path.exists(f"{root}/ready"):
        # Made by an earlier run (which published a few versions more into it).
        return root, f"{root}/registry", gh
    registry = regis_init(root, gh)
    shutil.copytree(f"{synth}/metadata", f"{registry}/metadata", dirs_exist_ok=True)
    shutil.copytree(f"{synth}/package-sets", f"{registry}/package-sets", dirs_exist_ok=True)
    # As a registry imported from elsewhere: no location lookup yet.
    shutil.rmtree(f"{registry}/locations")
    commit_push(registry, "synthetic registry")
    shutil.copytree(f"{synth}/idx", f"{root}/index", dirs_exist_ok=True)
    commit_push(f"{root}/index", "synthetic index")
    # An untimed first publish of a new package, which writes the whole lookup.
    source_repo(f"{gh}/synth/warm-up.git", "warm-up", "1.0.0", {"githubOwner": "synth", "githubRepo": "warm-up"})
    run([REGIS, "--registry", registry, "publish",
         payload("warm-up", "1.0.0", {"githubOwner": "synth", "githubRepo": "warm-up"})])
    open(f"{root}/ready", "w").close()
    return root, registry, gh


def source_repo(dir, name, version, location):
    os.makedirs(f"{dir}/src", exist_ok=True)
    manifest = {"name": name, "version": version, "license": "MIT", "location": location,
                "ref": f"v{version}", "dependencies": {}}
    with open(f"{dir}/purs.json", "w") as f:
        json.dump(manifest, f)
    with open(f"{dir}/src/Main.purs", "w") as f:
        f.write(f"module Main where\nversion = \"{version}\"\n")
    with open(f"{dir}/LICENSE", "w") as f:
        f.write("MIT\n")
    if not os.path.isdir(f"{dir}/.git"):
        run(["git", "init", "-q", dir])
    run(GIT + ["-C", dir, "add", "-A"])
    run(GIT + ["-C", dir, "commit", "-qm", version])
    run(["git", "-C", dir, "tag", f"v{version}"])


def push_probe(root):
    """A clone of the registry's remote pushing to a copy of it: what git alone pays to push
    a one-file change in `metadata/` at this size (regis pushes the same kind of commit)."""
    probe = f"{root}/probe"
    if os.path.isdir(f"{probe}/work"):
        return f"{probe}/work"
    run(["git", "clone", "-q", "--bare", f"{root}/remotes/registry.git", f"{probe}/remote.git"])
    run(["git", "clone", "-q", f"{probe}/remote.git", f"{probe}/work"])
    return f"{probe}/work"


def probe_push(work, i):
    path = f"{work}/metadata/pkg-000002.json"
    text = open(path).read()
    # A blank line at the end, then none: each run changes the file.
    open(path, "w").write(text[:-1] if text.endswith("\n\n") else text + "\n")
    run(GIT + ["-C", work, "commit", "-qam", f"probe {i}"])
    return timed(["git", "-C", work, "push", "-q", "origin", "HEAD"])


# Names and versions no earlier run over the same registries has published.
RUN = int(time.time()) % 1_000_000
sizes = [100, SCALE]
registries = {}
probes = {}
for versions in sizes:
    print(f"setting up a registry of {versions:,} versions ...", file=sys.stderr)
    registries[versions] = scale_registry(versions)
    probes[versions] = push_probe(registries[versions][0])
rows = {}
for i in range(RUNS):
    order = sizes if i % 2 == 0 else list(reversed(sizes))
    for versions in order:
        root, registry, gh = registries[versions]
        existing = "pkg-000001"
        v = f"100.{RUN}.{i}"
        source_repo(f"{gh}/synth/{existing}.git", existing, v, {"githubOwner": "synth", "githubRepo": existing})
        cmd = [REGIS, "--registry", registry, "publish",
               payload(existing, v, {"githubOwner": "synth", "githubRepo": existing})]
        rows.setdefault(f"new version, {versions:,} versions", []).append(timed(cmd))
        new = f"fresh-{RUN}-{i}"
        source_repo(f"{gh}/synth/{new}.git", new, "1.0.0", {"githubOwner": "synth", "githubRepo": new})
        cmd = [REGIS, "--registry", registry, "publish",
               payload(new, "1.0.0", {"githubOwner": "synth", "githubRepo": new})]
        rows.setdefault(f"new package, {versions:,} versions", []).append(timed(cmd))
        rows.setdefault(f"git push alone, {versions:,} versions", []).append(probe_push(probes[versions], i))
print(f"\npublish against registry size ({RUNS} paired runs, medians)")
for kind in ["new version", "new package", "git push alone"]:
    small = median(rows[f"{kind}, {sizes[0]:,} versions"])
    for versions in sizes:
        m = median(rows[f"{kind}, {versions:,} versions"])
        print(f"  {kind + ', ' + format(versions, ',') + ' versions':<44} {m * 1000:8.1f} ms   {m / small:5.2f}x {sizes[0]} versions")
PY
fi

if [ "$cases" = all ] || [ "$cases" = check ]; then python3 - <<'PY'
import os, statistics, subprocess, sys, tempfile, time

REGIS, BENCH, WORK, VIEW = (os.environ[k] for k in ["REGIS", "BENCH", "WORK", "VIEW"])
RUNS, SCALE = int(os.environ["RUNS"]), int(os.environ["SCALE"])


def timed(cmd):
    """Wall seconds and max RSS (MiB) of one process. Exit 1 (findings) is a result."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            err.seek(0)
            sys.exit(f"failed: {' '.join(cmd)}\n{err.read().decode()}")
    return wall, usage.ru_maxrss / 1024


# -- 3. regis check vs pycheck.py, the same audit in plain Python ----------------------------
synth = f"{WORK}/synth-{SCALE}"  # shared with the publish cases: 10 versions a package
if not os.path.isdir(f"{synth}/metadata"):
    print(f"writing a synthetic registry of {SCALE:,} versions ...", file=sys.stderr)
    subprocess.run(["python3", f"{BENCH}/synth_registry.py", synth, str(max(1, SCALE // 10)), "10"],
                   check=True, stdout=subprocess.DEVNULL)
views = [("real registry view (673 packages, 3,957 versions)", f"{VIEW}/registry", f"{VIEW}/index"),
         (f"synthetic, {SCALE:,} versions", synth, f"{synth}/idx")]
print(f"\nregis check vs pycheck.py ({RUNS} paired runs, medians; wall, max RSS)")
for title, registry, index in views:
    jobs = [("regis check", [REGIS, "check", "--registry", registry, "--index", index]),
            ("pycheck.py", ["python3", f"{BENCH}/pycheck.py", registry, index])]
    rows = {label: [] for label, _ in jobs}
    for i in range(RUNS):
        for label, cmd in (jobs if i % 2 == 0 else list(reversed(jobs))):
            rows[label].append(timed(cmd))
    wall = {label: statistics.median(w for w, _ in runs) for label, runs in rows.items()}
    rss = {label: statistics.median(r for _, r in runs) for label, runs in rows.items()}
    print(f"  {title}")
    for label in rows:
        print(f"    {label:<12} {wall[label] * 1000:9.1f} ms {rss[label]:8.1f} MiB"
              f"   {wall[label] / wall['pycheck.py']:5.3f}x pycheck.py")
PY
fi

if [ "$cases" = all ] || [ "$cases" = ops ]; then python3 - <<'PY'
import json, os, statistics, subprocess, sys, time

REGIS, WORK = os.environ["REGIS"], os.environ["WORK"]
RUNS, SCALE = int(os.environ["RUNS"]), int(os.environ["SCALE"])
GIT = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw).stdout


def timed(cmd):
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr.decode()}")
    return time.perf_counter() - start


# -- 4. unpublish and a package-set update against registry size -----------------------------
# A new version, owned by a key of this run, published untimed, then unpublished (timed):
# the stranded-dependants check searches the whole index. The update is a dry run that
# moves one member of the latest set (the synthetic set holds every package).
sizes = [100, SCALE]
for versions in sizes:
    if not os.path.exists(f"{WORK}/scale-{versions}/ready"):
        sys.exit(f"no registry of {versions:,} versions: run `benches/compare.sh publish` first")
key = f"{WORK}/ops-key"
if not os.path.exists(key):
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
keytype, public = open(f"{key}.pub").read().split()[:2]
RUN = int(time.time()) % 1_000_000
rows = {}
for versions in sizes:
    root = f"{WORK}/scale-{versions}"
    registry, name = f"{root}/registry", f"owned-{RUN}"
    src = f"{root}/github/synth/{name}.git"
    location = {"githubOwner": "synth", "githubRepo": name}
    os.makedirs(f"{src}/src")
    run(["git", "init", "-q", src])
    for i in range(RUNS):
        v = f"1.0.{i}"
        manifest = {"name": name, "version": v, "license": "MIT", "location": location, "ref": f"v{v}",
                    "dependencies": {}, "owners": [{"keytype": keytype, "public": public}]}
        json.dump(manifest, open(f"{src}/purs.json", "w"))
        open(f"{src}/src/Main.purs", "w").write(f'module Main where\nv = "{v}"\n')
        open(f"{src}/LICENSE", "w").write("MIT\n")
        run(GIT + ["-C", src, "add", "-A"])
        run(GIT + ["-C", src, "commit", "-qm", v])
        run(["git", "-C", src, "tag", f"v{v}"])
        json.dump({"name": name, "ref": f"v{v}", "version": v, "location": location},
                  open(f"{WORK}/payload.json", "w"))
        run([REGIS, "--registry", registry, "publish", f"{WORK}/payload.json"])
    for i in range(RUNS):
        signed = run([REGIS, "sign", "--key", key, "--registry", registry, "unpublish",
                      "--reason", "benchmark", f"{name}@1.0.{i}"])
        open(f"{WORK}/unpublish.json", "wb").write(signed)
        rows.setdefault(f"unpublish, {versions:,} versions", []).append(
            timed([REGIS, "--registry", registry, "unpublish", f"{WORK}/unpublish.json"]))
    semver = lambda v: tuple(int(x) for x in v.split("."))
    sets = [f.removesuffix(".json") for f in os.listdir(f"{registry}/package-sets") if f.endswith(".json")]
    latest = json.load(open(f"{registry}/package-sets/{max(sets, key=semver)}.json"))
    # pkg-000001: the publish case publishes its new versions
    member = "pkg-000001"
    published = json.load(open(f"{registry}/metadata/{member}.json"))["published"]
    newest = max(published, key=semver)
    if semver(newest) <= semver(latest["packages"][member]):
        sys.exit(f"{member} has no version newer than the set's: run `benches/compare.sh publish` first")
    json.dump({"packages": {member: newest}}, open(f"{WORK}/set-update.json", "w"))
    for i in range(RUNS):
        rows.setdefault(f"package-set update (dry run), {versions:,} versions", []).append(
            timed([REGIS, "--registry", registry, "package-set", "update", f"{WORK}/set-update.json", "--dry-run"]))
print(f"\nunpublish and package-set update against registry size ({RUNS} runs, medians)")
for kind in ["unpublish", "package-set update (dry run)"]:
    small = statistics.median(rows[f"{kind}, {sizes[0]:,} versions"])
    for versions in sizes:
        m = statistics.median(rows[f"{kind}, {versions:,} versions"])
        print(f"  {kind + ', ' + format(versions, ',') + ' versions':<52} {m * 1000:8.1f} ms   {m / small:6.2f}x {sizes[0]} versions")
PY
fi
