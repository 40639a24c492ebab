/**
 * Small, dependency-free SVG charts for the validation report: every chart is a self-contained
 * <svg> element (no scripts, no external references), readable offline.
 */

const W = 420;
const H = 260;
const M = { left: 58, right: 12, top: 26, bottom: 40 };

export interface Axis {
  label: string;
  /** Logarithmic (base 10); every value must be > 0. */
  log?: boolean;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A short label for a tick value. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return Number(v.toPrecision(3)).toString();
}

interface Scale {
  (v: number): number;
  ticks: number[];
}

function scale(lo: number, hi: number, from: number, to: number, log: boolean): Scale {
  let a = log ? Math.log10(lo) : lo;
  let b = log ? Math.log10(hi) : hi;
  if (!(b > a)) {
    a -= 0.5;
    b += 0.5;
  }
  const f = ((v: number) => from + (((log ? Math.log10(v) : v) - a) / (b - a)) * (to - from)) as Scale;
  if (log) {
    const ticks: number[] = [];
    for (let e = Math.ceil(a); e <= Math.floor(b); e++) ticks.push(10 ** e);
    f.ticks = ticks.length >= 2 ? ticks : [10 ** a, 10 ** b];
  } else {
    const step = niceStep((b - a) / 5);
    const ticks: number[] = [];
    // k·step, not a running sum: a sum drifts (0.1 + 0.1 + 0.1 …) and labels 0 as -3e-17
    for (let k = Math.ceil(a / step - 1e-9); k * step <= b + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
    f.ticks = ticks;
  }
  return f;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
}

function finiteRange(values: ArrayLike<number>, positiveOnly: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : positiveOnly ? [1e-12, 1] : [0, 1];
}

function frame(title: string, x: Axis, y: Axis, sx: Scale, sy: Scale, body: string): string {
  const grid = [
    ...sx.ticks.map(
      (t) =>
        `<line x1="${sx(t).toFixed(1)}" y1="${M.top}" x2="${sx(t).toFixed(1)}" y2="${H - M.bottom}" class="grid"/>` +
        `<text x="${sx(t).toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`,
    ),
    ...sy.ticks.map(
      (t) =>
        `<line x1="${M.left}" y1="${sy(t).toFixed(1)}" x2="${W - M.right}" y2="${sy(t).toFixed(1)}" class="grid"/>` +
        `<text x="${M.left - 4}" y="${(sy(t) + 3).toFixed(1)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`,
    ),
  ].join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(title)}">` +
    `<text x="${W / 2}" y="16" text-anchor="middle" class="title">${escapeXml(title)}</text>` +
    grid +
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" class="box"/>` +
    body +
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle">${escapeXml(x.label)}</text>` +
    `<text x="12" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 12 ${(M.top + H - M.bottom) / 2})">${escapeXml(y.label)}</text>` +
    `</svg>`
  );
}

/** Lines through (i + 1, ys[i]) for each series (e.g. a loss per epoch). */
export function lineChart(title: string, x: Axis, y: Axis, series: { name: string; ys: readonly number[] }[]): string {
  const n = Math.max(1, ...series.map((s) => s.ys.length));
  const sx = scale(1, Math.max(2, n), M.left, W - M.right, false);
  const [lo, hi] = finiteRange(series.flatMap((s) => s.ys), y.log === true);
  const sy = scale(lo, hi, H - M.bottom, M.top, y.log === true);
  const body = series
    .map((s, k) => {
      const pts = s.ys
        .map((v, i) => (Number.isFinite(v) && (!y.log || v > 0) ? `${sx(i + 1).toFixed(1)},${sy(v).toFixed(1)}` : ''))
        .filter((p) => p !== '')
        .join(' ');
      return `<polyline points="${pts}" class="series s${k}"/><text x="${W - M.right - 4}" y="${M.top + 14 + 12 * k}" text-anchor="end" class="s${k}">${escapeXml(s.name)}</text>`;
    })
    .join('');
  return frame(title, x, y, sx, sy, body);
}

/** A histogram of `values` in `bins` equal bins over their finite range; bar heights are counts. */
export function histogram(title: string, x: Axis, values: ArrayLike<number>, bins = 40): string {
  const [lo, hi] = finiteRange(values, false);
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  }
  const sx = scale(lo, lo + width * bins, M.left, W - M.right, false);
  const sy = scale(0, Math.max(1, ...counts), H - M.bottom, M.top, false);
  const body = counts
    .map((c, b) => {
      const x0 = sx(lo + b * width);
      const x1 = sx(lo + (b + 1) * width);
      return `<rect x="${x0.toFixed(1)}" y="${sy(c).toFixed(1)}" width="${Math.max(0.5, x1 - x0 - 0.5).toFixed(1)}" height="${(sy(0) - sy(c)).toFixed(1)}" class="bar"/>`;
    })
    .join('');
  return frame(title, x, { label: 'points' }, sx, sy, body);
}

/** How many of the points with the largest `keep` scores a thinned scatter always draws. */
export const SCATTER_KEPT_POINTS = 100;

/**
 * A scatter of (xs[i], ys[i]), at most `maxPoints` of them (evenly strided), with an optional
 * y = x line. When thinned, the SCATTER_KEPT_POINTS points with the largest `keep` score (e.g. the
 * error) are drawn as well: the worst points are what the chart is read for, and a stride would
 * leave them out.
 */
export function scatter(
  title: string,
  x: Axis,
  y: Axis,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  options: { maxPoints?: number; diagonal?: boolean; keep?: ArrayLike<number> } = {},
): string {
  const n = Math.min(xs.length, ys.length);
  const stride = Math.max(1, Math.ceil(n / (options.maxPoints ?? 3000)));
  const [xlo, xhi] = finiteRange(xs, false);
  const [ylo, yhi] = options.diagonal ? [Math.min(xlo, finiteRange(ys, false)[0]), Math.max(xhi, finiteRange(ys, false)[1])] : finiteRange(ys, false);
  const sx = scale(options.diagonal ? Math.min(xlo, ylo) : xlo, options.diagonal ? Math.max(xhi, yhi) : xhi, M.left, W - M.right, false);
  const sy = scale(ylo, yhi, H - M.bottom, M.top, false);
  let body = '';
  if (options.diagonal) body += `<line x1="${sx(ylo).toFixed(1)}" y1="${sy(ylo).toFixed(1)}" x2="${sx(yhi).toFixed(1)}" y2="${sy(yhi).toFixed(1)}" class="diag"/>`;
  const dots: string[] = [];
  const draw = (i: number): void => {
    if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) dots.push(`M${sx(xs[i]).toFixed(1)} ${sy(ys[i]).toFixed(1)}h0`);
  };
  for (let i = 0; i < n; i += stride) draw(i);
  if (stride > 1 && options.keep) for (const i of largest(options.keep, n, SCATTER_KEPT_POINTS)) if (i % stride !== 0) draw(i);
  body += `<path d="${dots.join('')}" class="dots"/>`;
  return frame(title, x, y, sx, sy, body);
}

/** Indices of the `count` largest finite scores among the first `n` (NaN scores never count). */
function largest(scores: ArrayLike<number>, n: number, count: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (!Number.isNaN(scores[i])) idx.push(i);
  idx.sort((a, b) => (scores[b] as number) - (scores[a] as number));
  return idx.slice(0, count);
}
