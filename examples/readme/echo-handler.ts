/**
 * The README's "A handler in 20 lines", runnable: the snippet between the `README` markers is
 * the README's code block with two adjustments — the import comes from the source tree instead
 * of `'sluice'`, and the listener takes a free port (0) instead of 7000. After it, the program
 * sends one line through the echo handler over loopback, prints what came back and exits 0.
 * `tests/examples/readme.test.ts` checks the snippet still matches the README.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/examples/readme/echo-handler.js`
 *
 * @module
 */
import net from 'node:net';
// README: begin
import { ChannelDirection, ServerBootstrap, type ChannelHandler, type ChannelSlot, type IoMessage, type SluiceError } from '../../handlers/index.js';

/** Echoes every read back toward the socket. */
class EchoHandler implements ChannelHandler {
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const reply = slot.acquireMessageForWrite(message.length);
    reply.append(message.data, 0, message.length);
    message.release();                       // we own what we received: release it
    slot.sendMessage(reply, ChannelDirection.WRITE);
    slot.incrementReadWindow(reply.length);  // consumed: let the socket read more
  }
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void { slot.sendMessage(message, ChannelDirection.WRITE); }
  incrementReadWindow(): void {}
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    slot.onHandlerShutdownComplete(direction, error, free);
  }
  initialWindowSize(): number { return 64 * 1024; }
  messageOverhead(): number { return 0; }
}

const listener = await new ServerBootstrap().listen({ host: '127.0.0.1', port: 0, pipeline: (channel) => channel.appendHandler(new EchoHandler()) });
// README: end

const line = 'hello, echo handler\n';
const socket = net.connect({ host: '127.0.0.1', port: listener.port });
socket.setEncoding('utf8');
let echoed = '';
await new Promise<void>((resolve, reject) => {
  socket.on('error', reject);
  socket.on('data', (chunk: string) => {
    echoed += chunk;
    if (echoed.length >= line.length) resolve();
  });
  socket.write(line);
});
socket.end();
process.stdout.write(`echoed: ${echoed}`);
await listener.close();
