/**
 * The `ws` package's codec, as the interop tests drive it: its exported `Sender`, `Receiver`,
 * `PerMessageDeflate` and `extension` helpers, which `@types/ws` does not describe. Typed here
 * once, narrowly, for what the tests call.
 */
import { createRequire } from 'node:module';

/** What a `ws` Sender writes to: a socket-like sink. */
export interface WsSink {
  cork(): void;
  uncork(): void;
  write(data: Uint8Array | string, callback?: (error?: Error) => void): boolean;
}

/** `ws`'s Sender: frames messages onto a socket. */
export interface WsSender {
  send(
    data: Uint8Array | string,
    options: { binary?: boolean; compress?: boolean; fin?: boolean; mask?: boolean },
    callback?: (error?: Error) => void,
  ): void;
  ping(data: Uint8Array | string, mask: boolean, callback?: (error?: Error) => void): void;
  pong(data: Uint8Array | string, mask: boolean, callback?: (error?: Error) => void): void;
  close(code: number | undefined, reason: string | undefined, mask: boolean, callback?: (error?: Error) => void): void;
}

/** `ws`'s Receiver: a Writable that parses frames and emits what it read. */
export interface WsReceiver {
  write(chunk: Uint8Array): boolean;
  on(event: 'message', listener: (data: Buffer | Buffer[], isBinary: boolean) => void): this;
  on(event: 'ping' | 'pong', listener: (data: Buffer) => void): this;
  on(event: 'conclude', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (error: Error & { code?: string }) => void): this;
}

/** `ws`'s permessage-deflate extension object. */
export interface WsPerMessageDeflate {
  offer(): Record<string, unknown>;
  accept(configurations: Record<string, unknown>[]): Record<string, unknown>;
  cleanup(): void;
}

interface WsModule {
  Sender: new (sink: WsSink, extensions?: Record<string, unknown>, generateMask?: (mask: Buffer) => void) => WsSender;
  Receiver: new (options: {
    isServer?: boolean;
    maxPayload?: number;
    extensions?: Record<string, unknown>;
    binaryType?: string;
  }) => WsReceiver;
  PerMessageDeflate: new (options: {
    isServer?: boolean;
    maxPayload?: number;
    threshold?: number;
    serverNoContextTakeover?: boolean;
    clientNoContextTakeover?: boolean;
    serverMaxWindowBits?: number | boolean;
    clientMaxWindowBits?: number | boolean;
  }) => WsPerMessageDeflate;
  extension: {
    parse(header: string): Record<string, Record<string, unknown>[]>;
    format(extensions: Record<string, unknown>): string;
  };
}

/** The `ws` package, loaded once. */
export const ws = createRequire(import.meta.url)('ws') as WsModule;

/** A sink collecting what a Sender writes. */
export class CollectingSink implements WsSink {
  readonly chunks: Buffer[] = [];
  cork(): void {}
  uncork(): void {}
  write(data: Uint8Array | string, callback?: (error?: Error) => void): boolean {
    this.chunks.push(Buffer.from(data));
    if (callback !== undefined) process.nextTick(callback);
    return true;
  }
  /** Everything written so far, and forget it. */
  take(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    return all;
  }
}
