import { renderReportHtml } from './report-html';
import { escapeXml, histogram, lineChart, scatter } from './svg-chart';
import { validationMetrics } from './validation-metrics';

function heldOut(count: number): { count: number; inputs: Float32Array; outputs: Float32Array; predicted: Float32Array } {
  const inputs = new Float32Array(count * 2);
  const outputs = new Float32Array(count * 2);
  const predicted = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) {
    const a = i / count;
    const b = 1 - a;
    inputs.set([a, b], 2 * i);
    outputs.set([a * a, a + b], 2 * i);
    predicted.set([a * a + 0.01 * Math.sin(40 * a), a + b], 2 * i);
  }
  return { count, inputs, outputs, predicted };
}

describe('report.html', () => {
  const h = heldOut(500);
  const thresholds = [
    { output: 'price', maxAbsError: 0.02, rmse: 0.01, relative: false },
    { output: 'delta', maxAbsError: 0.02, rmse: 0.01, relative: false },
  ];
  const validation = validationMetrics(h, h.predicted, ['spot', 'vol'], thresholds);
  const html = renderReportHtml({
    name: 'bs <call> & "co"',
    experimentId: 'exp-1',
    pricer: 'black-scholes',
    inputNames: ['spot', 'vol'],
    outputNames: ['price', 'delta'],
    lossHistory: [1, 0.1, 0.01, 1e-3],
    validationLossHistory: [2, 0.2, 0.03, 4e-3],
    held: h,
    predicted: h.predicted,
    validation,
  });

  it('is one self-contained page: charts inline, no scripts, nothing fetched', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|src=|href=/i);
    // one loss curve, and per output: histogram, predicted vs true, and one chart per input
    expect(html.match(/<svg /g)).toHaveLength(1 + 2 * (2 + 2));
    expect(html).toMatch(/<polyline [^>]*class="series s0"\/><text [^>]*>training<\/text><polyline [^>]*class="series s1"\/><text [^>]*>validation<\/text>/);
    for (const title of ['loss per epoch', 'price: error (predicted − true)', 'delta: predicted vs true', 'price: |error| across vol'])
      expect(html).toContain(title);
  });

  it('escapes names and shows the figures of validation', () => {
    expect(html).toContain('bs &lt;call&gt; &amp; &quot;co&quot;');
    expect(html).not.toContain('<call>');
    expect(html).toContain(validation.outputs[0].rmse.toPrecision(3));
    expect(html).toContain(validation.pass ? 'PASS' : 'FAIL');
  });

  it('lists each output\'s worst points with their inputs', () => {
    for (const [k, name] of ['price', 'delta'].entries()) {
      const table = html.match(new RegExp(`<table class="worst"><caption>${name}: the 10 points with the largest errors</caption>(.*?)</table>`))?.[1] ?? '';
      const rows = [...table.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<t[dh]>(.*?)<\/t[dh]>/g)].map((c) => c[1]));
      expect(rows[0]).toEqual(['spot', 'vol', 'true', 'predicted', '|error|']);
      expect(rows).toHaveLength(11);
      const worst = validation.outputs[k].worstPoints[0];
      expect(rows[1]).toEqual([
        ...[worst.inputs.spot, worst.inputs.vol].map((v) => String(Number(v.toPrecision(6)))),
        ...[worst.expected, worst.predicted, worst.absError].map((v) => v.toPrecision(3)),
      ]);
    }
  });

  it('draws what it is given: bar counts add up, points land inside the plot', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const svg = histogram('h', { label: 'x' }, values, 10);
    const heights = [...svg.matchAll(/class="bar"/g)].length;
    expect(heights).toBe(10);
    const line = lineChart('l', { label: 'epoch' }, { label: 'loss', log: true }, [{ name: 't', ys: [1, 0.1, 0.01] }]);
    const pts = /points="([^"]+)"/.exec(line)![1].split(' ').map((p) => p.split(',').map(Number));
    expect(pts).toHaveLength(3);
    // log scale: equal ratios are equal steps, and y decreases upwards on screen
    expect(pts[1][1] - pts[0][1]).toBeCloseTo(pts[2][1] - pts[1][1], 6);
    expect(pts[2][1]).toBeGreaterThan(pts[0][1]);
    const sc = scatter('s', { label: 'x' }, { label: 'y' }, [0, 1, 2], [0, 1, NaN]);
    expect((/d="([^"]*)"/.exec(sc)![1].match(/M/g) ?? []).length).toBe(2); // the NaN point is left out
    expect(escapeXml(`<&>"'`)).toBe('&lt;&amp;&gt;&quot;&#39;');
  });

  it('draws the largest errors even when it thins a scatter out', () => {
    // 10,000 points thinned to every 4th: the single spike sits at an index the stride skips
    const n = 10_000;
    const xs = Float64Array.from({ length: n }, (_, i) => i / n);
    const err = Float64Array.from({ length: n }, (_, i) => (i === 4001 ? 1 : 1e-3));
    const dots = (svg: string): number[][] =>
      [...(/d="([^"]*)"/.exec(svg) as RegExpExecArray)[1].matchAll(/M([\d.]+) ([\d.]+)h0/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const svg = scatter('s', { label: 'x' }, { label: '|error|' }, xs, err, { keep: err });
    const top = Math.min(...dots(svg).map((d) => d[1])); // screen y: smaller is higher
    expect(top).toBeCloseTo(26, 0); // the spike, at the top of the plot (M.top)
    expect(dots(svg).length).toBeLessThanOrEqual(3000 + 100);
    // and the page's |error| charts hold each output's worst point
    const big = heldOut(20_000);
    big.predicted[2 * 7778] += 5; // 7778 is not a multiple of the stride (7)
    const v = validationMetrics(big, big.predicted, ['spot', 'vol'], thresholds);
    const page = renderReportHtml({ name: 'n', experimentId: 'e', pricer: 'p', inputNames: ['spot', 'vol'], outputNames: ['price', 'delta'], lossHistory: [1], held: big, predicted: big.predicted, validation: v });
    const chart = /<svg [^>]*aria-label="price: \|error\| across spot">[\s\S]*?<\/svg>/.exec(page)?.[0] ?? '';
    expect(Math.min(...dots(chart).map((d) => d[1]))).toBeCloseTo(26, 0);
  });

  it('draws the loss curves as lines: no style rule that reaches a series polyline fills it', () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const polylineClasses = new Set(['series', 's0', 's1']);
    const fills: string[] = [];
    for (const [, selectors, body] of style.matchAll(/([^{}]+)\{([^}]*)\}/g)) {
      const fill = /(?:^|;)\s*fill\s*:\s*([^;]+)/.exec(body)?.[1].trim();
      if (fill === undefined || fill === 'none') continue;
      for (const selector of selectors.split(',')) {
        // the last compound selector, e.g. "text.s0" or ".series": does it match <polyline class="series s0">?
        const last = selector.trim().split(/\s+/).pop() ?? '';
        const [element, ...classes] = last.split('.');
        if ((element === '' || element === 'polyline' || element === '*') && classes.every((c) => polylineClasses.has(c))) fills.push(`${selector.trim()} → ${fill}`);
      }
    }
    expect(fills).toEqual([]);
  });

  it('labels a tick at zero "0", not a rounding residue', () => {
    // -0.33 … 0.33 in steps of 0.1: a running sum from -0.3 reaches -2.8e-17, not 0
    const svg = histogram('h', { label: 'x' }, Float64Array.from({ length: 100 }, (_, i) => -0.33 + (0.66 * i) / 99), 10);
    const labels = [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toContain('0');
    expect(labels.filter((l) => /e-1[0-9]/.test(l))).toEqual([]);
  });
});
