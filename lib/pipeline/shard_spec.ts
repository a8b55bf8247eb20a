/**
 * Which shard of a run this process simulates: `--shard I/N` (0-based `I`
 * of `N`), or `--shard auto` / `auto/N` read from the environment of the
 * cluster scheduler that started the process:
 *
 * - Kubernetes Indexed Jobs: the index is `JOB_COMPLETION_INDEX`; the Job's
 *   `spec.completions` is not in the pod's environment, so the count comes
 *   from `--shard auto/N` or the variable `SNNTOOLBOX_SHARD_COUNT` (set it in
 *   the manifest to the same value as `completions`).
 * - Slurm job arrays: the index is `(SLURM_ARRAY_TASK_ID −
 *   SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP` and the count
 *   `SLURM_ARRAY_TASK_COUNT`, so `--array=0-7` and `--array=1-8` both give
 *   shards 0 to 7 of 8; `auto/N` must then agree with the array.
 *
 * @module
 */
import { ConfigError, UsageError } from "../errors.ts";
import { checkShardSpec, type ShardSpec } from "../simulation/shards.ts";

/** Reads one environment variable (undefined when unset). */
export type EnvReader = (name: string) => string | undefined;

/** The environment variable that gives the shard count to `--shard auto` under Kubernetes. */
export const SHARD_COUNT_ENV = "SNNTOOLBOX_SHARD_COUNT";

const SYNTAX = "--shard takes I/N (shard I of N, 0-based: 0/4 … 3/4), 'auto' or 'auto/N'";

function wholeNumber(text: string | undefined, what: string): number {
  const t = (text ?? "").trim();
  if (!/^\d+$/.test(t)) throw new ConfigError(`${what} must be a whole number >= 0, found '${text ?? ""}'`);
  return Number(t);
}

/**
 * The shard `text` names (`I/N`, `auto`, `auto/N`); `auto` reads the
 * scheduler's environment through `env` (see the module docs).
 */
export function parseShardSpec(text: string, env: EnvReader = () => undefined): ShardSpec {
  const t = text.trim();
  const fixed = /^(\d+)\s*\/\s*(\d+)$/.exec(t);
  if (fixed) return checkShardSpec({ index: Number(fixed[1]), count: Number(fixed[2]) });
  const auto = /^auto(?:\s*\/\s*(\d+))?$/.exec(t);
  if (!auto) throw new UsageError(`${SYNTAX}, found '${text}'`);
  return shardFromEnvironment(env, auto[1] === undefined ? undefined : Number(auto[1]));
}

/**
 * The shard of this process from the scheduler's environment (Kubernetes
 * Indexed Job or Slurm job array); `count` is the `N` of `--shard auto/N`.
 */
export function shardFromEnvironment(env: EnvReader, count?: number): ShardSpec {
  const k8s = env("JOB_COMPLETION_INDEX");
  const slurm = env("SLURM_ARRAY_TASK_ID");
  if (k8s !== undefined && slurm !== undefined) {
    throw new ConfigError(
      `--shard auto: both JOB_COMPLETION_INDEX (Kubernetes, ${k8s}) and SLURM_ARRAY_TASK_ID (Slurm, ${slurm}) ` +
        "are set; give the shard as --shard I/N",
    );
  }
  if (k8s !== undefined) {
    const index = wholeNumber(k8s, "JOB_COMPLETION_INDEX (Kubernetes Indexed Job)");
    const fromEnv = env(SHARD_COUNT_ENV);
    const n = fromEnv === undefined ? undefined : wholeNumber(fromEnv, SHARD_COUNT_ENV);
    if (count !== undefined && n !== undefined && count !== n) {
      throw new ConfigError(`--shard auto/${count} disagrees with ${SHARD_COUNT_ENV}=${n}`);
    }
    const total = count ?? n;
    if (total === undefined) {
      throw new ConfigError(
        `--shard auto: JOB_COMPLETION_INDEX=${index} (Kubernetes Indexed Job) gives the index but not the ` +
          `number of shards: use --shard auto/N or set ${SHARD_COUNT_ENV}, N = the Job's spec.completions`,
      );
    }
    return inRange(index, total, `JOB_COMPLETION_INDEX=${index}`, "spec.completions");
  }
  if (slurm !== undefined) {
    const id = wholeNumber(slurm, "SLURM_ARRAY_TASK_ID");
    const countText = env("SLURM_ARRAY_TASK_COUNT");
    if (countText === undefined) {
      throw new ConfigError(
        `--shard auto: SLURM_ARRAY_TASK_ID=${id} is set but SLURM_ARRAY_TASK_COUNT is not (Slurm before 17.11?); ` +
          "give the shard as --shard I/N",
      );
    }
    const total = wholeNumber(countText, "SLURM_ARRAY_TASK_COUNT");
    const min = env("SLURM_ARRAY_TASK_MIN") === undefined
      ? 0
      : wholeNumber(env("SLURM_ARRAY_TASK_MIN"), "SLURM_ARRAY_TASK_MIN");
    const step = env("SLURM_ARRAY_TASK_STEP") === undefined
      ? 1
      : wholeNumber(env("SLURM_ARRAY_TASK_STEP"), "SLURM_ARRAY_TASK_STEP");
    if (count !== undefined && count !== total) {
      throw new ConfigError(`--shard auto/${count} disagrees with SLURM_ARRAY_TASK_COUNT=${total}`);
    }
    const offset = id - min;
    if (offset < 0 || step < 1 || offset % step !== 0) {
      throw new ConfigError(
        `--shard auto: SLURM_ARRAY_TASK_ID=${id} is not SLURM_ARRAY_TASK_MIN=${min} plus a multiple of ` +
          `SLURM_ARRAY_TASK_STEP=${step}; submit the array as a range, e.g. --array=0-${total - 1}`,
      );
    }
    return inRange(
      offset / step,
      total,
      `SLURM_ARRAY_TASK_ID=${id} (MIN=${min}, STEP=${step})`,
      "the array's task range (use a range such as --array=0-N-1, not a list)",
    );
  }
  throw new ConfigError(
    "--shard auto: no shard index in the environment: neither JOB_COMPLETION_INDEX (Kubernetes Indexed " +
      "Job) nor SLURM_ARRAY_TASK_ID (Slurm job array) is set; give the shard as --shard I/N",
  );
}

function inRange(index: number, count: number, source: string, fix: string): ShardSpec {
  if (count < 1) throw new ConfigError(`--shard auto: the number of shards must be >= 1, found ${count}`);
  if (index >= count) {
    throw new ConfigError(
      `--shard auto: ${source} gives shard ${index}, but there are ${count} shards; check ${fix}`,
    );
  }
  return { index, count };
}
