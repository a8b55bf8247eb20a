/**
 * A progress bar for long CLI work, drawn on stderr only when stderr is a
 * terminal (so logs and pipes stay clean) and not in quiet mode.
 *
 * @module
 */

/** A progress reporter: `update(done)` as work advances, `done()` at the end. */
export interface Progress {
  /** Report that `done` of `total` units are finished. */
  update(done: number): void;
  /** Finish the bar (prints a newline if anything was drawn). */
  done(): void;
}

const encoder = new TextEncoder();

/** A progress reporter that draws nothing. */
export const NO_PROGRESS: Progress = { update() {}, done() {} };

/**
 * Create a progress bar labelled `label` for `total` units. Draws at most ~10
 * times a second; draws nothing when `enabled` is false or stderr is not a terminal.
 */
export function createProgress(label: string, total: number, enabled = true): Progress {
  if (!enabled || !Deno.stderr.isTerminal() || total <= 0) return NO_PROGRESS;
  let last = 0;
  let drawn = false;
  const started = performance.now();
  const draw = (done: number) => {
    const width = 30;
    const frac = Math.min(1, done / total);
    const filled = Math.round(frac * width);
    const secs = (performance.now() - started) / 1000;
    const eta = frac > 0 ? secs / frac - secs : 0;
    const line = `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total}` +
      ` ${secs.toFixed(1)}s${frac < 1 ? `, ~${eta.toFixed(0)}s left` : ""}   `;
    Deno.stderr.writeSync(encoder.encode(line));
    drawn = true;
  };
  return {
    update(done: number) {
      const now = performance.now();
      if (now - last < 100 && done < total) return;
      last = now;
      draw(done);
    },
    done() {
      if (drawn) Deno.stderr.writeSync(encoder.encode("\n"));
    },
  };
}
