/**
 * Loopback servers for tests over real sockets: listen on 127.0.0.1 port 0 (the system picks a
 * free port, so nothing races for it) and close again.
 *
 * @module
 */
import net from 'node:net';

/**
 * Starts `server` (node:net, node:tls or node:http2: all are `net.Server`s) listening on
 * 127.0.0.1, port 0; resolves with the port it got, rejects with the listen error.
 */
export async function listenOnLoopback(server: net.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

/** Stops `server` accepting and resolves once every connection it accepted has closed (destroy them first). */
export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A node:net server on loopback that keeps its accepted sockets, from {@link netServerOnLoopback}. */
export interface LoopbackNetServer {
  readonly server: net.Server;
  readonly port: number;
  /** Accepted sockets still open. */
  readonly sockets: ReadonlySet<net.Socket>;
  /** Sockets accepted so far, closed ones included. */
  readonly acceptedCount: number;
  /** Destroys every open accepted socket and closes the listener. */
  close(): Promise<void>;
}

/**
 * A node:net server on 127.0.0.1, port 0, calling `onSocket` for each connection; socket errors
 * are ignored (the test looks at what the peer under test does), and `close()` cleans up.
 */
export async function netServerOnLoopback(
  onSocket: (socket: net.Socket) => void = () => undefined,
): Promise<LoopbackNetServer> {
  const sockets = new Set<net.Socket>();
  let acceptedCount = 0;
  const server = net.createServer((socket) => {
    acceptedCount++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  const port = await listenOnLoopback(server);
  return {
    server,
    port,
    sockets,
    get acceptedCount() {
      return acceptedCount;
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return closeServer(server);
    },
  };
}

/**
 * A loopback port that refuses connections, for tests of "connection refused": one the system
 * just gave a listener on port 0 and got back. Nothing else in a test run binds fixed ports, so
 * nothing takes it before the test dials it; it is not for starting servers on (use
 * {@link listenOnLoopback}).
 */
export async function refusingLoopbackPort(): Promise<number> {
  const server = net.createServer();
  const port = await listenOnLoopback(server);
  await closeServer(server);
  return port;
}
