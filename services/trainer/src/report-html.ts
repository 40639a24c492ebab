import { escapeXml, formatTick, histogram, lineChart, scatter } from './svg-chart';
import type { ValidationResult } from './validation-metrics';

export interface ReportHtmlInput {
  name: string;
  experimentId: string;
  pricer: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
  /** Mean training loss (normalized MSE) per epoch. */
  lossHistory: readonly number[];
  /** Loss of the held-out points after each epoch (same units); may be empty. */
  validationLossHistory?: readonly number[];
  /** Held-out points (row-major raw units) and the model's predictions for them. */
  held: { count: number; inputs: Float32Array; outputs: Float32Array };
  predicted: Float32Array;
  validation: ValidationResult;
}

// Series lines take only a stroke colour: a fill on .s0/.s1 would paint the area under each curve.
const STYLE = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}
.pass{color:#176f2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg text{font:10px sans-serif;fill:#333}svg .title{font-size:12px;font-weight:bold}
svg .grid{stroke:#eee}svg .box{fill:none;stroke:#999}svg .series{fill:none;stroke-width:1.5}
svg .s0{stroke:#1f5fbf}svg text.s0{fill:#1f5fbf;stroke:none}svg .s1{stroke:#d9730d}svg text.s1{fill:#d9730d;stroke:none}svg .bar{fill:#1f5fbf}
svg .dots{stroke:#1f5fbf;stroke-width:2.2;stroke-linecap:round;stroke-opacity:.5}svg .diag{stroke:#b00020;stroke-dasharray:4 3}`;

/**
 * The validation report as one self-contained HTML page: a summary table, the training loss
 * curve, and per output an error histogram, predicted against true, and the error across each
 * input — SVG drawn here, no scripts and no external resources, readable offline.
 */
export function renderReportHtml(r: ReportHtmlInput): string {
  const { held, predicted, inputNames, outputNames, validation } = r;
  const n = held.count;
  const D = inputNames.length;
  const K = outputNames.length;
  const column = (data: Float32Array, width: number, j: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = data[i * width + j];
    return out;
  };
  const verdict = validation.pass ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>';
  const rows = validation.outputs
    .map(
      (o) =>
        `<tr><td>${escapeXml(o.output)}</td><td>${fmt(o.mae)}</td><td>${fmt(o.rmse)} / ${fmt(o.rmseThreshold)}</td>` +
        `<td>${fmt(o.maxAbsError)} / ${fmt(o.maxAbsErrorThreshold)}</td><td>${fmt(o.p99AbsError)}</td>` +
        `<td>${o.pass ? '<span class="pass">pass</span>' : '<span class="fail">fail</span>'}</td>` +
        `<td>${escapeXml(Object.entries(o.worst.inputs).map(([k, v]) => `${k} ${formatTick(v)}`).join(', '))}: ` +
        `${fmt(o.worst.predicted)} vs ${fmt(o.worst.expected)}</td></tr>`,
    )
    .join('');
  const sections = outputNames.map((name, k) => {
    const truth = column(held.outputs, K, k);
    const pred = column(predicted, K, k);
    const err = pred.map((p, i) => p - truth[i]);
    const abs = err.map(Math.abs);
    const charts = [
      histogram(`${name}: error (predicted − true)`, { label: `error (${name})` }, err),
      scatter(`${name}: predicted vs true`, { label: 'true' }, { label: 'predicted' }, truth, pred, { diagonal: true, keep: abs }),
      ...inputNames.map((input, j) =>
        scatter(`${name}: |error| across ${input}`, { label: input }, { label: '|error|' }, column(held.inputs, D, j), abs, { keep: abs }),
      ),
    ];
    const worst = validation.outputs[k]?.worstPoints ?? [];
    const worstTable =
      worst.length === 0
        ? ''
        : `<table class="worst"><caption>${escapeXml(name)}: the ${worst.length} points with the largest errors</caption><tr>` +
          inputNames.map((input) => `<th>${escapeXml(input)}</th>`).join('') +
          `<th>true</th><th>predicted</th><th>|error|</th></tr>` +
          worst
            .map(
              (w) =>
                `<tr>${inputNames.map((input) => `<td>${fmtInput(w.inputs[input] as number)}</td>`).join('')}` +
                `<td>${fmt(w.expected)}</td><td>${fmt(w.predicted)}</td><td>${fmt(w.absError)}</td></tr>`,
            )
            .join('') +
          `</table>`;
    return `<h2>${escapeXml(name)}</h2><div class="charts">${charts.join('')}</div>${worstTable}`;
  });
  const loss = lineChart('loss per epoch', { label: 'epoch' }, { label: 'MSE (normalized)', log: true }, [
    { name: 'training', ys: r.lossHistory },
    ...(r.validationLossHistory && r.validationLossHistory.length > 0 ? [{ name: 'validation', ys: r.validationLossHistory }] : []),
  ]);
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeXml(r.name)} — validation report</title>` +
    `<style>${STYLE}</style></head><body>` +
    `<h1>${escapeXml(r.name)} — ${verdict}</h1>` +
    `<p>Experiment ${escapeXml(r.experimentId)}, pricer ${escapeXml(r.pricer)}; ${n} held-out points priced by the pricer, never trained on (their loss after each epoch is the validation curve below).</p>` +
    `<table><tr><th>output</th><th>MAE</th><th>RMSE / limit</th><th>max abs error / limit</th><th>p99 abs error</th><th></th><th>worst point: predicted vs true</th></tr>${rows}</table>` +
    `<h2>Training</h2><div class="charts">${loss}</div>` +
    sections.join('') +
    `</body></html>\n`
  );
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(3) : String(v);
}

/** An input value precisely enough to price the point again (6 significant digits, no trailing zeros). */
function fmtInput(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}
