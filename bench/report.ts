/**
 * Render the JSON of `deno bench --json` as the Markdown tables of
 * docs/benchmarks.md: per group, each benchmark's mean time, range and
 * iterations, its speed against the group's baseline ("N× faster" or
 * "N× slower", from the mean times) and, for groups with a batch size, the
 * throughput (images/s, samples/s or sample·steps/s).
 *
 * ```sh
 * deno bench -A --json bench/ > bench.json   # one run of the whole suite
 * deno run -R bench/report.ts bench.json     # Markdown on stdout
 * ```
 *
 * Lines that benchmarks print before the JSON (skip notices) are kept as notes.
 *
 * @module
 */

/** One benchmark of `deno bench --json` (the fields used here). */
interface BenchEntry {
  group: string | null;
  name: string;
  baseline: boolean;
  results: { ok?: { n: number; min: number; max: number; avg: number }; failed?: unknown }[];
}

/** Split the output into the lines printed before the JSON and the JSON report. */
function splitOutput(text: string): { notes: string[]; benches: BenchEntry[] } {
  const start = text.search(/^\{\s*$/m);
  if (start < 0) throw new Error("no JSON report found (run deno bench with --json)");
  const notes = text.slice(0, start).split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const report = JSON.parse(text.slice(start)) as { benches: BenchEntry[] };
  return { notes, benches: report.benches };
}

/** Nanoseconds as a short human duration. */
function duration(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e3).toFixed(1)} µs`;
}

/**
 * Throughput of one iteration of `name` in `group`, from the work the group
 * name states: `batch N` (N samples, or N sample·steps for an SNN step),
 * `batch N × K steps`, or `B batches of N × K steps`.
 */
function throughput(group: string, name: string, avgNs: number): string {
  const many = /(\d+) batches of (\d+) × (\d+) steps/.exec(group);
  const one = /batch (\d+)(?: × (\d+) steps)?/.exec(group);
  if (!many && !one) return "";
  const work = many
    ? Number(many[1]) * Number(many[2]) * Number(many[3])
    : Number(one![1]) * Number(one![2] ?? 1);
  const perSecond = work / (avgNs / 1e9);
  const unit = group.startsWith("simulate")
    ? (/SNN|IF loop/.test(name) ? "sample·steps/s" : "samples/s")
    : "images/s";
  return `${perSecond >= 100 ? perSecond.toFixed(0) : perSecond.toFixed(1)} ${unit}`;
}

/** A speed ratio (baseline time / time) in words. */
function speed(r: number): string {
  const x = r >= 1 ? r : 1 / r;
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}× ${r >= 1 ? "faster" : "slower"}`;
}

/** The Markdown table of one group. */
function groupTable(group: string, entries: BenchEntry[]): string[] {
  const base = entries.find((e) => e.baseline)?.results[0]?.ok?.avg;
  const lines = [
    `**${group}**`,
    "",
    "| benchmark | mean | min … max | n | vs baseline | throughput |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const e of entries) {
    const ok = e.results[0]?.ok;
    if (!ok) {
      lines.push(`| ${e.name} | failed | | | | |`);
      continue;
    }
    const ratio = e.baseline ? "baseline" : base ? speed(base / ok.avg) : "";
    lines.push(
      `| ${e.name} | ${duration(ok.avg)} | ${duration(ok.min)} … ${duration(ok.max)} | ${ok.n} | ${ratio} | ${
        throughput(group, e.name, ok.avg)
      } |`,
    );
  }
  return [...lines, ""];
}

/** Markdown for the whole `deno bench --json` output `text`. */
export function renderReport(text: string): string {
  const { notes, benches } = splitOutput(text);
  const groups = new Map<string, BenchEntry[]>();
  for (const b of benches) {
    const g = b.group ?? b.name;
    groups.set(g, [...(groups.get(g) ?? []), b]);
  }
  const out: string[] = [];
  for (const [group, entries] of groups) out.push(...groupTable(group, entries));
  if (notes.length) out.push("Printed by the benchmarks:", "", ...notes.map((n) => `- ${n}`), "");
  return out.join("\n");
}

if (import.meta.main) {
  const file = Deno.args[0];
  if (!file) {
    console.error("usage: deno run -R bench/report.ts BENCH_JSON_OUTPUT");
    Deno.exit(2);
  }
  console.log(renderReport(await Deno.readTextFile(file)));
}
