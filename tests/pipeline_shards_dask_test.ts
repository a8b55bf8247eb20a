/**
 * Shards on a real distributed engine: a Dask distributed `LocalCluster` of
 * two separate worker processes (loopback only) runs `snntoolbox run CONFIG
 * --shard I/3` as three tasks and `snntoolbox merge` as a task depending on
 * them (tests/_dask_shards.py); the merged result, logs and report equal an
 * unsharded run's. Skipped with a message when Python's `distributed` is
 * not importable.
 */
import { initBackend } from "../lib/backend/mod.ts";
import { updateSetup } from "../lib/pipeline/setup.ts";
import { runPipeline } from "../lib/pipeline/run.ts";
import { resultJson } from "../lib/cli/run.ts";
import { assertEquals, assertTrue } from "./_assert.ts";
import { PYTHON, pythonHas } from "./_io_python.ts";
import { writeExperiment } from "./_shard_experiment.ts";

const hasDask = await pythonHas("distributed");
const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

interface Task {
  pid: number;
  rc: number;
  stderr: string;
  seconds: number;
}

Deno.test({
  name: "shards on Dask: 3 shard tasks on 2 worker processes, then a merge task, equal one unsharded run",
  ignore: !hasDask,
  fn: async () => {
    await initBackend();
    const dir = await Deno.makeTempDir({ prefix: "snn_shards_dask_" });
    try {
      const ini = await writeExperiment(dir);
      const one = await runPipeline(await updateSetup(ini));
      await Deno.rename(`${dir}/log`, `${dir}/one`);
      await Deno.mkdir(`${dir}/dask`);
      const out = await new Deno.Command(PYTHON, {
        args: [`${REPO}/tests/_dask_shards.py`, Deno.execPath(), REPO, ini, "3", `${dir}/log`, `${dir}/dask`],
        cwd: dir,
        env: { SNNTOOLBOX_THREADS: "1", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder();
      assertTrue(out.success, `Dask driver failed: ${text.decode(out.stderr)}`);
      const lines = text.decode(out.stdout).trim().split("\n");
      const run = JSON.parse(lines[lines.length - 1]) as {
        client: number;
        workers: number[];
        shards: (Task & { shard: number })[];
        merge: Task & { stdout: string };
        seconds: number;
      };
      for (const s of run.shards) assertEquals(s.rc, 0, `shard ${s.shard}: ${s.stderr}`);
      assertEquals(run.merge.rc, 0, run.merge.stderr);
      // The tasks ran in the cluster's worker processes, not in the client, and on both workers.
      assertEquals(run.workers.length, 2);
      assertTrue(!run.workers.includes(run.client), "workers are separate processes");
      const used = new Set(run.shards.map((s) => s.pid));
      assertTrue([...used, run.merge.pid].every((p) => run.workers.includes(p)), "tasks ran on the workers");
      assertTrue(used.size === 2, `shards spread over both workers: ${[...used]}`);

      const merged = JSON.parse(run.merge.stdout);
      const expected = JSON.parse(JSON.stringify(resultJson(one)));
      assertEquals(
        merged.files,
        (expected.files as string[]).map((f) => f.replace(`${dir}/one`, `${dir}/log`)),
      );
      assertEquals({ ...merged, files: [] }, { ...expected, files: [] });
      for (const f of ["accuracy.txt", "report.html", "log_vars/0.npz", "log_vars/7.npz"]) {
        const [a, b] = [await Deno.readFile(`${dir}/log/${f}`), await Deno.readFile(`${dir}/one/${f}`)];
        assertTrue(a.length === b.length && a.every((v, i) => v === b[i]), `${f} differs`);
      }
      console.log(
        `Dask: 3 shards + merge in ${run.seconds.toFixed(1)} s (shards ${
          run.shards.map((s) => s.seconds.toFixed(1)).join(", ")
        } s, merge ${run.merge.seconds.toFixed(1)} s)`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
