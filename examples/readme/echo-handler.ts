/**
 * The README's "A handler in 20 lines", runnable: the snippet between the `README` markers is
 * the README's code block with two adjustments — the import comes from the source tree instead
 * of `'sluice'`, and the listener takes a free port (0) instead of 7000. After it, the program
 * sends one line through the echo handler over loopback, prints what came back and exits 0.
 * With `--non-reading-peer` it instead pushes {@link PUSHED_BYTES} from a client that never
 * reads, waits until the server stops reading, and prints one JSON line: what the client
 * pushed and what the server read (`tests/examples/readme.test.ts` bounds the latter).
 * `tests/examples/readme.test.ts` checks the snippet still matches the README.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/examples/readme/echo-handler.js`
 *
 * @module
 */
import net from 'node:net';
// README: begin
import { ChannelDirection, ServerBootstrap, type Channel, type ChannelHandler, type ChannelSlot, type IoMessage, type SluiceError } from '../../handlers/index.js';

/** Echoes every read back toward the socket, and reads more only as its echoes are written. */
class EchoHandler implements ChannelHandler {
  private slot: ChannelSlot | null = null;
  installed(slot: ChannelSlot): void { this.slot = slot; }
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    const reply = slot.acquireMessageForWrite(message.length);
    reply.append(message.data, 0, message.length);
    message.release();                       // we own what we received: release it
    reply.userData = reply.length;
    reply.onCompletion = this.onEchoWritten; // reopen the window once the echo is written, not queued
    slot.sendMessage(reply, ChannelDirection.WRITE);
  }
  private readonly onEchoWritten = (_channel: Channel, reply: IoMessage, error: SluiceError | null): void => {
    if (error === null) this.slot?.incrementReadWindow(reply.userData as number); // consumed: read more
  };
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

/** What the non-reading peer pushes: far more than any socket buffer holds. */
const PUSHED_BYTES = 64 * 1024 * 1024;
/** The server must have stopped reading for this many consecutive samples. */
const QUIET_SAMPLES = 5;
/** Sampling gives up after this many samples (bounded in time whatever happens). */
const MAX_SAMPLES = 200;

/** A client that writes {@link PUSHED_BYTES} and never reads; prints what the server read. */
async function pushWithoutReading(): Promise<void> {
  const serverSockets: net.Socket[] = [];
  listener.server.on('connection', (socket: net.Socket) => serverSockets.push(socket));
  const client = net.connect({ host: '127.0.0.1', port: listener.port });
  client.pause(); // never read the echoes
  await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let pushed = 0; pushed < PUSHED_BYTES; pushed += chunk.length) client.write(chunk);
  const serverRead = (): number => serverSockets.reduce((sum, socket) => sum + socket.bytesRead, 0);
  let last = -1;
  let quiet = 0;
  for (let sample = 0; sample < MAX_SAMPLES && quiet < QUIET_SAMPLES; sample++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const read = serverRead();
    quiet = read === last ? quiet + 1 : 0;
    last = read;
  }
  process.stdout.write(`${JSON.stringify({ pushed: PUSHED_BYTES, serverRead: serverRead(), arrayBuffers: process.memoryUsage().arrayBuffers })}\n`);
  client.destroy();
  await listener.close();
}

/** Sends one line and prints its echo. */
async function echoOneLine(): Promise<void> {
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
}

await (process.argv.includes('--non-reading-peer') ? pushWithoutReading() : echoOneLine());
