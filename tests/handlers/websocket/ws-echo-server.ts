/**
 * A `ws` package server on loopback for the client tests (connectWebSocket, the interop suite,
 * `sluice ws`): it echoes every message with its type, answers `fragments please` with one
 * message in three fragments (`fin: false` sends), and keeps each connection and its upgrade
 * request for the test to look at. Plus the message contents those tests send.
 *
 * @module
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import { WebSocketServer, type RawData, type ServerOptions, type WebSocket as WsPeer } from 'ws';

/** A running {@link wsEchoServer}. */
export interface WsEchoServer {
  readonly server: WebSocketServer;
  readonly port: number;
  /** The server side of each connection, in order. */
  readonly peers: WsPeer[];
  /** The upgrade request of each connection, in order. */
  readonly requests: IncomingMessage[];
  /** The last connection's server side. */
  lastPeer(): WsPeer;
  /** Terminates every connection and closes the server (not an `options.server` it was given). */
  close(): Promise<void>;
}

/** Echoes what `peer` receives (see the module comment). */
export function echoMessages(peer: WsPeer): void {
  peer.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = data as Buffer;
    if (!isBinary && bytes.toString() === 'fragments please') {
      peer.send('one', { fin: false });
      peer.send('two', { fin: false });
      peer.send('three', { fin: true });
      return;
    }
    peer.send(bytes, { binary: isBinary });
  });
}

/**
 * Starts the echo server on 127.0.0.1, port 0 — or on `options.server` (an `https` server
 * already listening) — with a 64 MiB `maxPayload` unless `options` says otherwise.
 */
export async function wsEchoServer(options: ServerOptions = {}): Promise<WsEchoServer> {
  const where = options.server === undefined && options.noServer !== true ? { host: '127.0.0.1', port: 0 } : {};
  const server = new WebSocketServer({ ...where, maxPayload: 2 ** 26, ...options });
  if (options.server === undefined) await once(server, 'listening');
  const peers: WsPeer[] = [];
  const requests: IncomingMessage[] = [];
  server.on('connection', (peer, request) => {
    peers.push(peer);
    requests.push(request);
    echoMessages(peer);
  });
  const address = (options.server?.address() ?? server.address()) as net.AddressInfo;
  return {
    server,
    port: address.port,
    peers,
    requests,
    lastPeer: () => {
      const peer = peers[peers.length - 1];
      if (peer === undefined) throw new Error('no connection reached the ws server');
      return peer;
    },
    close: async () => {
      for (const peer of server.clients) peer.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** `length` bytes of a pattern that depends on `seed`. */
export function bytePattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 131 + seed) & 0xff;
  return bytes;
}

/** A text of `length` UTF-16 units mixing 1- to 4-byte UTF-8 characters (never a lone surrogate). */
export function mixedText(length: number): string {
  const text = 'aé€😀'.repeat(Math.ceil(length / 5) + 1).slice(0, length);
  // A cut inside the emoji leaves its high surrogate, which UTF-8 cannot carry.
  return /[\uD800-\uDBFF]$/.test(text) ? `${text.slice(0, -1)}b` : text;
}
