import { expect } from 'chai';
import diagnostics from 'node:diagnostics_channel';
import http2 from 'node:http2';
import {
  DiagnosticsChannelNames,
  EventLoopGroup,
  PluginErrors,
  PluginRegistry,
  ServerBootstrap,
  SluiceError,
  type Http2Headers,
  type Http2Stream,
  type Listener,
} from '../../../handlers/index.js';

function answer(stream: Http2Stream, headers: Http2Headers): void {
  stream.sendHeaders([':status', '200', 'x-path', headers[headers.indexOf(':path') + 1]]);
  stream.write(Buffer.from('by name'));
  stream.end();
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const request = session.request({ ':path': path });
    let body = '';
    let status = 0;
    request.on('response', (headers) => (status = Number(headers[':status'])));
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('protocol handlers as plugins', () => {
  const group = new EventLoopGroup();
  let listener: Listener | null = null;

  afterEach(async () => {
    await listener?.close();
    listener = null;
    expect(group.loops[0].messagePool.outstanding).to.equal(0);
  });

  it('serves HTTP/2 from a pipeline built by name, with the frame logger tapping the wire', async () => {
    const lines: string[] = [];
    const registry = new PluginRegistry();
    const pipeline = registry.pipeline([
      'socket',
      { name: 'frame-logger', options: { role: 'server', sink: (line: string) => lines.push(line) } },
      { name: 'http2-server', options: { onStream: answer, maxConcurrentStreams: 10 } },
    ]);
    listener = await new ServerBootstrap({ loopGroup: group }).listen({ host: '127.0.0.1', port: 0, pipeline });
    const response = await get(listener.port, '/named');
    expect(response).to.deep.equal({ status: 200, body: 'by name' });
    const joined = lines.join('\n');
    for (const frame of ['SETTINGS', 'HEADERS', 'DATA']) expect(joined).to.contain(frame);
    expect(lines.some((line) => /recv/.test(line))).to.equal(true);
    expect(lines.some((line) => /send/.test(line))).to.equal(true);
  });

  it('publishes connection, stream and frame events on diagnostics_channel for a live connection', async () => {
    const seen = new Map<string, number>();
    const subscriptions = Object.values(DiagnosticsChannelNames).map((name) => {
      const onMessage = (): void => void seen.set(name, (seen.get(name) ?? 0) + 1);
      diagnostics.subscribe(name, onMessage);
      return () => diagnostics.unsubscribe(name, onMessage);
    });
    try {
      const registry = new PluginRegistry();
      const pipeline = registry.pipeline([
        'socket',
        { name: 'diagnostics', options: { role: 'server' } },
        { name: 'http2-server', options: { onStream: answer } },
      ]);
      listener = await new ServerBootstrap({ loopGroup: group }).listen({ host: '127.0.0.1', port: 0, pipeline });
      expect((await get(listener.port, '/observed')).status).to.equal(200);
      await listener.close();
      listener = null;
      for (const name of Object.values(DiagnosticsChannelNames)) expect(seen.get(name) ?? 0, name).to.be.greaterThan(0);
    } finally {
      for (const unsubscribe of subscriptions) unsubscribe();
    }
  });

  it('refuses wrong HTTP/2 options when the pipeline is built, naming the plugin and option', () => {
    const registry = new PluginRegistry();
    const attempt = (): unknown =>
      registry.pipeline([{ name: 'http2-server', options: { maxConcurrentStreams: 'many' } }]);
    expect(attempt).to.throw(SluiceError).with.property('code', PluginErrors.INVALID_OPTIONS.code);
    expect(attempt).to.throw(/http2-server.*maxConcurrentStreams/);
    expect(() => registry.pipeline([{ name: 'http2-server', options: { maxConcurentStreams: 1 } }])).to.throw(
      /maxConcurentStreams/,
    );
  });
});
