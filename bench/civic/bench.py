#!/usr/bin/env python3
"""Civic pipeline measurement: ingest -> publish latency per meeting and meetings/minute through the whole pipeline
(city.scan -> meeting.ingest -> extract -> summarize -> publish), against a running platform (./platform.sh up).

  bench/run.sh civic            # 60 meetings (starts a system whose file-source root is BENCH_CIVIC_SOURCES)
  bench/run.sh --smoke civic    # 6 meetings, seconds

It creates a scratch tenant and a city with a `file` source holding N distinct copies of the seed minutes (each
copy gets a unique last line, so every one is a new artifact), asks for one scan and polls the ops runs endpoint
until every run has finished. Latency is the run's creation (TX-A, ingest) to the end of its publish stage (TX-B);
throughput is meetings published per minute from the scan request to the last publish. Results are printed and
written to bench/results/civic.json (smoke: bench/results/raw/civic-smoke.json).
"""
import argparse, datetime, json, os, pathlib, shutil, statistics, sys, tempfile, time, urllib.error, urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def call(method, url, key, body=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {url}: {e.code} {e.read().decode(errors='replace')}")


def ts(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--meetings", type=int, default=60)
    p.add_argument("--timeout", type=float, default=600)
    a = p.parse_args()
    n = 6 if a.smoke else a.meetings
    api, op = os.environ["API_URL"], os.environ["OPERATOR_KEY"]

    seeds = sorted((ROOT / "seeds/civic/riverton").glob("*.txt")) + sorted((ROOT / "seeds/civic/lakeshore").glob("*.txt"))
    # The services accept a `file` source only under a configured root (Platform:Civic:Sources:FileRoots); bench/run.sh
    # configures BENCH_CIVIC_SOURCES as one when it starts the system.
    root = os.environ.get("BENCH_CIVIC_SOURCES")
    if not root:
        sys.exit("set BENCH_CIVIC_SOURCES to a folder the running system has among Platform:Civic:Sources:FileRoots "
                 "(bench/run.sh does this when it starts the system)")
    folder = pathlib.Path(tempfile.mkdtemp(prefix="civic-bench-", dir=root))
    for i in range(n):
        src = seeds[i % len(seeds)]
        (folder / f"{src.stem}-copy{i:04d}.txt").write_text(src.read_text() + f"\nBench copy {i}.\n")

    tenant = call("POST", f"{api}/v1/tenants", op, {"name": f"civic-bench-{int(time.time())}"})
    key = tenant["apiKey"]
    city = call("POST", f"{api}/v1/civic/cities", key, {"slug": "bench", "name": "Bench City", "sources": [{"kind": "file", "location": str(folder)}]})
    started = datetime.datetime.now(datetime.timezone.utc)
    call("POST", f"{api}/v1/internal/cities/{city['id']}/scan", op)

    deadline = time.time() + a.timeout
    while True:
        runs = [r for r in call("GET", f"{api}/v1/internal/cities/{city['id']}/runs?limit=1000", op) if r["meetingId"]]
        done = [r for r in runs if r["status"] != "running"]
        if len(done) >= n:
            break
        if time.time() > deadline:
            sys.exit(f"timed out: {len(done)}/{n} runs finished")
        time.sleep(0.5)

    shutil.rmtree(folder, ignore_errors=True)
    published = [r for r in done if r["status"] in ("published", "limited_confidence")]
    lat = sorted((ts(r["stages"]["publish"]["finishedAt"]) - ts(r["createdAt"])).total_seconds() for r in published)
    last = max(ts(r["stages"]["publish"]["finishedAt"]) for r in published)
    minutes = (last - started).total_seconds() / 60
    q = lambda x: lat[min(len(lat) - 1, int(round(x * (len(lat) - 1))))]
    result = {
        "meetings": n, "published": len(published), "failed": len(done) - len(published),
        "ingestToPublishSeconds": {"p50": round(q(0.5), 3), "p95": round(q(0.95), 3), "max": round(lat[-1], 3), "mean": round(statistics.mean(lat), 3)},
        "meetingsPerMinute": round(len(published) / minutes, 1),
        "wallSeconds": round(minutes * 60, 2),
        "measuredAt": started.isoformat(),
    }
    out = ROOT / "bench/results" / ("raw/civic-smoke.json" if a.smoke else "civic.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
