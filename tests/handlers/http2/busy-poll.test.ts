import { expect } from 'chai';
import { EventLoopGroup, NodeEventLoop, listenHttp2, type Listener } from '../../../handlers/index.js';
import { until } from '../../support/waiting.js';
import { closeNode, connectNode, readNodeResponse } from './node-peer.js';

describe('NodeEventLoop busy poll, serving node:http2 over loopback', () => {
  it('serves one-at-a-time requests while the loop spins, then stops spinning once traffic ends', async () => {
    // A window long enough that the client has its answer before it closes, even on a busy machine.
    const group = new EventLoopGroup({ busyPollMicros: 20_000 });
    const loop = group.loops[0] as NodeEventLoop;
    let sawBusyPoll = false;
    const listener: Listener = await listenHttp2({
      host: '127.0.0.1',
      port: 0,
      loopGroup: group,
      http2: {
        onStream(stream) {
          stream.sendHeaders([':status', '200']);
          stream.write(Buffer.from('pong'));
          stream.end();
        },
      },
    });
    const client = await connectNode(`http://127.0.0.1:${listener.port}`);
    try {
      for (let i = 0; i < 50; i++) {
        const response = await readNodeResponse(client.request({ ':path': `/${i}` }));
        expect(response.headers[':status']).to.equal(200);
        expect(response.body.toString()).to.equal('pong');
        sawBusyPoll ||= loop.isBusyPolling;
      }
    } finally {
      await closeNode(client);
      await listener.close();
    }
    expect(sawBusyPoll, 'the loop spun after reads').to.equal(true);
    await until(() => !loop.isBusyPolling, 'the busy poll to end');
    await until(() => loop.messagePool.outstanding === 0, 'pooled messages to come back');
  });
});
