/**
 * Minimal self-contained SVG charts (no fonts or scripts fetched): line
 * charts, bar charts with error bars and heat maps, for the simulation
 * report.
 *
 * @module
 */

/** One line of a line chart. */
export interface Series {
  /** Legend label. */
  label: string;
  /** X values. */
  x: number[];
  /** Y values (NaN leaves a gap). */
  y: number[];
  /** CSS colour. */
  color: string;
  /** Dashed line. */
  dashed?: boolean;
  /** Half-widths of error bars at each point. */
  yErr?: number[];
}

/** Axes of a chart. */
export interface Axes {
  /** Chart title. */
  title: string;
  /** X axis label. */
  xLabel: string;
  /** Y axis label. */
  yLabel: string;
  /** Fixed y range; default: the data range. */
  yRange?: [number, number];
  /** Logarithmic x axis. */
  xLog?: boolean;
}

const W = 640, L = 70, R = 20, T = 40;

/** Plot height and bottom margin. */
interface Dims {
  H: number;
  B: number;
}
const PLAIN: Dims = { H: 400, B: 60 };
/** Bar charts: room below for slanted labels. */
const BARS: Dims = { H: 480, B: 140 };

/** Escape text for XML. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

function frame(axes: Axes, body: string, xTicks: string, yTicks: string, { H, B }: Dims = PLAIN): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" ` +
    `font-family="sans-serif" font-size="12">` +
    `<rect width="${W}" height="${H}" fill="white"/>` +
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(axes.title)}</text>` +
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>` +
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>` +
    xTicks + yTicks + body +
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(axes.xLabel)}</text>` +
    `<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${
      (T + H - B) / 2
    })">` +
    `${esc(axes.yLabel)}</text></svg>\n`;
}

function yScale(lo: number, hi: number, { H, B }: Dims = PLAIN): (v: number) => number {
  return (v) => H - B - ((v - lo) / (hi - lo || 1)) * (H - B - T);
}

function yTickMarks(lo: number, hi: number, dims: Dims = PLAIN): string {
  const y = yScale(lo, hi, dims);
  return ticks(lo, hi).map((v) =>
    `<line x1="${L - 4}" y1="${y(v)}" x2="${L}" y2="${y(v)}" stroke="black"/>` +
    `<line x1="${L}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#eee"/>` +
    `<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${fmt(v)}</text>`
  ).join("");
}

function range(values: number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return [0, 1];
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  return [lo, hi];
}

/** A line chart of `series` (with optional error bars), legend at the top right. */
export function lineChart(series: Series[], axes: Axes): string {
  const { H, B } = PLAIN;
  const xs = series.flatMap((s) => s.x);
  const tx = (v: number) => (axes.xLog ? Math.log10(v) : v);
  const [xlo, xhi] = range(xs.map(tx));
  const [ylo, yhi] = axes.yRange ??
    range(series.flatMap((s) => s.y.flatMap((v, i) => [v - (s.yErr?.[i] ?? 0), v + (s.yErr?.[i] ?? 0)])));
  const x = (v: number) => L + ((tx(v) - xlo) / (xhi - xlo || 1)) * (W - L - R);
  const y = yScale(ylo, yhi);
  const xTickVals = axes.xLog ? [...new Set(xs)].sort((a, b) => a - b) : ticks(xlo, xhi);
  const xTicks = xTickVals.map((v) =>
    `<line x1="${x(v)}" y1="${H - B}" x2="${x(v)}" y2="${H - B + 4}" stroke="black"/>` +
    `<text x="${x(v)}" y="${H - B + 18}" text-anchor="middle">${fmt(v)}</text>`
  ).join("");
  const lines = series.map((s) => {
    const pts = s.x.map((
      xv,
      i,
    ) => (Number.isFinite(s.y[i]) ? `${x(xv).toFixed(1)},${y(s.y[i]).toFixed(1)}` : ""))
      .filter(Boolean).join(" ");
    const errs = (s.yErr ?? []).map((e, i) =>
      `<line x1="${x(s.x[i])}" y1="${y(s.y[i] - e)}" x2="${x(s.x[i])}" y2="${
        y(s.y[i] + e)
      }" stroke="${s.color}"/>`
    ).join("");
    const marks = s.x.length <= 30
      ? s.x.map((xv, i) => `<circle cx="${x(xv)}" cy="${y(s.y[i])}" r="2.5" fill="${s.color}"/>`).join("")
      : "";
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"` +
      `${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>${errs}${marks}`;
  }).join("");
  const legend = series.map((s, i) =>
    `<line x1="${W - R - 150}" y1="${T + 12 + i * 16}" x2="${W - R - 126}" y2="${
      T + 12 + i * 16
    }" stroke="${s.color}" ` +
    `stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ""}/>` +
    `<text x="${W - R - 120}" y="${T + 16 + i * 16}">${esc(s.label)}</text>`
  ).join("");
  return frame(axes, lines + legend, xTicks, yTickMarks(ylo, yhi));
}

/** A bar chart of `values` (one bar per label), with optional error bars. */
export function barChart(labels: string[], values: number[], axes: Axes, errors?: number[]): string {
  const { H, B } = BARS;
  const [ylo, yhi] = axes.yRange ??
    [Math.min(0, ...values.filter(Number.isFinite)), Math.max(1e-12, ...values.filter(Number.isFinite))];
  const y = yScale(ylo, yhi, BARS);
  const slot = (W - L - R) / Math.max(1, labels.length);
  const bars = labels.map((label, i) => {
    const v = Number.isFinite(values[i]) ? values[i] : 0;
    const x0 = L + i * slot + slot * 0.15;
    const top = y(Math.max(v, ylo));
    const err = errors?.[i]
      ? `<line x1="${x0 + slot * 0.35}" y1="${y(v - errors[i])}" x2="${x0 + slot * 0.35}" y2="${
        y(v + errors[i])
      }" stroke="black"/>`
      : "";
    const cx = L + (i + 0.5) * slot;
    return `<rect x="${x0}" y="${top}" width="${slot * 0.7}" height="${
      Math.max(0, H - B - top)
    }" fill="#8aa"/>` + err +
      `<text x="${cx}" y="${top - 4}" text-anchor="middle" font-size="10">${fmt(values[i])}</text>` +
      `<text x="${cx}" y="${H - B + 12}" text-anchor="end" font-size="10" transform="rotate(-40 ${cx} ${
        H - B + 12
      })">` +
      `${esc(label)}</text>`;
  }).join("");
  return frame(axes, bars, "", yTickMarks(ylo, yhi, BARS), BARS);
}

/** A heat map of a `rows × cols` matrix (row-major), grey scale, values printed when the grid is small. */
export function heatMap(values: ArrayLike<number>, rows: number, cols: number, axes: Axes): string {
  const { H, B } = PLAIN;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < rows * cols; i++) {
    lo = Math.min(lo, values[i]);
    hi = Math.max(hi, values[i]);
  }
  const cw = (W - L - R) / cols, ch = (H - B - T) / rows;
  const cells: string[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c];
      const g = Math.round(255 * (1 - (v - lo) / (hi - lo || 1)));
      cells.push(
        `<rect x="${L + c * cw}" y="${T + r * ch}" width="${cw + 0.5}" height="${
          ch + 0.5
        }" fill="rgb(${g},${g},${g})"/>`,
      );
      if (rows * cols <= 400) {
        cells.push(
          `<text x="${L + (c + 0.5) * cw}" y="${
            T + (r + 0.5) * ch + 4
          }" text-anchor="middle" font-size="10" ` +
            `fill="${g < 128 ? "white" : "black"}">${fmt(v)}</text>`,
        );
      }
    }
  }
  return frame(axes, cells.join(""), "", "");
}
