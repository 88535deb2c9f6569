/**
 * The bench chart: every row of `bench/results/latest.json` as sluice's figure divided by the
 * reference it is measured against (node:http2, the C servers h2o and nghttpd, node:http, ws,
 * undici, a canned-bytes floor), drawn as horizontal bars in a hand-written SVG — no chart
 * library, so the bench adds no dependency.
 *
 * `renderChart` is pure (results in, SVG text out). `npm run bench` writes `latest.svg` beside
 * `latest.json`; `node dist/bench/chart.js bench/results/latest.json` redraws it from a JSON
 * already written, without running the bench again.
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `bench/run.ts` writes to `latest.json`: when, whether `--quick`, and one object per row. */
export interface BenchResults {
  readonly date?: string;
  readonly quick?: boolean;
  /** `--only`'s argument when the run was limited to some rows. */
  readonly only?: string | null;
  readonly results: readonly unknown[];
}

/** One bar: sluice's figure as a multiple of a reference's. */
export interface ChartBar {
  /** The group the bar is drawn in (`HTTP/2`, `HTTP/1.1`, `WebSocket`, …). */
  readonly section: string;
  /** The bench row's name (`small GET h2c c10 m10`). */
  readonly workload: string;
  /** What was compared (`req/s`, `server CPU per request`, …). */
  readonly measure: string;
  /** Whom sluice is compared with (`node:http2`, `h2o`, …). */
  readonly against: string;
  /** sluice ÷ reference. */
  readonly ratio: number;
  /** True when a larger ratio is better for sluice (throughput); false for costs (CPU, memory). */
  readonly isHigherBetter: boolean;
  /** The ratio an issue set as the target, or null. */
  readonly target: number | null;
}

type Row = Readonly<Record<string, unknown>>;

/** The sections in the order they are drawn; a bar's section is one of these. */
const SECTIONS = ['HTTP/2', 'HTTP/2 against the C servers', 'HTTP/1.1', 'WebSocket'] as const;

function isRecord(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberAt(object: Row | undefined, key: string): number | null {
  const value = object?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function recordAt(object: Row | undefined, key: string): Row | undefined {
  const value = object?.[key];
  return isRecord(value) ? value : undefined;
}

/** The first of `keys` that both `a` and `b` carry as numbers, as `a[key] / b[key]`; null if none. */
function quotient(a: Row | undefined, b: Row | undefined, keys: readonly string[]): number | null {
  for (const key of keys) {
    const top = numberAt(a, key);
    const bottom = numberAt(b, key);
    if (top !== null && bottom !== null && bottom > 0) return top / bottom;
  }
  return null;
}

/** Throughput fields of a row's per-server summaries, in the order the row modules use them. */
const THROUGHPUT_KEYS = ['median', 'requestsPerSecond', 'messagesPerSecond'];
/** CPU-cost fields of a row's per-server summaries. */
const CPU_KEYS = ['cpuMicrosPerRequest', 'cpuMicrosPerMessage'];

/**
 * The bars of every row of `results`, in row order within each section. Rows that were skipped
 * (`skipped`), carry no name, or have no ratio to draw give none; a row of an unknown shape
 * that has a numeric `ratio` gives one bar, so a new row shows up before the chart learns it.
 */
export function chartBars(results: BenchResults): ChartBar[] {
  const bars = results.results.filter(isRecord).flatMap(barsOfRow);
  return SECTIONS.flatMap((section) => bars.filter((bar) => bar.section === section));
}

function barsOfRow(row: Row): ChartBar[] {
  const workload = row['workload'];
  if (typeof workload !== 'string' || row['skipped'] !== undefined) return [];
  // A C server's row, `reference: h2o, small GET h2c c10 m10`: drawn under sluice's row name, as
  // its section and its "vs" column already say which server it is compared with.
  const reference = /^reference: ([^,]+), (.+)$/.exec(workload);
  const bars: ChartBar[] = [];
  const targets = recordAt(row, 'targets');
  const add = (
    section: ChartBar['section'],
    measure: string,
    against: string,
    ratio: number | null,
    isHigherBetter: boolean,
    target: number | null = null,
  ): void => {
    if (ratio !== null && Number.isFinite(ratio) && ratio >= 0)
      bars.push({ section, workload: reference?.[2] ?? workload, measure, against, ratio, isHigherBetter, target });
  };

  if (reference !== null) {
    const against = typeof row['against'] === 'string' ? row['against'] : reference[1];
    const [sluice, theirs] = [recordAt(row, 'sluice'), recordAt(row, 'reference')];
    // Each row says which figure it is judged on: CPU per request under load, req/s at c1 m1.
    if (row['compares'] === 'req/s') {
      const ratio = numberAt(row, 'ratio') ?? quotient(sluice, theirs, THROUGHPUT_KEYS);
      add(SECTIONS[1], 'req/s', against, ratio, true, numberAt(targets, 'ratio'));
    } else {
      const cpuRatio = numberAt(row, 'cpuRatio') ?? quotient(sluice, theirs, CPU_KEYS);
      add(SECTIONS[1], 'server CPU per request', against, cpuRatio, false, numberAt(targets, 'cpu'));
    }
    return bars;
  }

  const section = workload.startsWith('http1')
    ? SECTIONS[2]
    : workload.startsWith('websocket')
      ? SECTIONS[3]
      : SECTIONS[0];
  if (workload.startsWith('floor')) {
    add(section, 'req/s at c1 m1', 'canned-bytes floor', numberAt(row, 'sluiceRelativeToFloor'), true);
    return bars;
  }
  // The reference's summary sits under its own key: `node` (node:http2 or node:http), `ws`, `undici`.
  const counterpartKey = row['undici'] !== undefined ? 'undici' : section === SECTIONS[3] ? 'ws' : 'node';
  const against =
    counterpartKey === 'undici'
      ? "undici's Pool"
      : section === SECTIONS[3]
        ? 'ws'
        : section === SECTIONS[2]
          ? 'node:http'
          : workload.startsWith('client')
            ? "node:http2's client"
            : 'node:http2';
  const sluice = recordAt(row, 'sluice');
  const counterpart = recordAt(row, counterpartKey);
  const ratio = numberAt(row, 'ratio');

  if (/memory/.test(workload)) {
    const halfSecond = recordAt(row, 'halfSecondAfterSetup');
    if (halfSecond !== undefined) {
      // Judged with the servers settled; the figure half a second after setup beside it.
      add(section, 'RSS, V8 defaults, settled', against, ratio, false, numberAt(targets, 'ratio'));
      add(section, 'RSS, V8 defaults', against, numberAt(halfSecond, 'ratio'), false);
      return bars;
    }
    const defaults = recordAt(row, 'defaultFlags');
    const settled = recordAt(row, 'settled');
    const measure = defaults === undefined ? 'RSS per connection' : 'RSS, young generation pinned';
    add(section, measure, against, ratio, false, numberAt(targets, 'ratio'));
    add(
      section,
      'RSS, V8 defaults',
      against,
      numberAt(defaults, 'ratio'),
      false,
      numberAt(recordAt(defaults, 'targets'), 'ratio'),
    );
    add(
      section,
      'RSS, V8 defaults, settled',
      against,
      numberAt(settled, 'ratio'),
      false,
      numberAt(recordAt(settled, 'targets'), 'ratio'),
    );
    return bars;
  }
  if (/^allocations/.test(workload)) {
    add(section, 'bytes allocated', against, ratio, false, numberAt(targets, 'ratio'));
    return bars;
  }
  if (counterpartKey === 'undici') {
    const cpuRatio = numberAt(row, 'cpuRatio') ?? quotient(sluice, counterpart, CPU_KEYS);
    add(section, 'client CPU per request', against, cpuRatio, false, numberAt(targets, 'cpu'));
    return bars;
  }
  const metric = typeof row['metric'] === 'string' ? row['metric'] : 'throughput';
  add(
    section,
    metric,
    against,
    ratio ?? quotient(sluice, counterpart, THROUGHPUT_KEYS),
    true,
    numberAt(targets, 'ratio'),
  );
  const cpuRatio = numberAt(row, 'cpuRatio') ?? quotient(sluice, counterpart, CPU_KEYS);
  add(
    section,
    section === SECTIONS[3] ? 'server CPU per message' : 'server CPU per request',
    against,
    cpuRatio,
    false,
    numberAt(targets, 'cpu'),
  );
  const floor = recordAt(row, 'floor');
  if (floor !== undefined)
    add(section, `${metric} against the floor`, 'canned-bytes floor', quotient(sluice, floor, THROUGHPUT_KEYS), true);
  return bars;
}

/** Escapes text for an SVG text node or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `8.55×`, `0.80×`, `11.5×`: two decimals below 10, one above. */
export function formatRatio(ratio: number): string {
  return `${ratio < 10 ? ratio.toFixed(2) : ratio.toFixed(1)}×`;
}

/** Axis ticks: 1-2-5 steps per decade. The axis runs from the largest at or below the smallest ratio to the smallest at or above the largest. */
const TICKS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];

// Layout, in px. Text is monospace so that widths follow from character counts.
const FONT = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'Liberation Mono', monospace";
const FONT_SIZE = 12;
const CHAR_WIDTH = FONT_SIZE * 0.62;
const MARGIN = 16;
const ROW_HEIGHT = 22;
const BAR_HEIGHT = 14;
const SECTION_GAP = 30;
const BAR_AREA = 460;
/** Row names longer than this are cut with `…` in the label (the bar's tooltip has them whole). */
const MAX_WORKLOAD_CHARS = 34;
const GREEN = '#2e7d32';
const ORANGE = '#e07b00';
const RED = '#c62828';

function shortened(text: string): string {
  return [...text].length <= MAX_WORKLOAD_CHARS ? text : `${[...text].slice(0, MAX_WORKLOAD_CHARS - 1).join('')}…`;
}

/** `2026-12-06T04:31:23.849Z` → `2026-12-06 04:31 UTC`; anything else as it is. */
function formatDate(date: string): string {
  const match = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(date);
  return match === null ? date : `${match[1]} ${match[2]} UTC`;
}

/**
 * The chart of `results` as an SVG document: one horizontal bar per {@link ChartBar}, drawn
 * from the dashed 1× line (sluice the same as the reference) to the ratio on a logarithmic
 * scale, so that 4× more and 4× less are bars of one length; green when sluice is better than
 * the reference (more throughput, less CPU or memory), orange when worse. Each bar's target is
 * a black tick, and its value and target are written beside it (red when the target is
 * missed); the row, the measure (↑ higher is better, ↓ lower is better) and the reference are
 * written to its left, and its tooltip says it all in one sentence.
 */
export function renderChart(results: BenchResults): string {
  const bars = chartBars(results);
  const labels = bars.map((bar) => `${shortened(bar.workload)} · ${bar.measure} ${bar.isHigherBetter ? '↑' : '↓'}`);
  const references = bars.map((bar) => `vs ${bar.against}`);
  const targetTexts = bars.map((bar) =>
    bar.target === null ? '' : `target ${bar.isHigherBetter ? '≥' : '≤'} ${formatRatio(bar.target)}`,
  );
  const values = bars.map(
    (bar, i) => `${formatRatio(bar.ratio)}${targetTexts[i] === '' ? '' : ` (${targetTexts[i]})`}`,
  );
  const widest = (texts: readonly string[], least: number): number =>
    Math.ceil(Math.max(least, ...texts.map((text) => [...text].length)) * CHAR_WIDTH);
  const labelWidth = widest(labels, 30);
  const referenceWidth = widest(references, 12);
  const valueWidth = widest(values, 8);
  const barX = MARGIN + labelWidth + 10 + referenceWidth + 10;
  const width = Math.ceil(barX + BAR_AREA + 8 + valueWidth + MARGIN);

  const figures = bars.flatMap((bar) => (bar.target === null ? [bar.ratio] : [bar.ratio, bar.target]));
  const smallest = Math.min(0.5, ...figures);
  const largest = Math.max(2, ...figures);
  const axisMin = [...TICKS].reverse().find((tick) => tick <= smallest) ?? TICKS[0];
  const axisMax = TICKS.find((tick) => tick >= largest) ?? TICKS[TICKS.length - 1];
  const span = Math.log(axisMax / axisMin);
  // Ratios beyond the axis (below 0.01×, above 100×) are drawn at its end; their values say the rest.
  const x = (ratio: number): number =>
    barX + (Math.log(Math.min(axisMax, Math.max(axisMin, ratio)) / axisMin) / span) * BAR_AREA;
  const px = (value: number): string => String(Math.round(value * 10) / 10);
  const one = x(1);

  const title = `sluice ÷ the reference, per bench row${results.date !== undefined ? ` — ${formatDate(results.date)}` : ''}${results.quick === true ? ' (quick run)' : ''}${typeof results.only === 'string' ? ` (only rows matching "${results.only}")` : ''}`;
  const legend =
    '↑ higher is better, ↓ lower is better · green: sluice better than the reference, orange: worse · black tick: target';
  const head: string[] = [];
  let y = MARGIN + 14;
  head.push(`<text x="${MARGIN}" y="${y}" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  y += 18;
  head.push(`<text x="${MARGIN}" y="${y}" fill="#555">${escapeXml(legend)}</text>`);
  y += 22;
  head.push(
    `<text x="${px(one)}" y="${y}" text-anchor="middle" fill="#333">${escapeXml('1× = the same as the reference')}</text>`,
  );
  y += 4;
  const plotTop = y;

  const body: string[] = [];
  let section = '';
  bars.forEach((bar, index) => {
    if (bar.section !== section) {
      section = bar.section;
      y += SECTION_GAP - 10;
      body.push(`<text x="${MARGIN}" y="${y}" font-weight="bold">${escapeXml(section)}</text>`);
      y += 6;
    }
    const top = y + (ROW_HEIGHT - BAR_HEIGHT) / 2;
    const baseline = px(y + ROW_HEIGHT / 2 + FONT_SIZE / 3);
    const isBetter = bar.isHigherBetter ? bar.ratio >= 1 : bar.ratio <= 1;
    const meetsTarget = bar.target === null || (bar.isHigherBetter ? bar.ratio >= bar.target : bar.ratio <= bar.target);
    const end = x(bar.ratio);
    const tooltip =
      `${bar.workload}, ${bar.measure}: sluice ${formatRatio(bar.ratio)} ${bar.against}` +
      `${targetTexts[index] === '' ? '' : `, ${targetTexts[index]}`} (${bar.isHigherBetter ? 'higher' : 'lower'} is better)`;
    body.push(`<g><title>${escapeXml(tooltip)}</title>`);
    body.push(`<text x="${MARGIN + labelWidth}" y="${baseline}" text-anchor="end">${escapeXml(labels[index])}</text>`);
    body.push(
      `<text x="${MARGIN + labelWidth + 10}" y="${baseline}" fill="#555">${escapeXml(references[index])}</text>`,
    );
    body.push(
      `<rect class="bar" x="${px(Math.min(one, end))}" y="${px(top)}" width="${px(Math.abs(end - one))}" height="${BAR_HEIGHT}" fill="${isBetter ? GREEN : ORANGE}"/>`,
    );
    if (bar.target !== null) {
      body.push(
        `<rect class="target" x="${px(x(bar.target) - 1.5)}" y="${px(top - 3)}" width="3" height="${BAR_HEIGHT + 6}" fill="#111"/>`,
      );
    }
    const valueX = Math.max(one, end, bar.target === null ? one : x(bar.target)) + 8;
    body.push(
      `<text x="${px(valueX)}" y="${baseline}"${meetsTarget ? '' : ` fill="${RED}" font-weight="bold"`}>${escapeXml(values[index])}</text>`,
    );
    body.push('</g>');
    y += ROW_HEIGHT;
  });
  if (bars.length === 0) {
    y += ROW_HEIGHT;
    body.push(`<text x="${MARGIN}" y="${y}">no rows with a ratio in these results</text>`);
  }
  const plotBottom = y + 6;

  const axis: string[] = [];
  for (const tick of TICKS.filter((value) => value >= axisMin && value <= axisMax)) {
    const tickX = px(x(tick));
    axis.push(`<line x1="${tickX}" y1="${plotTop}" x2="${tickX}" y2="${px(plotBottom)}" stroke="#e6e6e6"/>`);
    axis.push(
      `<text x="${tickX}" y="${px(plotBottom + 14)}" text-anchor="middle" fill="#555">${escapeXml(`${tick}×`)}</text>`,
    );
  }
  axis.push(
    `<line class="reference" x1="${px(one)}" y1="${plotTop}" x2="${px(one)}" y2="${px(plotBottom)}" stroke="#333" stroke-dasharray="4 3"/>`,
  );
  const height = Math.ceil(plotBottom + 14 + MARGIN);

  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(FONT)}" font-size="${FONT_SIZE}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...head,
    ...axis,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Reads the bench results at `jsonPath`, checked enough to draw; throws with the reason otherwise. */
export function readBenchResults(jsonPath: string): BenchResults {
  const parsed: unknown = JSON.parse(readFileSync(jsonPath, 'utf8'));
  if (!isRecord(parsed) || !Array.isArray(parsed['results']))
    throw new Error(`${jsonPath}: not bench results (expected an object with a "results" array)`);
  return {
    results: parsed['results'] as unknown[],
    ...(typeof parsed['date'] === 'string' ? { date: parsed['date'] } : {}),
    ...(typeof parsed['quick'] === 'boolean' ? { quick: parsed['quick'] } : {}),
    ...(typeof parsed['only'] === 'string' ? { only: parsed['only'] } : {}),
  };
}

/** Draws the chart of the results at `jsonPath` into the same path with `.svg` for `.json`; returns that path. */
export function writeChartOf(jsonPath: string): string {
  const svgPath = jsonPath.endsWith('.json') ? `${jsonPath.slice(0, -'.json'.length)}.svg` : `${jsonPath}.svg`;
  writeFileSync(svgPath, renderChart(readBenchResults(jsonPath)));
  return svgPath;
}

// `node dist/bench/chart.js FILE.json`: redraw the chart of a results file already written.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const jsonPath = process.argv[2];
  if (jsonPath === undefined) {
    process.stderr.write('usage: node dist/bench/chart.js bench/results/latest.json\n');
    process.exitCode = 2;
  } else {
    try {
      process.stdout.write(`wrote ${writeChartOf(jsonPath)}\n`);
    } catch (error) {
      process.stderr.write(`chart: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  }
}
