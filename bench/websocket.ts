/**
 * The WebSocket rows of `npm run bench` (issue 21): a sluice WebSocket echo server against a `ws`
 * one, both driven by the same raw-socket client (`websocket-load.js`) with 50 connections and 10
 * messages in flight on each — 32-byte and 64 KiB binary messages — for messages/s and the
 * server's CPU per message; and the server's memory per idle WebSocket connection (RSS, V8
 * defaults, 2000 connections). Servers run pinned to core 0, the client to core 1; runs
 * alternate; medians are printed with the ratios and the issue's targets.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned, startServer, type RunningServer } from './bench-processes.js';
import type { BenchRowOptions } from './bench-processes.js';
import { idleMemoryOfServer } from './idle-memory.js';
import { cpuTicks, median, TICKS_PER_SECOND } from './h2load.js';

const here = dirname(fileURLToPath(import.meta.url));

/** How long and how often (see {@link BenchRowOptions}). */
export type WebSocketBenchOptions = BenchRowOptions;

type Row = Record<string, unknown>;
type ServerName = 'sluice' | 'ws';

const SCRIPTS: Readonly<Record<ServerName, string>> = { sluice: 'sluice-ws-server.js', ws: 'ws-echo-server.js' };
const CONNECTIONS = 50;
const IN_FLIGHT = 10;

interface EchoSample {
  readonly messagesPerSecond: number;
  readonly cpuMicrosPerMessage: number;
  readonly failed: number;
}

/** Runs every WebSocket row; returns their results for `bench/results/latest.json`. */
export async function measureWebSocket(options: WebSocketBenchOptions): Promise<Row[]> {
  const rows: Row[] = [];
  const wants = (name: string): boolean => options.only === undefined || name.includes(options.only);
  process.stdout.write(
    `\nWebSocket — sluice vs ws, echo, ${CONNECTIONS} connections × ${IN_FLIGHT} messages in flight\n`,
  );
  const shapes = [
    { name: 'websocket echo 32 B', size: 32, messages: options.isQuick ? 100_000 : 400_000 },
    { name: 'websocket echo 64 KiB', size: 65536, messages: options.isQuick ? 5_000 : 20_000 },
  ].filter((shape) => wants(shape.name));
  if (shapes.length > 0) rows.push(...(await measureEcho(options, shapes)));
  if (wants('websocket idle memory')) rows.push(await measureIdleMemory(options));
  return rows;
}

async function measureEcho(
  options: WebSocketBenchOptions,
  shapes: readonly { name: string; size: number; messages: number }[],
): Promise<Row[]> {
  const servers: Record<ServerName, RunningServer> = {
    sluice: await startServer(SCRIPTS.sluice, false),
    ws: await startServer(SCRIPTS.ws, false),
  };
  const rows: Row[] = [];
  try {
    for (const shape of shapes) {
      const samples: Record<ServerName, EchoSample[]> = { sluice: [], ws: [] };
      for (const name of ['sluice', 'ws'] as const)
        await runEcho(servers[name], shape.size, Math.max(1000, shape.messages / 10)); // warm-up
      for (let run = 0; run < options.repetitions; run++) {
        for (const name of run % 2 === 0 ? (['sluice', 'ws'] as const) : (['ws', 'sluice'] as const))
          samples[name].push(await runEcho(servers[name], shape.size, shape.messages));
      }
      const summary = (list: EchoSample[]) => ({
        messagesPerSecond: median(list.map((sample) => sample.messagesPerSecond)),
        cpuMicrosPerMessage: median(list.map((sample) => sample.cpuMicrosPerMessage)),
        failed: list.reduce((sum, sample) => sum + sample.failed, 0),
      });
      const sluice = summary(samples.sluice);
      const ws = summary(samples.ws);
      const ratio = sluice.messagesPerSecond / ws.messagesPerSecond;
      const cpuRatio = sluice.cpuMicrosPerMessage / ws.cpuMicrosPerMessage;
      const rate = (value: number): string => `${Math.round(value).toLocaleString('en-US')} msg/s`;
      process.stdout.write(
        `${shape.name.padEnd(26)} sluice ${rate(sluice.messagesPerSecond).padStart(14)} ${sluice.cpuMicrosPerMessage.toFixed(2)} µs/msg` +
          ` | ws ${rate(ws.messagesPerSecond).padStart(14)} ${ws.cpuMicrosPerMessage.toFixed(2)} µs/msg` +
          ` | ratio ${ratio.toFixed(2)}× (target ≥ 2×), CPU ${cpuRatio.toFixed(2)}× (target ≤ 0.5×)` +
          `${sluice.failed + ws.failed > 0 ? ` (failed: sluice ${sluice.failed}, ws ${ws.failed})` : ''}\n`,
      );
      rows.push({
        workload: shape.name,
        metric: 'msg/s',
        sluice,
        ws,
        ratio,
        cpuRatio,
        targets: { ratio: 2, cpu: 0.5 },
      });
    }
  } finally {
    for (const server of Object.values(servers)) server.child.kill('SIGTERM');
  }
  return rows;
}

/** One load run against `server`, charging the server's CPU to the messages echoed. */
async function runEcho(server: RunningServer, size: number, messages: number): Promise<EchoSample> {
  const [command, commandArgs] = pinned(1, process.execPath, [
    join(here, 'websocket-load.js'),
    String(server.port),
    '/',
    String(CONNECTIONS),
    String(IN_FLIGHT),
    String(messages),
    String(size),
  ]);
  const before = cpuTicks(server.pid);
  const output = await new Promise<string>((resolve, reject) => {
    const client = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    client.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    client.on('error', reject);
    client.on('exit', () => resolve(text));
  });
  const cpuSeconds = (cpuTicks(server.pid) - before) / TICKS_PER_SECOND;
  const result = JSON.parse(output) as { messages: number; seconds: number; failed: number };
  return {
    messagesPerSecond: result.messages / result.seconds,
    cpuMicrosPerMessage: (cpuSeconds * 1e6) / Math.max(1, result.messages),
    failed: result.failed + (messages - result.messages),
  };
}

/** Server RSS growth per idle WebSocket connection, fresh server per figure. */
async function measureIdleMemory(options: WebSocketBenchOptions): Promise<Row> {
  const count = 2000;
  // The floor: canned-http1-responder answering the upgrade with a 101 and holding the bare
  // net.Socket — what any Node server on net.Socket holds per idle WebSocket connection.
  const scripts = { ...SCRIPTS, floor: 'canned-http1-responder.js' };
  const figures: Record<ServerName | 'floor', number[]> = { sluice: [], ws: [], floor: [] };
  const rounds = options.isQuick ? 1 : 3;
  for (let round = 0; round < rounds; round++) {
    const order = (['sluice', 'ws', 'floor'] as const).map((_, i, all) => all[(round + i) % all.length]);
    for (const name of order)
      figures[name].push(
        await idleMemoryOfServer(scripts[name], count, [], 'idle-http1-connections.js', ['websocket']),
      );
  }
  const sluice = median(figures.sluice);
  const ws = median(figures.ws);
  const floor = median(figures.floor);
  const ratio = sluice / ws;
  process.stdout.write(
    `${'websocket idle memory'.padEnd(26)} sluice ${(sluice / 1024).toFixed(1)} KiB/conn | ws ${(ws / 1024).toFixed(1)} KiB/conn` +
      ` | ratio ${ratio.toFixed(2)}× (target ≤ 0.5×; RSS, ${count} connections, V8 defaults, median of ${rounds})` +
      ` | floor (a bare net.Socket answering the upgrade) ${(floor / 1024).toFixed(1)} KiB/conn = ${(floor / ws).toFixed(2)}× ws\n`,
  );
  return {
    workload: 'websocket idle memory',
    sluiceBytesPerConnection: sluice,
    wsBytesPerConnection: ws,
    floorBytesPerConnection: floor,
    floorRatio: floor / ws,
    ratio,
    targets: { ratio: 0.5 },
  };
}
