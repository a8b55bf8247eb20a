/**
 * The fuzz campaign: `deno task fuzz [--seed N] [--count N] [--timeout S]
 * [--workers N] [--kinds a,b] [--save [--corpus DIR]] [--report FILE]`;
 * `--baseline` runs every seed unmutated, `--replay [--update]` re-judges
 * the corpus, `--show N` runs case N verbosely and keeps its files. Mutates every seed
 * kind (see seeds.ts) with seeded mutations, runs each input through the CLI
 * in a child process (a pool of `--workers`, default 2) and reports contract
 * violations per kind. With `--save`, one reproducer per distinct finding is
 * written to tests/fuzz/corpus/ (a small patch against its seed), which
 * tests/hostile_corpus_test.ts replays.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { mutate, Rng } from "./mutate.ts";
import { allSeeds, type Kind, KINDS, readSeedFile, resolveSrc, type Seed } from "./seeds.ts";
import {
  CORPUS_DIR,
  type CorpusEntry,
  fromCorpusEntry,
  type FuzzCase,
  materialize,
  type Outcome,
  runCase,
  toCorpusEntry,
} from "./contract.ts";

interface KindStats {
  inputs: number;
  exit0: number;
  exit1: number;
  exit2: number;
  violations: Record<string, number>;
  maxMs: number;
}

function caseFor(seeds: Seed[], kinds: Kind[], campaignSeed: number, i: number): FuzzCase {
  const rng = new Rng((campaignSeed * 1_000_003 + i * 7919) >>> 0);
  const kind = kinds[i % kinds.length];
  const ofKind = seeds.filter((s) => s.kind === kind);
  const seed = rng.pick(ofKind);
  const bytes = readSeedFile(seed.files[0].src);
  const donorSeed = rng.pick(seeds);
  const donor = readSeedFile(donorSeed.files[0].src);
  const ext = seed.files[0].name.slice(seed.files[0].name.lastIndexOf("."));
  return { seed, mutation: mutate(bytes, seed.layout, ext, rng, donor) };
}

/** A short signature of a finding, for keeping one reproducer per distinct problem. */
function signature(c: FuzzCase, o: Outcome): string {
  const msg = (o.errorLines[0] ?? o.stderr.split("\n").find((l) => l.trim()) ?? "")
    .replace(/\/tmp\/\S*/g, "F").replace(/\d+/g, "N").slice(0, 120);
  return `${c.seed.kind}|${o.violations.join(",")}|${msg}`;
}

async function hashHex(s: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
  return [...d.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Run every seed unmutated: each must load (exit 0) for the mutations to mean anything. */
async function baseline(): Promise<number> {
  let bad = 0;
  for (const seed of allSeeds()) {
    const o = await runCase({ seed, mutation: { name: "none", detail: "", edits: [] } });
    const ok = o.code === 0 || seed.kind === "ini";
    if (!ok) bad++;
    console.log(
      `${ok ? "ok  " : "FAIL"} ${seed.kind} ${seed.files[0].src} exit ${o.code} ${o.ms.toFixed(0)} ms ${
        o.errorLines[0] ?? ""
      }`,
    );
  }
  return bad ? 1 : 0;
}

/** Contract violations of an outcome; `raw-error` (a wrapped raw error, still one clean line) is not one. */
export function contractViolations(o: Outcome): string[] {
  return o.violations.filter((v) => v !== "raw-error");
}

/** Re-run every corpus entry; with `update`, rewrite each entry's status (fixed/open). */
async function replay(update: boolean): Promise<number> {
  let open = 0;
  for (
    const entry of [...Deno.readDirSync(CORPUS_DIR)].filter((e) => e.name.endsWith(".json")).sort((a, b) =>
      a.name < b.name ? -1 : 1
    )
  ) {
    const path = `${CORPUS_DIR}/${entry.name}`;
    const e = JSON.parse(Deno.readTextFileSync(path)) as CorpusEntry;
    if (e.seed.files.some((f) => f.src !== "base.ini" && resolveSrc(f.src) === undefined)) {
      console.log(`skip ${entry.name}: fixtures absent`);
      continue;
    }
    const o = await runCase(fromCorpusEntry(e));
    const bad = contractViolations(o);
    if (bad.length) open++;
    console.log(
      `${bad.length ? "OPEN " : "fixed"} ${entry.name} exit ${o.code} ${o.violations.join(",") || "-"} ${
        (o.errorLines[0] ?? "").slice(0, 160)
      }`,
    );
    if (update) {
      e.status = bad.length ? "open" : "fixed";
      e.violations = o.violations.length ? o.violations : e.violations;
      Deno.writeTextFileSync(path, JSON.stringify(e, null, 1) + "\n");
    }
  }
  return open ? 1 : 0;
}

/** Run case `i` of campaign `seed` with --verbose and print everything. */
async function show(campaignSeed: number, i: number, kindList?: string): Promise<number> {
  const seeds = allSeeds();
  const wanted = kindList ? kindList.split(",") as Kind[] : [...KINDS];
  const kinds = wanted.filter((k) => seeds.some((s) => s.kind === k));
  const c = caseFor(seeds, kinds, campaignSeed, i);
  const keep = Deno.makeTempDirSync({ prefix: `snn-fuzz-show-${i}-` });
  const target = materialize(c, keep);
  console.log(
    `files kept in ${keep}; command: deno run -A cli.ts ${
      c.seed.argv.map((a) =>
        a.replaceAll("{in}", target).replaceAll("{dir}", keep).replaceAll("{out}", keep + "/out")
      ).join(" ")
    }`,
  );
  c.seed = { ...c.seed, argv: [...c.seed.argv, "--verbose"] };
  const o = await runCase(c);
  console.log(`${c.seed.kind} ${c.seed.files[0].src} ${c.mutation.name}: ${c.mutation.detail}`);
  console.log(
    `exit ${o.code} signal ${o.signal} ${o.ms.toFixed(0)} ms violations ${o.violations.join(", ")}`,
  );
  console.log(o.stderr);
  return 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seed: { type: "string", default: "1" },
      count: { type: "string", default: "1000" },
      timeout: { type: "string", default: "10" },
      workers: { type: "string", default: "2" },
      kinds: { type: "string" },
      save: { type: "boolean", default: false },
      corpus: { type: "string" },
      report: { type: "string" },
      start: { type: "string", default: "0" },
      baseline: { type: "boolean", default: false },
      replay: { type: "boolean", default: false },
      update: { type: "boolean", default: false },
      show: { type: "string" },
    },
  });
  if (values.baseline) return await baseline();
  if (values.replay) return await replay(values.update);
  if (values.show !== undefined) return await show(Number(values.seed), Number(values.show), values.kinds);
  const campaignSeed = Number(values.seed);
  const count = Number(values.count);
  const start = Number(values.start);
  const timeoutS = Number(values.timeout);
  const workers = Math.max(1, Number(values.workers));
  const seeds = allSeeds();
  const wanted = values.kinds ? values.kinds.split(",") as Kind[] : [...KINDS];
  const kinds = wanted.filter((k) => seeds.some((s) => s.kind === k));
  const missing = wanted.filter((k) => !kinds.includes(k));
  if (missing.length) console.error(`note: no seeds for ${missing.join(", ")} (fixtures absent?)`);
  console.error(
    `fuzz: seed ${campaignSeed}, ${count} inputs, ${kinds.length} kinds, ${seeds.length} seeds, ${workers} workers, ${timeoutS} s limit`,
  );

  const stats = new Map<Kind, KindStats>(
    kinds.map((k) => [k, { inputs: 0, exit0: 0, exit1: 0, exit2: 0, violations: {}, maxMs: 0 }]),
  );
  const seen = new Set<string>();
  const findings: { id: string; kind: Kind; violations: string[]; line: string }[] = [];
  const workDir = Deno.makeTempDirSync({ prefix: "snn-fuzz-" });
  const t0 = performance.now();
  let next = start;
  let done = 0;
  const worker = async () => {
    while (next < start + count) {
      const i = next++;
      const c = caseFor(seeds, kinds, campaignSeed, i);
      const o = await runCase(c, { timeoutS, workDir });
      const st = stats.get(c.seed.kind)!;
      st.inputs++;
      st.maxMs = Math.max(st.maxMs, o.ms);
      if (o.code === 0) st.exit0++;
      else if (o.code === 1) st.exit1++;
      else if (o.code === 2) st.exit2++;
      for (const v of o.violations) st.violations[v] = (st.violations[v] ?? 0) + 1;
      if (o.violations.length) {
        const sig = signature(c, o);
        const line = (o.errorLines[0] ?? o.stderr.split("\n").find((l) => l.trim()) ?? "").slice(0, 200);
        console.error(
          `  #${i} ${c.seed.kind} ${c.mutation.name} (${c.mutation.detail}): ${
            o.violations.join(", ")
          }: ${line}`,
        );
        if (!seen.has(sig)) {
          seen.add(sig);
          const id = `${c.seed.kind}-${await hashHex(sig)}`;
          findings.push({ id, kind: c.seed.kind, violations: o.violations, line });
          if (values.save) {
            const dir = values.corpus ?? CORPUS_DIR;
            Deno.mkdirSync(dir, { recursive: true });
            const entry = toCorpusEntry(c, o);
            Deno.writeTextFileSync(`${dir}/${id}.json`, JSON.stringify(entry, null, 1) + "\n");
          }
        }
      }
      done++;
      if (done % 100 === 0) {
        console.error(`  ${done}/${count} inputs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  Deno.removeSync(workDir, { recursive: true });
  const seconds = (performance.now() - t0) / 1000;

  const table = [...stats].map(([kind, s]) => ({ kind, ...s, maxMs: Math.round(s.maxMs) }));
  const totals: Record<string, number> = {};
  for (const s of stats.values()) {
    for (const [v, n] of Object.entries(s.violations)) totals[v] = (totals[v] ?? 0) + n;
  }
  console.log(`kind          inputs  exit0  exit1  exit2  max ms  violations`);
  for (const r of table) {
    const v = Object.entries(r.violations).map(([k, n]) => `${k}=${n}`).join(" ") || "-";
    console.log(
      `${r.kind.padEnd(12)}  ${String(r.inputs).padStart(6)}  ${String(r.exit0).padStart(5)}  ${
        String(r.exit1).padStart(5)
      }  ` +
        `${String(r.exit2).padStart(5)}  ${String(r.maxMs).padStart(6)}  ${v}`,
    );
  }
  console.log(
    `${done} inputs in ${seconds.toFixed(0)} s; violations: ${
      JSON.stringify(totals)
    }; distinct findings: ${findings.length}`,
  );
  if (values.report) {
    Deno.writeTextFileSync(
      values.report,
      JSON.stringify(
        { seed: campaignSeed, count: done, seconds, timeoutS, perKind: table, totals, findings },
        null,
        1,
      ),
    );
  }
  return findings.length ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
