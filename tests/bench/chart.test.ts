/**
 * The bench chart (`bench/chart.ts`): which bars a results file gives, and that the SVG is
 * well-formed XML with every row, bars to scale and escaped text.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chartBars, escapeXml, renderChart, writeChartOf, type BenchResults } from '../../bench/chart.js';

const summary = (median: number, cpuMicrosPerRequest: number) => ({
  median,
  min: median * 0.9,
  max: median * 1.1,
  cpuMicrosPerRequest,
  failed: 0,
});

/** A C reference server's row as `bench/references.ts` writes it: sluice's and the reference's summaries. */
const referenceRow = (
  against: string,
  load: string,
  compares: 'cpu' | 'req/s',
  [sluice, reference]: ReturnType<typeof summary>[],
  figures: Record<string, unknown>,
) => {
  const tls = load.includes('TLS') ? ['TLSv1.3, TLS_AES_128_GCM_SHA256, ECDH prime256v1 256 bits, h2'] : [];
  return {
    workload: `reference: ${against}, ${load}`,
    against,
    metric: 'req/s',
    compares,
    sluice: { ...sluice, tls },
    reference: { ...reference, tls },
    ...figures,
  };
};

/** One row of every shape `bench/run.ts`, `bench/http1.ts` and `bench/websocket.ts` write. */
const RESULTS: BenchResults = {
  date: '2026-12-06T04:31:23.849Z',
  quick: false,
  results: [
    {
      workload: 'small GET h2c c10 m10',
      metric: 'req/s',
      sluice: summary(544_781, 1.8),
      node: summary(63_694, 15.65),
      ratio: 8.55,
      targets: { ratio: 4 },
    },
    {
      workload: '1 MiB GET h2c c4 m4',
      metric: 'GB/s',
      sluice: summary(3.16e9, 120),
      node: summary(3.36e9, 110),
      ratio: 0.94,
      targets: { ratio: 1 },
    },
    {
      workload: 'allocations per request',
      sluice: { bytesPerRequest: 839, poolAllocationsPerRequest: 0 },
      node: { bytesPerRequest: 13_400, poolAllocationsPerRequest: null },
      ratio: 0.0626,
    },
    {
      workload: 'memory per idle connection',
      sluiceBytes: 6861,
      nodeBytes: 19_968,
      ratio: 0.34,
      targets: { ratio: 0.5 },
      defaultFlags: { sluiceBytes: 10_342, nodeBytes: 22_118, ratio: 0.47 },
      settled: { sluiceBytes: 8089, nodeBytes: 22_016, ratio: 0.37, targets: { ratio: 0.4 } },
    },
    {
      workload: 'client c10 m10 against nghttpd',
      metric: 'req/s',
      sluice: 277_241,
      node: 24_195,
      ratio: 11.46,
      targets: { ratio: 4 },
    },
    referenceRow('h2o', 'small GET h2c c10 m10', 'cpu', [summary(544_781, 1.8), summary(300_000, 2.25)], {
      ratio: 1.82,
      cpuRatio: 0.8,
      targets: { cpu: 1 },
      targetSource: 'issue 25',
    }),
    // No cpuRatio: the chart divides the two summaries' CPU per request.
    referenceRow('nghttpd', 'small GET TLS c10 m10', 'cpu', [summary(288_085, 3.05), summary(250_000, 4.4)], {
      ratio: 1.15,
      targets: { cpu: 1.43 },
      targetSource: 'issue 8',
    }),
    referenceRow('nghttpd', 'small GET h2c c1 m1', 'req/s', [summary(13_333, 38.5), summary(15_152, 28)], {
      ratio: 0.88,
      cpuRatio: 1.38,
    }),
    {
      workload: 'floor: canned-bytes Node responder c1 m1, in turn with both servers',
      floor: 14_706,
      sluice: 13_423,
      node: 9615,
      floorCpuMicrosPerRequest: 30,
      floorRelativeToNode: 1.53,
      sluiceRelativeToFloor: 0.91,
    },
    {
      workload: 'http1 c10 m1',
      metric: 'req/s',
      sluice: { median: 60_000, cpuMicrosPerRequest: 12, failed: 0 },
      node: { median: 30_000, cpuMicrosPerRequest: 30, failed: 0 },
      ratio: 2,
      cpuRatio: 0.4,
      targets: { ratio: 1.2, cpu: 0.8 },
      floor: { median: 80_000, cpuMicrosPerRequest: 8, failed: 0 },
      floorRatio: 2.67,
    },
    {
      workload: 'http1 idle memory',
      sluiceBytesPerConnection: 3000,
      nodeBytesPerConnection: 6000,
      ratio: 0.5,
      targets: { ratio: 0.6 },
      halfSecondAfterSetup: { sluiceBytesPerConnection: 4500, nodeBytesPerConnection: 6000, ratio: 0.75 },
    },
    {
      workload: 'http1 client vs undici',
      sluice: { requestsPerSecond: 57_162, cpuMicrosPerRequest: 17.32, nginxCoreShare: 0.57, failed: 0 },
      undici: { requestsPerSecond: 34_674, cpuMicrosPerRequest: 27.23, nginxCoreShare: 0.36, failed: 0 },
      cpuRatio: 0.636,
    },
    { workload: 'http1 client vs undici', skipped: 'nginx missing' },
    {
      workload: 'websocket echo 32 B',
      metric: 'msg/s',
      sluice: { messagesPerSecond: 400_000, cpuMicrosPerMessage: 2, failed: 0 },
      ws: { messagesPerSecond: 150_000, cpuMicrosPerMessage: 6, failed: 0 },
      ratio: 2.67,
      cpuRatio: 0.33,
      targets: { ratio: 2, cpu: 0.5 },
    },
    { workload: 'websocket idle memory', sluiceBytesPerConnection: 2000, wsBytesPerConnection: 5000, ratio: 0.4 },
  ],
};

/**
 * A small XML well-formedness check, enough for the chart's subset: one root element, tags
 * balanced and properly nested, attribute values quoted, no raw `<` or `&` outside markup and
 * entities. Returns the elements as name + attributes + text content, in document order.
 */
function parseXml(text: string): { name: string; attributes: Record<string, string>; text: string }[] {
  const elements: { name: string; attributes: Record<string, string>; text: string }[] = [];
  const open: { name: string; element: (typeof elements)[number] }[] = [];
  let rest = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  let roots = 0;
  const ENTITY = /^&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
  for (let guard = 0; rest.length > 0; guard++) {
    if (guard > 100_000) throw new Error('parser did not advance');
    if (rest.startsWith('</')) {
      const match = /^<\/([\w:-]+)\s*>/.exec(rest);
      if (match === null) throw new Error(`bad closing tag at ${rest.slice(0, 40)}`);
      const top = open.pop();
      if (top?.name !== match[1]) throw new Error(`</${match[1]}> closes <${top?.name}>`);
      rest = rest.slice(match[0].length);
    } else if (rest.startsWith('<')) {
      const match = /^<([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/.exec(rest);
      if (match === null) throw new Error(`bad opening tag at ${rest.slice(0, 60)}`);
      if (open.length === 0 && ++roots > 1) throw new Error('more than one root element');
      const attributes: Record<string, string> = {};
      for (const attribute of match[2].matchAll(/([\w:-]+)="([^"]*)"/g)) {
        if (attribute[1] in attributes) throw new Error(`attribute ${attribute[1]} repeated`);
        attributes[attribute[1]] = attribute[2];
      }
      const element = { name: match[1], attributes, text: '' };
      elements.push(element);
      if (match[3] !== '/') open.push({ name: match[1], element });
      rest = rest.slice(match[0].length);
    } else {
      const end = rest.indexOf('<');
      const chunk = end < 0 ? rest : rest.slice(0, end);
      for (let i = chunk.indexOf('&'); i >= 0; i = chunk.indexOf('&', i + 1)) {
        if (!ENTITY.test(chunk.slice(i))) throw new Error(`raw & in ${chunk}`);
      }
      if (open.length === 0 && chunk.trim() !== '') throw new Error(`text outside the root: ${chunk}`);
      for (const { element } of open) element.text += chunk;
      rest = end < 0 ? '' : rest.slice(end);
    }
  }
  if (open.length > 0) throw new Error(`unclosed <${open[open.length - 1].name}>`);
  if (roots !== 1) throw new Error('no root element');
  return elements;
}

const unescape = (text: string): string =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

describe('bench chart', () => {
  describe('chartBars', () => {
    const bars = chartBars(RESULTS);
    const find = (workload: string, measure: string) =>
      bars.find((bar) => bar.workload === workload && bar.measure === measure);

    it('gives HTTP/2 rows a throughput bar against node:http2 with its target', () => {
      expect(find('small GET h2c c10 m10', 'req/s')).to.deep.include({
        section: 'HTTP/2',
        against: 'node:http2',
        ratio: 8.55,
        isHigherBetter: true,
        target: 4,
      });
    });

    it('gives HTTP/2 rows a server CPU bar (lower is better) from the two servers CPU per request', () => {
      const bar = find('small GET h2c c10 m10', 'server CPU per request');
      expect(bar?.isHigherBetter).to.equal(false);
      expect(bar?.ratio).to.be.closeTo(1.8 / 15.65, 1e-9);
    });

    it('compares with h2o and nghttpd on the reference rows, drawn under the name of the sluice row, on the figure each row names', () => {
      const references = bars.filter((bar) => bar.section === 'HTTP/2 against the C servers');
      expect(references).to.have.length(3);
      expect(references[0]).to.deep.include({
        workload: 'small GET h2c c10 m10',
        measure: 'server CPU per request',
        against: 'h2o',
        ratio: 0.8,
        isHigherBetter: false,
        target: 1,
      });
      expect(references[1]).to.deep.include({ workload: 'small GET TLS c10 m10', against: 'nghttpd', target: 1.43 });
      expect(references[1].ratio).to.be.closeTo(3.05 / 4.4, 1e-9);
      expect(references[2]).to.deep.include({
        workload: 'small GET h2c c1 m1',
        measure: 'req/s',
        against: 'nghttpd',
        ratio: 0.88,
        isHigherBetter: true,
        target: null,
      });
    });

    it('compares HTTP/1.1 rows with node:http, WebSocket rows with ws and the HTTP/1.1 client with undici', () => {
      expect(find('http1 c10 m1', 'req/s')).to.deep.include({ section: 'HTTP/1.1', against: 'node:http', ratio: 2 });
      expect(find('http1 c10 m1', 'server CPU per request')).to.deep.include({ ratio: 0.4, target: 0.8 });
      expect(find('http1 c10 m1', 'req/s against the floor')?.ratio).to.equal(60_000 / 80_000);
      expect(find('http1 idle memory', 'RSS, V8 defaults, settled')).to.deep.include({
        against: 'node:http',
        ratio: 0.5,
        target: 0.6,
      });
      expect(find('http1 idle memory', 'RSS, V8 defaults')).to.deep.include({ ratio: 0.75, target: null });
      expect(find('http1 client vs undici', 'client CPU per request')).to.deep.include({
        against: "undici's Pool",
        ratio: 0.636,
        isHigherBetter: false,
      });
      expect(find('websocket echo 32 B', 'msg/s')).to.deep.include({ section: 'WebSocket', against: 'ws', target: 2 });
      expect(find('websocket echo 32 B', 'server CPU per message')?.target).to.equal(0.5);
      expect(find('websocket idle memory', 'RSS per connection')).to.deep.include({ against: 'ws' });
    });

    it('draws the three idle-memory figures, allocations, the client and the floor as costs or rates', () => {
      expect(find('memory per idle connection', 'RSS, V8 defaults')).to.deep.include({
        ratio: 0.47,
        target: null,
        isHigherBetter: false,
      });
      // The gate is judged with the servers settled.
      expect(find('memory per idle connection', 'RSS, V8 defaults, settled')).to.deep.include({
        ratio: 0.37,
        target: 0.4,
        isHigherBetter: false,
      });
      expect(find('allocations per request', 'bytes allocated')?.isHigherBetter).to.equal(false);
      expect(find('client c10 m10 against nghttpd', 'req/s')).to.deep.include({ against: "node:http2's client" });
      expect(
        find('floor: canned-bytes Node responder c1 m1, in turn with both servers', 'req/s at c1 m1'),
      ).to.deep.include({ against: 'canned-bytes floor', ratio: 0.91 });
    });

    it('skips skipped rows, keeps a row of an unknown shape that has a ratio, and groups sections in order', () => {
      const more = chartBars({ results: [...RESULTS.results, { workload: 'something new', ratio: 1.5 }, 42, null] });
      expect(more.filter((bar) => bar.workload === 'http1 client vs undici')).to.have.length(1);
      expect(more.find((bar) => bar.workload === 'something new')?.ratio).to.equal(1.5);
      const sections = more.map((bar) => bar.section);
      expect(sections.indexOf('HTTP/1.1')).to.be.greaterThan(sections.lastIndexOf('HTTP/2'));
      expect(sections.indexOf('WebSocket')).to.be.greaterThan(sections.lastIndexOf('HTTP/1.1'));
    });
  });

  describe('renderChart', () => {
    const svg = renderChart(RESULTS);
    const elements = parseXml(svg);

    it('is one well-formed SVG document', () => {
      expect(elements[0].name).to.equal('svg');
      expect(elements[0].attributes['xmlns']).to.equal('http://www.w3.org/2000/svg');
      expect(Number(elements[0].attributes['width'])).to.be.greaterThan(600);
      expect(() => parseXml('<svg><g></svg>')).to.throw(/closes/);
      expect(() => parseXml('<svg>a & b</svg>')).to.throw(/raw &/);
    });

    it('names every row that has a ratio (cut with … past 34 characters, whole in its tooltip), and its reference', () => {
      const texts = elements.filter((element) => element.name === 'text').map((element) => unescape(element.text));
      const titles = elements.filter((element) => element.name === 'title').map((element) => unescape(element.text));
      for (const row of RESULTS.results as { workload: string; skipped?: string }[]) {
        if (row.skipped !== undefined) continue;
        // A C server's row is drawn under sluice's row name (`reference: h2o, small GET …` → `small GET …`).
        const name = row.workload.replace(/^reference: [^,]+, /, '');
        const label = name.length <= 34 ? name : `${name.slice(0, 33)}…`;
        expect(
          texts.some((text) => text.startsWith(`${label} · `)),
          row.workload,
        ).to.equal(true);
        expect(
          titles.some((text) => text.startsWith(`${name}, `)),
          row.workload,
        ).to.equal(true);
      }
      for (const against of ['node:http2', 'h2o', 'nghttpd', 'node:http', 'ws', "undici's Pool"])
        expect(texts, against).to.include(`vs ${against}`);
    });

    it('draws one bar per ratio from the 1× line, its length proportional to the ratio on a log scale, with the target ticks', () => {
      const bars = elements.filter((element) => element.attributes['class'] === 'bar');
      const ratios = chartBars(RESULTS).map((bar) => bar.ratio);
      expect(bars).to.have.length(ratios.length);
      const one = Number(elements.find((element) => element.attributes['class'] === 'reference')?.attributes['x1']);
      // 8.55× (the first bar) sets the scale: px per factor e.
      const unit = Number(bars[0].attributes['width']) / Math.log(ratios[0]);
      bars.forEach((bar, i) => {
        const start = Number(bar.attributes['x']);
        const width = Number(bar.attributes['width']);
        expect(width, `bar ${i}`).to.be.closeTo(Math.abs(Math.log(ratios[i])) * unit, 0.15);
        // Above 1× a bar grows right from the line, below 1× it ends there.
        expect(ratios[i] >= 1 ? start : start + width, `bar ${i}`).to.be.closeTo(one, 0.15);
      });
      const targets = chartBars(RESULTS).filter((bar) => bar.target !== null);
      expect(elements.filter((element) => element.attributes['class'] === 'target')).to.have.length(targets.length);
    });

    it('colours a bar by whether sluice beats the reference, whichever way is better', () => {
      const fills = elements
        .filter((element) => element.attributes['class'] === 'bar')
        .map((bar) => bar.attributes['fill']);
      const bars = chartBars(RESULTS);
      const fillOf = (workload: string, measure: string) =>
        fills[bars.findIndex((bar) => bar.workload === workload && bar.measure === measure)];
      expect(fillOf('small GET h2c c10 m10', 'req/s')).to.equal('#2e7d32'); // 8.55×, more is better
      expect(fillOf('small GET h2c c10 m10', 'server CPU per request')).to.equal('#2e7d32'); // 0.12×, less is better
      expect(fillOf('1 MiB GET h2c c4 m4', 'GB/s')).to.equal('#e07b00'); // 0.94×
      expect(fillOf('1 MiB GET h2c c4 m4', 'server CPU per request')).to.equal('#e07b00'); // 120 / 110 µs
    });

    it('writes the value and target beside each bar, a missed target in red', () => {
      const values = elements.filter((element) => element.name === 'text').map((element) => element.text);
      expect(values).to.include('8.55× (target ≥ 4.00×)');
      expect(values).to.include('11.5× (target ≥ 4.00×)');
      const missed = elements.find((element) => element.text === '0.94× (target ≥ 1.00×)');
      expect(missed?.attributes['fill']).to.equal('#c62828');
      const met = elements.find((element) => element.text === '8.55× (target ≥ 4.00×)');
      expect(met?.attributes['fill']).to.equal(undefined);
    });

    it('escapes row names', () => {
      const hostile = renderChart({ results: [{ workload: 'a <b> & "c" \'d\'', ratio: 2 }] });
      const texts = parseXml(hostile).map((element) => unescape(element.text));
      expect(texts.some((text) => text.startsWith('a <b> & "c" \'d\' · '))).to.equal(true);
      expect(escapeXml('<&>"\'')).to.equal('&lt;&amp;&gt;&quot;&apos;');
    });

    it('titles the chart with the run: date, quick, only', () => {
      const title = (results: BenchResults) =>
        unescape(parseXml(renderChart(results)).find((element) => element.name === 'text')?.text ?? '');
      expect(title(RESULTS)).to.include('2026-12-06 04:31 UTC').and.not.include('quick');
      expect(title({ ...RESULTS, quick: true, only: 'TLS' }))
        .to.include('(quick run)')
        .and.include('"TLS"');
    });

    it('says so when there is nothing to draw', () => {
      const empty = parseXml(renderChart({ results: [] }));
      expect(empty.some((element) => element.text.includes('no rows'))).to.equal(true);
    });
  });

  it('writeChartOf draws latest.svg next to latest.json, and refuses a file that is not bench results', () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'sluice-chart-'));
    try {
      const json = path.join(folder, 'latest.json');
      writeFileSync(json, JSON.stringify(RESULTS));
      expect(writeChartOf(json)).to.equal(path.join(folder, 'latest.svg'));
      expect(readFileSync(path.join(folder, 'latest.svg'), 'utf8')).to.equal(renderChart(RESULTS));
      writeFileSync(json, '{"rows": []}');
      expect(() => writeChartOf(json)).to.throw(/not bench results/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
