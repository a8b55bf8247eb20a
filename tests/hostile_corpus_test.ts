/**
 * Replays the fuzz harness's past findings (tests/fuzz/corpus/*.json, each a
 * small patch against a seed file) through the CLI and checks the
 * hostile-input contract on each: exit 1 or 2, one `error:` line naming the
 * file, no stack trace, no hang, no file left behind. Entries marked `open`
 * (the fix belongs to a reader still being written) are listed, not run;
 * entries whose seed is a shared fixture are skipped when the fixtures are
 * absent.
 */
import { assertEquals, assertTrue } from "./_assert.ts";
import { CORPUS_DIR, type CorpusEntry, fromCorpusEntry, runCase } from "./fuzz/contract.ts";
import { resolveSrc } from "./fuzz/seeds.ts";

function loadCorpus(): { name: string; entry: CorpusEntry }[] {
  return [...Deno.readDirSync(CORPUS_DIR)]
    .filter((e) => e.isFile && e.name.endsWith(".json"))
    .map((e) => e.name)
    .sort()
    .map((name) => ({
      name,
      entry: JSON.parse(Deno.readTextFileSync(`${CORPUS_DIR}/${name}`)) as CorpusEntry,
    }));
}

const corpus = loadCorpus();
const missing = (e: CorpusEntry) =>
  e.seed.files.some((f) => f.src !== "base.ini" && resolveSrc(f.src) === undefined);
const runnable = corpus.filter(({ entry }) => entry.status === "fixed" && !missing(entry));

for (const { name, entry } of corpus) {
  if (entry.status === "open") {
    console.log(`hostile corpus: ${name} is open (not replayed): ${entry.note ?? ""}`);
  } else if (missing(entry)) {
    console.log(`hostile corpus: ${name} skipped: its seed is a fixture and the fixtures are absent`);
  }
}

Deno.test("hostile corpus: the committed corpus is small and well-formed", () => {
  let bytes = 0;
  for (const { name, entry } of corpus) {
    bytes += Deno.statSync(`${CORPUS_DIR}/${name}`).size;
    assertTrue(entry.status === "open" || entry.status === "fixed", `${name}: status ${entry.status}`);
    assertTrue(entry.status !== "open" || (entry.note ?? "") !== "", `${name}: an open entry needs a note`);
    assertTrue(entry.seed.files.length > 0 && entry.seed.argv.length > 0, `${name}: seed`);
  }
  assertTrue(bytes < 1024 * 1024, `corpus is ${bytes} bytes; keep it under 1 MB`);
});

Deno.test({
  name: `hostile corpus: ${runnable.length} past findings keep the contract`,
  ignore: runnable.length === 0,
  fn: async () => {
    const results: { name: string; text: string; bad: string[] }[] = [];
    let next = 0;
    const worker = async () => {
      while (next < runnable.length) {
        const { name, entry } = runnable[next++];
        const o = await runCase(fromCorpusEntry(entry), { timeoutS: 20 });
        const bad = o.violations.filter((v) => v !== "raw-error");
        results.push({
          name,
          bad,
          text: `${name} (${entry.mutation.name}: ${entry.mutation.detail}): ${o.stderr.slice(0, 300)}`,
        });
      }
    };
    await Promise.all([worker(), worker()]);
    const failures = results.filter((r) => r.bad.length).map((r) => `${r.bad.join(", ")}: ${r.text}`);
    assertEquals(failures, []);
  },
});
