"""Run the shards of a snntoolbox experiment as tasks on a Dask distributed
LocalCluster (separate worker processes, loopback only), then merge them in
a task that depends on every shard task.

Usage: _dask_shards.py DENO REPO CONFIG N LOGDIR WORKDIR

Each shard task runs `deno run -A REPO/cli.ts run CONFIG --shard I/N` in its
worker process; the merge task runs `snntoolbox merge LOGDIR --json`. Prints
one JSON line: the worker and client pids, each task's pid, exit code and
seconds, the merge's exit code and its last stdout line, and the wall time.
"""
import json
import os
import subprocess
import sys
import time

from distributed import Client, LocalCluster


def cli(deno, repo, args):
    """Run the snntoolbox CLI; returns (exit code, stdout, stderr tail, seconds)."""
    start = time.time()
    p = subprocess.run(
        [deno, "run", "-A", os.path.join(repo, "cli.ts"), *args],
        cwd=repo, capture_output=True, text=True,
    )
    return p.returncode, p.stdout, p.stderr[-2000:], time.time() - start


def run_shard(deno, repo, config, index, count):
    rc, _, err, seconds = cli(deno, repo, ["run", config, "--quiet", "--shard", f"{index}/{count}"])
    return {"shard": index, "pid": os.getpid(), "rc": rc, "stderr": err, "seconds": seconds}


def run_merge(deno, repo, logdir, *shards):
    if any(s["rc"] != 0 for s in shards):
        return {"pid": os.getpid(), "rc": -1, "stdout": "", "stderr": "a shard failed", "seconds": 0}
    rc, out, err, seconds = cli(deno, repo, ["merge", logdir, "--json", "--quiet"])
    lines = out.strip().splitlines()
    return {"pid": os.getpid(), "rc": rc, "stdout": lines[-1] if lines else "", "stderr": err, "seconds": seconds}


if __name__ == "__main__":
    deno, repo, config, count, logdir, workdir = sys.argv[1:7]
    count = int(count)
    start = time.time()
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        local_directory=workdir,
        silence_logs=40,
    ) as cluster, Client(cluster) as client:
        workers = sorted(client.run(os.getpid).values())
        shards = [client.submit(run_shard, deno, repo, config, i, count, pure=False) for i in range(count)]
        merge = client.submit(run_merge, deno, repo, logdir, *shards, pure=False)
        shard_results = client.gather(shards)
        merge_result = merge.result()
    print(json.dumps({
        "client": os.getpid(),
        "workers": workers,
        "shards": shard_results,
        "merge": merge_result,
        "seconds": time.time() - start,
    }))
