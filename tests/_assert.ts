/**
 * Assertions for the tests, on top of `node:assert/strict` (the JSR
 * standard library is not reachable from our machines).
 *
 * @module
 */
import assert from "node:assert/strict";

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assert.deepStrictEqual(actual, expected, msg);
}

/** `actual` matches `re`. */
export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  assert.match(actual, re, msg);
}

/** `value` is truthy. */
export function assertTrue(value: unknown, msg?: string): asserts value {
  assert.ok(value, msg);
}

/** `fn` throws (or rejects with) an error that is an instance of `type` and whose message matches `re`. */
export async function assertRejects(
  fn: () => unknown,
  type: new (...args: never[]) => Error,
  re?: RegExp,
): Promise<Error> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected ${type.name} to be thrown, nothing was`);
  assert.ok(caught instanceof type, `expected ${type.name}, got ${caught}`);
  if (re) assert.match((caught as Error).message, re);
  return caught as Error;
}

/** |actual - expected| <= atol + rtol * |expected| elementwise. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6, msg = "" }: { rtol?: number; atol?: number; msg?: string } = {},
): void {
  assert.equal(actual.length, expected.length, `${msg} length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (!(err <= 0) && (worst < 0 || err > worstErr || Number.isNaN(err))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${msg} element ${worst}: ${actual[worst]} vs expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Path of the shared real-model fixtures, or `undefined` when absent (tests then skip with a message). */
export function fixturesDir(): string | undefined {
  const url = new URL("../../shared/fixtures/", import.meta.url);
  try {
    Deno.statSync(url);
    return url.pathname;
  } catch {
    return undefined;
  }
}
