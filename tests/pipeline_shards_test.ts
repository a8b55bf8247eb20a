/**
 * Sharded runs: `run --shard I/N` on a tiny experiment (Poisson input, a
 * softmax output layer, top-2), `merge` of the shards against one unsharded
 * run of the same experiment (results, tallies, accuracy.txt, log_vars,
 * plots and report byte for byte), merge errors, a sharded parameter sweep
 * with more shards than batches, the partition, `--shard auto` from the
 * schedulers' environments, and per-sample Poisson draws.
 */
import { initBackend } from "../lib/backend/mod.ts";
import { updateSetup } from "../lib/pipeline/setup.ts";
import { ConfigError, ShardError, UsageError } from "../lib/errors.ts";
import { type PipelineResult, runPipeline } from "../lib/pipeline/run.ts";
import { parseShardSpec } from "../lib/pipeline/shard_spec.ts";
import { mergeShards } from "../lib/pipeline/shards.ts";
import { resultJson } from "../lib/cli/run.ts";
import { resolveSimulationOptions } from "../lib/simulation/options.ts";
import { poissonInput } from "../lib/simulation/poisson.ts";
import { tf } from "../deps.ts";
import type { SimulationResult } from "../lib/simulation/run.ts";
import { shardSelection } from "../lib/simulation/shards.ts";
import { assertEquals, assertMatch, assertRejects, assertTrue } from "./_assert.ts";
import { runCli } from "./_cli.ts";
import { writeExperiment, writeIni } from "./_shard_experiment.ts";

await initBackend();

async function unsharded(ini: string): Promise<PipelineResult> {
  return await runPipeline(await updateSetup(ini));
}

async function runShards(ini: string, count: number, extra: string[] = []): Promise<void> {
  for (let i = 0; i < count; i++) {
    const r = await runCli(["run", ini, "--quiet", "--shard", `${i}/${count}`, ...extra]);
    assertEquals(r.code, 0, r.err.join("\n"));
  }
}

function withoutFiles(r: SimulationResult): Omit<SimulationResult, "files"> {
  const { files: _files, ...rest } = r;
  return rest;
}

async function sameBytes(a: string, b: string): Promise<void> {
  const [x, y] = [await Deno.readFile(a), await Deno.readFile(b)];
  assertTrue(x.length === y.length && x.every((v, i) => v === y[i]), `${a} differs from ${b}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("shards: 3 shards merged equal one unsharded run — results, tallies, logs and report byte for byte", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "snn_shards_" });
  try {
    const ini = await writeExperiment(dir);
    const one = await unsharded(ini);
    await Deno.rename(`${dir}/log`, `${dir}/one`);
    await runShards(ini, 3);
    for (const i of [0, 1, 2]) assertTrue(await exists(`${dir}/log/shard-${i}-of-3/shard.json`));
    assertTrue(!(await exists(`${dir}/log/report.html`)), "a shard writes no report");

    const cli = await runCli(["merge", `${dir}/log`, "--json", "--quiet"]);
    assertEquals(cli.code, 0, cli.err.join("\n"));
    const merged = JSON.parse(cli.out[cli.out.length - 1]);
    const expected = resultJson(one);
    // File names aside (the unsharded run logged to another folder), the --json summaries are equal.
    assertEquals(
      merged.files,
      (expected.files as string[]).map((f) => f.replace(`${dir}/one`, `${dir}/log`)),
    );
    assertEquals({ ...merged, files: [] }, JSON.parse(JSON.stringify({ ...expected, files: [] })));

    await t.step("the merged result, with its tallies, equals the unsharded one exactly", async () => {
      const api = await mergeShards([
        `${dir}/log/shard-2-of-3`,
        `${dir}/log/shard-0-of-3`,
        `${dir}/log/shard-1-of-3`,
      ], {
        out: `${dir}/api`,
      });
      const sim = api.result.simulation!;
      assertEquals(withoutFiles(sim), withoutFiles(one.simulation!));
      assertEquals(sim.numSamples, 40);
      assertTrue(sim.snnAccuracy > 0.5 && sim.snnAccuracy < 1, `a run with errors: ${sim.snnAccuracy}`);
      assertTrue(
        new Set(sim.snnAccuracyByTime).size > 3,
        "the accuracy changes over time (the by-time counts are tested)",
      );
      assertEquals(api.result.scaleFactors, one.scaleFactors);
      assertEquals(api.result.stages, one.stages);
    });

    await t.step(
      "accuracy.txt, every log_vars batch, the plots and report.html are byte-identical",
      async () => {
        const files = ["accuracy.txt", "report.html", "plots/Error_vs_time.svg", "plots/Pearson.svg"];
        for (let b = 0; b < 8; b++) files.push(`log_vars/${b}.npz`);
        for (const f of files) await sameBytes(`${dir}/log/${f}`, `${dir}/one/${f}`);
      },
    );

    await t.step(
      "a missing, unfinished, duplicated or corrupt shard, or another experiment's, is one clear error",
      async () => {
        const s = (i: number, n = 3) => `${dir}/log/shard-${i}-of-${n}`;
        const out = `${dir}/refused`;
        await assertRejects(
          () => mergeShards([s(0), s(2)], { out }),
          ShardError,
          /^shard 1 of 3 is missing \(have 0, 2\)/,
        );
        await assertRejects(
          () => mergeShards([s(0), s(1), s(2), s(1)], { out }),
          ShardError,
          /shard 1 of 3 is given twice: .*shard-1-of-3 and .*shard-1-of-3/,
        );
        // Unfinished: the folder without its record.
        await Deno.mkdir(`${dir}/crashed/shard-1-of-3`, { recursive: true });
        await assertRejects(
          () => mergeShards([s(0), `${dir}/crashed/shard-1-of-3`, s(2)], { out }),
          ShardError,
          /crashed\/shard-1-of-3: no shard\.json: this shard did not finish/,
        );
        // Corrupt: one changed digit (still valid JSON), then a truncated file.
        const text = await Deno.readTextFile(`${s(1)}/shard.json`);
        await Deno.mkdir(`${dir}/bad/shard-1-of-3`, { recursive: true });
        const bad = `${dir}/bad/shard-1-of-3`;
        await Deno.writeTextFile(`${bad}/shard.json`, text.replace(/"numSamples":15/, '"numSamples":16'));
        await assertRejects(
          () => mergeShards([s(0), bad, s(2)], { out }),
          ShardError,
          /bad\/shard-1-of-3\/shard\.json is corrupt: its checksum does not match/,
        );
        await Deno.writeTextFile(`${bad}/shard.json`, text.slice(0, text.length / 2));
        await assertRejects(
          () => mergeShards([s(0), bad, s(2)], { out }),
          ShardError,
          /shard\.json is corrupt: not valid JSON/,
        );
        // Another configuration: shard 1 of a run with 20 steps.
        const other = await writeIni(dir, "other.ini", { duration: 20, logDir: `${dir}/other` });
        const r = await runCli(["run", other, "--quiet", "--shard", "1/3"]);
        assertEquals(r.code, 0, r.err.join("\n"));
        await assertRejects(
          () => mergeShards([s(0), `${dir}/other/shard-1-of-3`, s(2)], { out }),
          ShardError,
          /other\/shard-1-of-3 is a shard of another experiment than .*shard-0-of-3: \[simulation\] duration = 20 vs 30/,
        );
        // Another split of the same experiment.
        const r4 = await runCli(["run", other.replace("other.ini", "exp.ini"), "--quiet", "--shard", "3/4"]);
        assertEquals(r4.code, 0, r4.err.join("\n"));
        await assertRejects(
          () => mergeShards([`${dir}/log`], { out }),
          ShardError,
          /shard 3 of 4, but .*shard-0-of-3 is shard 0 of 3: shards of differently split runs/,
        );
        assertTrue(!(await exists(out)), "nothing written by a refused merge");
        // The CLI prints the error as one line and exits 1.
        const cliErr = await runCli(["merge", s(0), s(2)]);
        assertEquals(cliErr.code, 1);
        assertEquals(cliErr.err.length, 1);
        assertMatch(cliErr.err[0], /^error: shard 1 of 3 is missing/);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shards: a parameter sweep over 10 shards of 8 batches (two shards empty) merges to the unsharded sweep", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn_shards_sweep_" });
  try {
    const ini = await writeExperiment(dir, {
      duration: 12,
      extra: "[parameter_sweep]\nparam_name = v_thresh\nparam_values = [0.5, 1.5]\n",
    });
    const one = await unsharded(ini);
    await Deno.rename(`${dir}/log`, `${dir}/one`);
    await runShards(ini, 10);
    const empty = JSON.parse(await Deno.readTextFile(`${dir}/log/shard-0-of-10/shard.json`)).body;
    assertEquals(empty.selection.sampleIndices, [], "shard 0 of 10 over 8 batches has none");
    const merged = await mergeShards([`${dir}/log`]);
    assertEquals(merged.shards.length, 10);
    assertEquals(merged.result.snn!.sweep, one.snn!.sweep);
    assertEquals(merged.result.snn!.simulations.length, 2);
    merged.result.snn!.simulations.forEach((s, i) =>
      assertEquals(withoutFiles(s.result), withoutFiles(one.snn!.simulations[i].result))
    );
    for (const v of ["0.5", "1.5"]) {
      await sameBytes(
        `${dir}/log/sweep/v_thresh_${v}/accuracy.txt`,
        `${dir}/one/sweep/v_thresh_${v}/accuracy.txt`,
      );
      await sameBytes(
        `${dir}/log/sweep/v_thresh_${v}/log_vars/7.npz`,
        `${dir}/one/sweep/v_thresh_${v}/log_vars/7.npz`,
      );
    }
    await sameBytes(`${dir}/log/report.html`, `${dir}/one/report.html`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shards: the partition cuts whole batches of the selection into contiguous, balanced runs", () => {
  const options = resolveSimulationOptions({ batchSize: 3, numToTest: 23 }); // 7 batches, 2 samples dropped
  for (const count of [1, 2, 3, 7, 9]) {
    const all: number[] = [];
    const sizes: number[] = [];
    for (let index = 0; index < count; index++) {
      const sel = shardSelection(30, options, { index, count });
      assertEquals(sel.numBatches, 7);
      assertEquals(sel.sampleIndices.length, (sel.endBatch - sel.firstBatch) * 3);
      all.push(...sel.sampleIndices);
      sizes.push(sel.endBatch - sel.firstBatch);
    }
    assertEquals(all, Array.from({ length: 21 }, (_, i) => i), `${count} shards: every batch once, in order`);
    assertTrue(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes}`);
  }
  const picked = shardSelection(
    10,
    resolveSimulationOptions({ batchSize: 2, sampleIdxsToTest: [9, 4, 7, 1, 0] }),
    {
      index: 1,
      count: 2,
    },
  );
  assertEquals(picked.sampleIndices, [7, 1], "sample_idxs_to_test order, last incomplete batch dropped");
  assertEquals(
    shardSelection(10, resolveSimulationOptions({ batchSize: 50 }), { index: 0, count: 1 }).batchSize,
    1,
  );
  let err: unknown;
  try {
    shardSelection(10, resolveSimulationOptions({ resetBetweenNthSample: 2 }), { index: 0, count: 2 });
  } catch (e) {
    err = e;
  }
  assertTrue(err instanceof ConfigError && /reset_between_nth_sample = 2/.test(err.message), String(err));
});

Deno.test("shards: --shard I/N and auto from Kubernetes Indexed Jobs and Slurm arrays; clear errors", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assertEquals(parseShardSpec("2/5"), { index: 2, count: 5 });
  assertEquals(parseShardSpec("auto/4", env({ JOB_COMPLETION_INDEX: "3" })), { index: 3, count: 4 });
  assertEquals(
    parseShardSpec("auto", env({ JOB_COMPLETION_INDEX: "0", SNNTOOLBOX_SHARD_COUNT: "2" })),
    { index: 0, count: 2 },
  );
  // --array=1-8: ids 1..8 are shards 0..7.
  assertEquals(
    parseShardSpec(
      "auto",
      env({ SLURM_ARRAY_TASK_ID: "8", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "8" }),
    ),
    { index: 7, count: 8 },
  );
  // --array=10-20:5: ids 10, 15, 20.
  assertEquals(
    parseShardSpec(
      "auto/3",
      env({
        SLURM_ARRAY_TASK_ID: "15",
        SLURM_ARRAY_TASK_MIN: "10",
        SLURM_ARRAY_TASK_STEP: "5",
        SLURM_ARRAY_TASK_COUNT: "3",
      }),
    ),
    { index: 1, count: 3 },
  );
  const fails = (text: string, vars: Record<string, string>, type: typeof ConfigError, re: RegExp) => {
    let err: unknown;
    try {
      parseShardSpec(text, env(vars));
    } catch (e) {
      err = e;
    }
    assertTrue(err instanceof type && re.test(err.message), `${text} ${JSON.stringify(vars)}: ${err}`);
  };
  fails("3/3", {}, ConfigError, /shard index 3 is out of range for 3 shards \(indices are 0-based: 0 to 2\)/);
  fails("1/0", {}, ConfigError, /number of shards must be a positive whole number/);
  fails("first", {}, UsageError, /--shard takes I\/N .*found 'first'/);
  fails("auto", {}, ConfigError, /neither JOB_COMPLETION_INDEX .* nor SLURM_ARRAY_TASK_ID/);
  fails(
    "auto",
    { JOB_COMPLETION_INDEX: "1" },
    ConfigError,
    /use --shard auto\/N or set SNNTOOLBOX_SHARD_COUNT/,
  );
  fails(
    "auto/2",
    { JOB_COMPLETION_INDEX: "2" },
    ConfigError,
    /JOB_COMPLETION_INDEX=2 gives shard 2, but there are 2/,
  );
  fails("auto/3", { JOB_COMPLETION_INDEX: "0", SNNTOOLBOX_SHARD_COUNT: "4" }, ConfigError, /disagrees/);
  fails("auto", { JOB_COMPLETION_INDEX: "x" }, ConfigError, /JOB_COMPLETION_INDEX .* whole number/);
  fails("auto", { SLURM_ARRAY_TASK_ID: "3" }, ConfigError, /SLURM_ARRAY_TASK_COUNT is not/);
  fails(
    "auto/5",
    { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4" },
    ConfigError,
    /auto\/5 disagrees with SLURM_ARRAY_TASK_COUNT=4/,
  );
  // --array=1,3,7: not a range.
  fails(
    "auto",
    { SLURM_ARRAY_TASK_ID: "7", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "3" },
    ConfigError,
    /gives shard 6, but there are 3 shards/,
  );
  fails(
    "auto",
    { SLURM_ARRAY_TASK_ID: "1", JOB_COMPLETION_INDEX: "1", SLURM_ARRAY_TASK_COUNT: "3" },
    ConfigError,
    /both JOB_COMPLETION_INDEX .* and SLURM_ARRAY_TASK_ID/,
  );
});

Deno.test("shards: run --shard needs [tools] simulate; a bad --shard is a usage error (exit 2)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "snn_shards_cli_" });
  try {
    const ini = await writeExperiment(dir);
    await Deno.writeTextFile(
      ini,
      (await Deno.readTextFile(ini)).replace("simulate = True", "simulate = False"),
    );
    const off = await runCli(["run", ini, "--shard", "0/2"]);
    assertEquals(off.code, 2);
    assertMatch(off.err.join("\n"), /--shard splits the simulation, but \[tools\] simulate is False/);
    const bad = await runCli(["run", ini, "--shard", "2of3"]);
    assertEquals(bad.code, 2);
    assertMatch(bad.err.join("\n"), /--shard takes I\/N/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("poissonInput: a sample's spikes depend on its test-set index and step, not on its batch", async () => {
  const per = 50;
  const a = Float32Array.from({ length: per }, (_, i) => ((i * 37) % 11) / 10 - 0.2);
  const b = Float32Array.from({ length: per }, (_, i) => ((i * 13) % 7) / 7);
  const frame = async (
    first: Float32Array,
    second: Float32Array,
    ids: number[],
    seed: number,
    step: number,
  ): Promise<Float32Array> => {
    const x = new Float32Array(2 * per);
    x.set(first);
    x.set(second, per);
    const xt = tf.tensor(x, [2, per]);
    const { frame, mask } = poissonInput(xt, Int32Array.from(ids), 1, 1, seed, step);
    const out = (await frame.data()) as Float32Array;
    tf.dispose([xt, frame, mask]);
    return out;
  };
  const ab = await frame(a, b, [4, 9], 0, 3);
  const ba = await frame(b, a, [9, 4], 0, 3);
  assertEquals(Array.from(ab.subarray(0, per)), Array.from(ba.subarray(per)), "sample 4 in either position");
  assertEquals(Array.from(ab.subarray(per)), Array.from(ba.subarray(0, per)), "sample 9 in either position");
  const nextStep = await frame(a, b, [4, 9], 0, 4);
  const otherSeed = await frame(a, b, [4, 9], 1, 3);
  assertTrue(ab.some((v, i) => v !== nextStep[i]), "another step draws anew");
  assertTrue(ab.some((v, i) => v !== otherSeed[i]), "another seed draws anew");
  // Amplitude sign(x)·max, and the rate follows |x| / (rescale · max): over many steps ≈ |x|.
  let count = 0;
  const x = tf.tensor([[0.3, -0.6, 0]]);
  for (let t = 0; t < 2000; t++) {
    const { frame: f, mask } = poissonInput(x, Int32Array.of(0), 0.6, 1, 0, t);
    const v = await f.data();
    tf.dispose([f, mask]);
    assertTrue([0, Math.fround(0.6)].includes(v[0]) && [0, Math.fround(-0.6)].includes(v[1]) && v[2] === 0);
    if (v[0] !== 0) count++;
  }
  x.dispose();
  assertTrue(Math.abs(count / 2000 - 0.5) < 0.05, `rate of 0.3 / 0.6: ${count / 2000}`);
});
