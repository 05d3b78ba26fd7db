#!/usr/bin/env bash
# `regis serve` against the batch binary. Whole processes of the release binary, a new
# server home (and registry) each run, medians of RUNS runs:
#
#   (a) how fast the API accepts jobs: CLIENTS concurrent clients (Python's http.client, one
#       kept-alive connection each) POST SUBMITS distinct Publish payloads (each a new job:
#       `201`), then the same payloads again (the job already queued: `200`); answers
#       a second and the p50/p99 latency of one answer. The registry's worker runs the jobs
#       meanwhile, as it would in service (they fail fast: their sources do not exist).
#   (b) how long N real publishes take through the queue (POSTed at once, timed until the
#       last job finished) against the same N payloads through `regis publish FILE`, one
#       process after another, on a registry made by `regis init`; the same sources (git
#       repos read over file://), the two interleaved (each run alternates which goes
#       first), with the ratio.
#
#   benches/server.sh                            # N=30 publishes, 3 runs, 16 clients × 2000
#   N=100 RUNS=5 CLIENTS=32 SUBMITS=5000 benches/server.sh
#   REGIS=target/debug/regis benches/server.sh   # another binary, without building
#
# Data goes under target/bench-data/server/ (the sources are kept between runs).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${REGIS:-}" ]; then
  cargo build --release --locked -q
  REGIS=target/release/regis
fi
REGIS=$(realpath "$REGIS")
export REGIS
export WORK=$PWD/target/bench-data/server RUNS=${RUNS:-3} N=${N:-30}
export CLIENTS=${CLIENTS:-16} SUBMITS=${SUBMITS:-2000}
mkdir -p "$WORK"
python3 - <<'PY'
import http.client, json, os, shutil, statistics, subprocess, sys, threading, time
from collections import Counter

REGIS, WORK = os.environ["REGIS"], os.environ["WORK"]
RUNS, N = int(os.environ["RUNS"]), int(os.environ["N"])
CLIENTS, SUBMITS = int(os.environ["CLIENTS"]), int(os.environ["SUBMITS"])
GITHUB = f"{WORK}/github"
GIT = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def name(i):
    return f"bench-pkg-{i:03}"


def payload(pkg):
    return json.dumps({"name": pkg, "location": {"githubOwner": "bench", "githubRepo": pkg},
                       "ref": "v1.0.0", "version": "1.0.0", "compiler": "0.15.15"})


def make_sources():
    """N packages at v1.0.0, each a git repo at <github>/bench/<name>.git: 20 modules, a
    README and a LICENSE (about 40 KB of source)."""
    for i in range(N):
        repo = f"{GITHUB}/bench/{name(i)}.git"
        if os.path.isdir(f"{repo}/.git"):
            continue
        os.makedirs(f"{repo}/src/Bench", exist_ok=True)
        module = "".join(p.capitalize() for p in name(i).split("-"))
        for m in range(20):
            body = "\n".join(f"value{m}_{k} :: Int\nvalue{m}_{k} = {k * i + m}\n" for k in range(60))
            with open(f"{repo}/src/Bench/{module}{m}.purs", "w") as f:
                f.write(f"module Bench.{module}{m} where\n\n{body}")
        with open(f"{repo}/purs.json", "w") as f:
            json.dump({"name": name(i), "version": "1.0.0", "license": "MIT",
                       "location": {"githubOwner": "bench", "githubRepo": name(i)},
                       "ref": "v1.0.0", "dependencies": {}}, f, indent=2)
        with open(f"{repo}/README.md", "w") as f:
            f.write(f"# {name(i)}\n\nA benchmark package.\n")
        with open(f"{repo}/LICENSE", "w") as f:
            f.write("MIT License\n")
        run(["git", "init", "-q", repo])
        run(GIT + ["-C", repo, "add", "-A"])
        run(GIT + ["-C", repo, "commit", "-qm", "v1.0.0"])
        run(["git", "-C", repo, "tag", "v1.0.0"])


def read_sources_locally(registry):
    """Point a registry checkout's githubBaseUrl at the local sources, committed and pushed
    (a checkout syncs with its remote)."""
    config = f"{registry}/regis.dhall"
    text = open(config).read().replace('"https://github.com"', json.dumps(f"file://{GITHUB}"), 1)
    open(config, "w").write(text)
    run(GIT + ["-C", registry, "commit", "-qam", "sources on this machine"])
    run(GIT + ["-C", registry, "push", "-q"])


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


class Server:
    """`regis serve` on a new home with one registry, `main`, and a token."""

    def __init__(self, home, quota=True):
        run([REGIS, "server", "init", fresh(home), "--name", "main"])
        read_sources_locally(f"{home}/registries/main/registry")
        if not quota:
            config = f"{home}/regis-server.dhall"
            text = open(config).read().replace("tokenOperationsPerHour = Some 600",
                                               "tokenOperationsPerHour = None Natural")
            open(config, "w").write(text)
        made = run([REGIS, "--json", "token", "create", "--home", home, "--scope", "publish"])
        self.token = json.loads(made.stdout)["token"]
        self.log = open(f"{home}.log", "w")
        self.process = subprocess.Popen([REGIS, "serve", "--home", home, "--listen", "127.0.0.1:0"],
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        for line in self.process.stdout:
            if line.startswith("listening on "):
                self.port = int(line.strip().rsplit(":", 1)[1])
                break
        else:
            sys.exit(f"regis serve did not listen: see {home}.log")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path)
        answer = conn.getresponse()
        return json.loads(answer.read())

    def stop(self):
        self.process.kill()
        self.process.wait()
        self.log.close()


def submit(port, token, bodies, clients):
    """POST `bodies` from `clients` threads, one kept-alive connection each: answers a
    second, latencies, statuses."""
    latencies, statuses, lock = [], Counter(), threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, seen = [], Counter()
        for body in chunk:
            start = time.perf_counter()
            conn.request("POST", "/api/v1/publish", body, headers)
            answer = conn.getresponse()
            answer.read()
            mine.append(time.perf_counter() - start)
            seen[answer.status] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=client, args=(bodies[c::clients],)) for c in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    return len(bodies) / wall, p(0.50), p(0.99), statuses


def accept_run(run_no):
    server = Server(f"{WORK}/accept-home", quota=False)
    try:
        bodies = [payload(f"bench-load-{run_no}-{i:05}") for i in range(SUBMITS)]
        new = submit(server.port, server.token, bodies, CLIENTS)
        # Newest first: the jobs the worker is furthest from. One it has failed meanwhile
        # is queued anew (`201`): a failed job is no duplicate.
        again = submit(server.port, server.token, bodies[::-1], CLIENTS)
    finally:
        server.stop()
    if set(new[3]) != {201} or not set(again[3]) <= {200, 201}:
        sys.exit(f"unexpected answers: new {dict(new[3])}, again {dict(again[3])}")
    return new[:3], again[:3] + (again[3][200] / SUBMITS,)


def queue_run():
    server = Server(f"{WORK}/queue-home")
    try:
        start = time.perf_counter()
        bodies = [payload(name(i)) for i in range(N)]
        _, _, _, statuses = submit(server.port, server.token, bodies, min(N, CLIENTS))
        if set(statuses) != {201}:
            sys.exit(f"unexpected answers: {dict(statuses)}")
        while server.get("/api/v1/jobs"):
            time.sleep(0.02)
        wall = time.perf_counter() - start
        jobs = server.get("/api/v1/jobs?include_completed=true")
    finally:
        server.stop()
    failed = [j["jobId"] for j in jobs if not j["success"]]
    if len(jobs) != N or failed:
        sys.exit(f"{len(jobs)} jobs, failed: {failed} (see {WORK}/queue-home.log)")
    return wall


def batch_run():
    root = fresh(f"{WORK}/batch")
    run([REGIS, "init", root])
    read_sources_locally(f"{root}/registry")
    files = []
    for i in range(N):
        path = f"{WORK}/payload-{i:03}.json"
        with open(path, "w") as f:
            f.write(payload(name(i)))
        files.append(path)
    start = time.perf_counter()
    for path in files:
        done = subprocess.run([REGIS, "publish", "--registry", f"{root}/registry", path],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.exit(f"regis publish {path}: {done.stderr}")
    return time.perf_counter() - start


make_sources()
accepts, queue, batch = [], [], []
for r in range(RUNS):
    accepts.append(accept_run(r))
    if r % 2 == 0:
        queue.append(queue_run())
        batch.append(batch_run())
    else:
        batch.append(batch_run())
        queue.append(queue_run())
    print(f"run {r + 1}/{RUNS}: queue {queue[-1]:.2f} s, batch {batch[-1]:.2f} s", file=sys.stderr)

med = statistics.median
print(f"\nregis serve accepting jobs: {CLIENTS} clients, {SUBMITS} payloads ({RUNS} runs, medians)")
for label, k in [("new jobs (201)", 0), ("the same payloads again (200)", 1)]:
    rate = med(a[k][0] for a in accepts)
    p50 = med(a[k][1] for a in accepts) * 1000
    p99 = med(a[k][2] for a in accepts) * 1000
    dup = f"   ({med(a[1][3] for a in accepts):.0%} answered 200)" if k == 1 else ""
    print(f"  {label:<32} {rate:7.0f} answers/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms{dup}")
print(f"\n{N} publishes: the queue against the batch binary ({RUNS} paired runs, medians)")
b, q = med(batch), med(queue)
print(f"  batch: regis publish, one after another   {b:7.2f} s   {N / b:5.2f} publishes/s   1.00")
print(f"  queue: regis serve, POSTed at once         {q:7.2f} s   {N / q:5.2f} jobs/s        {q / b:4.2f}x the batch")
PY
