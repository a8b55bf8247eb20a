/**
 * Plots and the HTML report of a simulation run: the `[output] plot_vars`
 * the built-in simulator draws are written as SVG files into
 * `<logDir>/plots/`, and `<logDir>/report.html` (self-contained: inline SVG
 * and CSS, nothing fetched) shows the results with every available plot.
 *
 * @module
 */
import { writeFileAtomic } from "../io/atomic.ts";
import type { SimulationResult } from "./run.ts";
import { barChart, esc, heatMap, lineChart } from "./svg.ts";

/** The `plot_vars` drawn here (`all` selects them all); other toolbox plot names are listed as not drawn. */
export const PLOT_VARS: readonly string[] = [
  "error_t",
  "correlation",
  "operations",
  "confusion_matrix",
  "input_image",
  "spikerates",
  "spikecounts",
  "hist_spikerates_activations",
];

/** One drawn plot. */
export interface Plot {
  /** The `plot_vars` name. */
  name: string;
  /** File name stem (the toolbox's figure name). */
  file: string;
  /** SVG document. */
  svg: string;
}

/** Result of a parameter sweep, for the report and its plot. */
export interface SweepResult {
  /** The swept `[cell]` parameter. */
  paramName: string;
  /** Its values. */
  values: number[];
  /** SNN top-1 accuracy for each value. */
  accuracies: number[];
  /** Number of samples each accuracy was measured on. */
  numSamples: number;
  /** Logarithmic parameter axis. */
  logScale: boolean;
}

/** Half-width of the 95 % Wilson score interval of accuracy `p` over `n` samples (the toolbox's error bars). */
export function wilsonScore(p: number, n: number, z = 1.96): number {
  if (n <= 0) return 0;
  return (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
}

/** The accuracy-versus-parameter plot of a sweep. */
export function sweepPlot(s: SweepResult): Plot {
  return {
    name: "parameter_sweep",
    file: `Accuracy_vs_${s.paramName}`,
    svg: lineChart([{
      label: "SNN top-1",
      x: s.values,
      y: s.accuracies,
      color: "#1a6",
      yErr: s.accuracies.map((a) => wilsonScore(a, s.numSamples)),
    }], {
      title: "Accuracy vs hyperparameter",
      xLabel: s.paramName,
      yLabel: "accuracy",
      yRange: [0, 1],
      xLog: s.logScale,
    }),
  };
}

/** Every plot the simulator can draw for `r`. */
export function simulationPlots(r: SimulationResult): Plot[] {
  const plots: Plot[] = [];
  const pct = (a: number[]) => a.map((v) => 100 * (1 - v));
  const flat = (v: number) => r.times.map(() => 100 * (1 - v));
  plots.push({
    name: "error_t",
    file: "Error_vs_time",
    svg: lineChart([
      { label: "SNN top-1", x: r.times, y: pct(r.snnAccuracyByTime), color: "#1a6" },
      { label: "ANN top-1", x: r.times, y: flat(r.annAccuracy), color: "#d33", dashed: true },
      // With k = 1 the top-k curves are the top-1 curves: draw them once.
      ...(r.topK > 1
        ? [
          { label: `SNN top-${r.topK}`, x: r.times, y: pct(r.snnTopKAccuracyByTime), color: "#26c" },
          { label: `ANN top-${r.topK}`, x: r.times, y: flat(r.annTopKAccuracy), color: "#e90", dashed: true },
        ]
        : []),
    ], {
      title: `Error vs simulation time (${r.numSamples} samples)`,
      xLabel: "time [ms]",
      yLabel: "error [%]",
      yRange: [0, 100],
    }),
  });
  plots.push({
    name: "correlation",
    file: "Pearson",
    svg: barChart(r.correlationByLayer.map((c) => c.layer), r.correlationByLayer.map((c) => c.correlation), {
      title: "Correlation of ANN activations and SNN spike rates",
      xLabel: "",
      yLabel: "Pearson coefficient",
      yRange: [0, 1],
    }),
  });
  if (r.sopsByTime.length) {
    plots.push({
      name: "operations",
      file: "Operations_vs_time",
      svg: lineChart([
        { label: "SNN SOPs", x: r.times, y: r.sopsByTime.map((v) => v / 1e6), color: "#26c" },
        { label: "ANN MACs", x: r.times, y: r.times.map(() => r.macs / 1e6), color: "#d33", dashed: true },
      ], { title: "Operations per sample", xLabel: "time [ms]", yLabel: "MOps" }),
    });
  }
  const classes = Math.max(...r.truth, ...r.guesses, 0) + 1;
  const cm = new Float64Array(classes * classes);
  r.truth.forEach((t, i) => {
    if (r.guesses[i] >= 0) cm[t * classes + r.guesses[i]]++;
  });
  plots.push({
    name: "confusion_matrix",
    file: "Confusion_matrix",
    svg: heatMap(cm, classes, classes, {
      title: "Confusion matrix (rows: true class, columns: SNN guess)",
      xLabel: "guessed class",
      yLabel: "true class",
    }),
  });
  const s = r.firstInput.shape;
  const [h, w, c] = s.length === 3 ? s : s.length === 2 ? [s[0], s[1], 1] : [1, s[0] ?? 1, 1];
  const img = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < c; k++) img[i] += r.firstInput.data[i * c + k] / c;
  }
  plots.push({
    name: "input_image",
    file: "input_image",
    svg: heatMap(Float32Array.from(img, (v) => -v), h, w, {
      title: `First input sample (class ${r.truth[0]})`,
      xLabel: "",
      yLabel: "",
    }),
  });
  plots.push({
    name: "spikerates",
    file: "Spikerates",
    svg: barChart(r.meanRateByLayer.map((m) => m.layer), r.meanRateByLayer.map((m) => m.rate), {
      title: "Mean spike rate per neuron and time step",
      xLabel: "",
      yLabel: "spikes / step",
    }),
  });
  if (r.spikeCountByTime.length) {
    plots.push({
      name: "spikecounts",
      file: "Spikecounts",
      svg: lineChart([{ label: "all spiking layers", x: r.times, y: r.spikeCountByTime, color: "#26c" }], {
        title: "Spikes per time step and sample",
        xLabel: "time [ms]",
        yLabel: "spikes",
      }),
    });
  }
  const centers = r.histogram.edges.slice(1).map((e, i) => (e + r.histogram.edges[i]) / 2);
  plots.push({
    name: "hist_spikerates_activations",
    file: "Histogram_spikerates_activations",
    svg: lineChart([
      { label: "SNN spike rates", x: centers, y: r.histogram.rates, color: "#26c" },
      { label: "ANN activations", x: centers, y: r.histogram.activations, color: "#d33", dashed: true },
    ], {
      title: "Distribution of non-zero rates and activations",
      xLabel: "rate [1/ms] / activation",
      yLabel: "count",
    }),
  });
  return plots;
}

/** Options of {@linkcode writeReport}. */
export interface ReportOptions {
  /** `[output] plot_vars`: plots also written as `<logDir>/plots/<name>.svg` (`all` for every one). */
  plotVars?: readonly string[];
  /** A parameter sweep to include. */
  sweep?: SweepResult;
  /** Scale factors of the normalization, to list. */
  scaleFactors?: Record<string, number>;
  /** Report title. */
  title?: string;
}

function row(k: string, v: string): string {
  return `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;
}

/** Write the requested SVG plots and `report.html` into `logDir`; returns the files written. */
export async function writeReport(
  logDir: string,
  r: SimulationResult,
  options: ReportOptions = {},
): Promise<string[]> {
  const requested = new Set(options.plotVars ?? []);
  const all = requested.has("all");
  const plots = simulationPlots(r);
  if (options.sweep) plots.push(sweepPlot(options.sweep));
  const files: string[] = [];
  const toWrite = plots.filter((p) => all || requested.has(p.name) || p.name === "parameter_sweep");
  if (toWrite.length) await Deno.mkdir(`${logDir}/plots`, { recursive: true });
  for (const p of toWrite) {
    const file = `${logDir}/plots/${p.file}.svg`;
    await writeFileAtomic(file, p.svg);
    files.push(file);
  }
  const notDrawn = [...requested].filter((v) => v !== "all" && !PLOT_VARS.includes(v));
  const p1 = (v: number) => `${(100 * v).toFixed(2)} %`;
  const summary = [
    row("samples", String(r.numSamples)),
    row("duration", `${r.times.length} steps of ${r.times[0]} ms`),
    row("SNN top-1", p1(r.snnAccuracy)),
    ...(r.topK > 1 ? [row(`SNN top-${r.topK}`, p1(r.snnTopKAccuracy))] : []),
    row("ANN top-1", p1(r.annAccuracy)),
    ...(r.topK > 1 ? [row(`ANN top-${r.topK}`, p1(r.annTopKAccuracy))] : []),
    row("SNN top-1 averaged by class", p1(r.snnAccuracyByClass)),
    row("SNN synaptic operations per sample", r.sops.toExponential(3)),
    row("ANN MACs per sample", r.macs.toExponential(3)),
    row("SOPs / MACs", (r.sops / r.macs).toFixed(3)),
    ...r.correlationByLayer.map((c) => row(`correlation ${c.layer}`, c.correlation.toFixed(4))),
    ...Object.entries(options.scaleFactors ?? {}).map(([k, v]) => row(`scale factor ${k}`, v.toPrecision(5))),
  ].join("");
  const sweepRows = options.sweep
    ? `<h2>Parameter sweep: ${esc(options.sweep.paramName)}</h2><table>${
      options.sweep.values.map((v, i) => row(String(v), p1(options.sweep!.accuracies[i]))).join("")
    }</table>`
    : "";
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(options.title ?? "SNN simulation report")}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}figure{display:inline-block;margin:1em}</style></head>
<body><h1>${esc(options.title ?? "SNN simulation report")}</h1>
<table>${summary}</table>${sweepRows}
<h2>Plots</h2>${
    plots.map((p) => `<figure>${p.svg}<figcaption>${esc(p.name)}</figcaption></figure>`).join("\n")
  }
${notDrawn.length ? `<p>plot_vars not drawn by this simulator: ${esc(notDrawn.join(", "))}</p>` : ""}
</body></html>
`;
  const report = `${logDir}/report.html`;
  await writeFileAtomic(report, html);
  files.push(report);
  return files;
}
