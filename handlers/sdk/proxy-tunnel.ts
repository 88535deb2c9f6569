/**
 * HTTP CONNECT tunnels (RFC 9110 §9.3.6) through an HTTP/1.1 proxy: a handler right of the
 * socket slot that opens the tunnel and then passes bytes through, so TLS and HTTP/2 run as
 * further slots of the same channel (socket → tunnel → TLS → HTTP/2).
 *
 * @module
 */
import {
  ChannelDirection,
  ClientBootstrap,
  SluiceError,
  Task,
  TaskStatus,
  asSluiceError,
  ChannelErrors,
  type ChannelHandler,
  type ChannelSlot,
  type EventLoopGroup,
  type IoMessage,
} from '../../lib/index.js';
import '../socket/index.js';
import { Http2ClientConnection, type Http2ClientTlsOptions, type Http2ConnectionOptions } from '../http2/index.js';
import { TlsErrors, TlsHandler } from '../tls/index.js';
import { SdkErrors } from './sdk-errors.js';
import { parseUrl } from '../../lib/url.js';
import { checkRequiredOptions } from '../../lib/argument-checks.js';

/** ProxyOptions says which HTTP proxy to tunnel through and how to authenticate. */
export interface ProxyOptions {
  /** The proxy's host name or address. */
  host: string;
  /** The proxy's port. */
  port: number;
  /** User for `Proxy-Authorization: Basic` (RFC 7617); no header when absent. */
  username?: string;
  /** Password for `Proxy-Authorization: Basic`. */
  password?: string;
}

/**
 * Parses a proxy URL such as `http://user:secret@proxy.internal:3128` (user and password
 * percent-decoded; port 80 by default). Throws `IO_INVALID_URL` for what is not a URL; only
 * `http:` proxies are supported: `SDK_INVALID_URL` otherwise.
 */
export function parseProxyUrl(url: string): ProxyOptions {
  const parsed = parseUrl(typeof url === 'string' && !url.includes('://') ? `http://${url}` : url, 'the proxy URL');
  if (parsed.protocol !== 'http:')
    throw new SluiceError(SdkErrors.INVALID_URL, `only http:// proxies are supported, not ${parsed.protocol}`);
  const proxy: ProxyOptions = {
    host: stripBrackets(parsed.hostname),
    port: parsed.port === '' ? 80 : Number(parsed.port),
  };
  if (parsed.username !== '') proxy.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') proxy.password = decodeURIComponent(parsed.password);
  return proxy;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * True when `NO_PROXY`-style `noProxy` (comma- or space-separated) exempts `host:port`: `*`
 * exempts everything; an entry matches the host itself or, as a domain, any subdomain
 * (`example.com` and `.example.com` both match `api.example.com`); an entry with `:port`
 * matches that port only.
 */
export function isProxyBypassed(host: string, port: number, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const name = host.toLowerCase();
  for (const raw of noProxy.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const portMatch = /^(.*):(\d+)$/.exec(entry);
    if (portMatch !== null && !entry.startsWith('[') && entry.split(':').length === 2) {
      if (Number(portMatch[2]) !== port) continue;
      entry = portMatch[1]!;
    }
    entry = stripBrackets(entry);
    if (entry.startsWith('*.')) entry = entry.slice(1);
    if (entry.startsWith('.')) {
      if (name.endsWith(entry) || name === entry.slice(1)) return true;
    } else if (name === entry || name.endsWith(`.${entry}`)) {
      return true;
    }
  }
  return false;
}

/**
 * The proxy the environment asks for when connecting to `host:port`: `HTTPS_PROXY` (or
 * `https_proxy`) for TLS origins, `HTTP_PROXY` (or `http_proxy`) for cleartext ones, unless
 * `NO_PROXY` (or `no_proxy`) exempts the host. Null when none applies.
 */
export function proxyFromEnvironment(
  host: string,
  port: number,
  isTls: boolean,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ProxyOptions | null {
  const url = isTls ? (env['HTTPS_PROXY'] ?? env['https_proxy']) : (env['HTTP_PROXY'] ?? env['http_proxy']);
  if (url === undefined || url === '') return null;
  if (isProxyBypassed(host, port, env['NO_PROXY'] ?? env['no_proxy'])) return null;
  return parseProxyUrl(url);
}

/** Options of an {@link HttpProxyTunnelHandler}. */
export interface HttpProxyTunnelOptions {
  /** The origin host to open the tunnel to (the CONNECT authority). */
  targetHost: string;
  /** The origin port. */
  targetPort: number;
  /** Proxy credentials (`username`/`password`); host and port are not used by the handler. */
  proxy?: Pick<ProxyOptions, 'username' | 'password'>;
  /**
   * Called once the proxy answered 2xx, with the tunnel's slot: install what runs over the
   * tunnel with `slot.insertRight(...)` (TLS, or HTTP/2 directly). Throwing shuts the channel
   * down with the error.
   */
  onEstablished: (slot: ChannelSlot) => void;
  /** Fail with `SDK_CONNECT_TIMEOUT` when the proxy has not answered within this many ms (loop clock); 0: never. */
  responseTimeoutMs?: number;
  /** The largest response head accepted from the proxy, bytes. */
  maxResponseHeadBytes?: number;
}

/** Defaults of {@link HttpProxyTunnelOptions}. */
export const HTTP_PROXY_TUNNEL_DEFAULTS = Object.freeze({
  /** The proxy must answer within 10 s. */
  responseTimeoutMs: 10_000,
  /** 16 KiB of response head. */
  maxResponseHeadBytes: 16 * 1024,
});

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * HttpProxyTunnelHandler opens an HTTP CONNECT tunnel. It sits right of the socket slot; once
 * installed it writes `CONNECT host:port HTTP/1.1` (with `Proxy-Authorization: Basic …` when
 * credentials are given) and reads the proxy's response head:
 *
 * - 2xx: the tunnel is open; `onEstablished(slot)` installs the next handlers to its right and
 *   from then on it passes messages both ways, keeping its read window equal to its right
 *   neighbour's (bytes that followed the head go right first);
 * - 407: the channel shuts down with `SDK_PROXY_AUTHENTICATION_FAILED`;
 * - any other status: `SDK_PROXY_CONNECT_FAILED` (the status is in the message);
 * - not HTTP/1.x, or a head above `maxResponseHeadBytes`: `SDK_PROXY_RESPONSE_INVALID`.
 *
 * @example
 * ```ts
 * channel.appendHandler(new HttpProxyTunnelHandler({
 *   targetHost: 'api.example.com', targetPort: 443, proxy: { username: 'u', password: 'p' },
 *   onEstablished: (slot) => slot.insertRight(new TlsHandler({ role: 'client', servername: 'api.example.com' })),
 * }));
 * ```
 */
export class HttpProxyTunnelHandler implements ChannelHandler {
  private slot: ChannelSlot | null = null;
  private head: Buffer = Buffer.alloc(0);
  private isEstablishedValue = false;
  private hasFailed = false;
  private status = 0;
  private readonly waiting: IoMessage[] = [];
  private readonly sendTask: Task;
  private readonly timeoutTask: Task;

  /** Creates a tunnel handler; the CONNECT goes out once it is installed. */
  constructor(private readonly options: HttpProxyTunnelOptions) {
    this.sendTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY) this.sendConnect();
    }, 'proxy-connect');
    this.timeoutTask = new Task((status) => {
      if (status === TaskStatus.RUN_READY && !this.isEstablishedValue) {
        this.fail(
          new SluiceError(
            SdkErrors.CONNECT_TIMEOUT,
            `the proxy did not answer CONNECT within ${this.responseTimeoutMs} ms`,
          ),
        );
      }
    }, 'proxy-connect-timeout');
  }

  /** True once the proxy answered 2xx. */
  get isEstablished(): boolean {
    return this.isEstablishedValue;
  }

  /** The status the proxy answered with (0 until it did). */
  get responseStatus(): number {
    return this.status;
  }

  private get responseTimeoutMs(): number {
    return this.options.responseTimeoutMs ?? HTTP_PROXY_TUNNEL_DEFAULTS.responseTimeoutMs;
  }

  /** Schedules the CONNECT request and the response timeout. */
  installed(slot: ChannelSlot): void {
    this.slot = slot;
    slot.channel.scheduleTaskNow(this.sendTask);
    if (this.responseTimeoutMs > 0) slot.channel.scheduleTaskAfter(this.timeoutTask, this.responseTimeoutMs);
  }

  /** Before the tunnel is open: collects the response head. After: passes the bytes right (or holds them for the window). */
  processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    if (this.isEstablishedValue) {
      this.waiting.push(message);
      this.deliver(slot);
      return;
    }
    if (this.hasFailed) {
      message.release();
      return;
    }
    const bytes = Buffer.from(message.bytes);
    message.release();
    this.head = this.head.length === 0 ? bytes : Buffer.concat([this.head, bytes]);
    const end = this.head.indexOf(HEAD_END);
    const limit = this.options.maxResponseHeadBytes ?? HTTP_PROXY_TUNNEL_DEFAULTS.maxResponseHeadBytes;
    if (end < 0) {
      if (this.head.length > limit)
        this.fail(
          new SluiceError(SdkErrors.PROXY_RESPONSE_INVALID, `the proxy's response head exceeds ${limit} bytes`),
        );
      else slot.incrementReadWindow(bytes.length);
      return;
    }
    const headLength = end + HEAD_END.length;
    // Only the head was consumed here; bytes after it belong to the tunnel and keep their window.
    slot.incrementReadWindow(Math.max(0, bytes.length - (this.head.length - headLength)));
    this.onResponseHead(slot, this.head.subarray(0, end).toString('latin1'), this.head.subarray(headLength));
    this.head = Buffer.alloc(0);
  }

  /** Passes writes toward the socket. */
  processWriteMessage(slot: ChannelSlot, message: IoMessage): void {
    slot.sendMessage(message, ChannelDirection.WRITE);
  }

  /** The right neighbour opened its window: deliver what waits, then propagate the increment left. */
  incrementReadWindow(slot: ChannelSlot, size: number): void {
    this.deliver(slot);
    slot.incrementReadWindow(size);
  }

  /** Completes at once (the tunnel holds nothing that needs flushing). */
  shutdown(slot: ChannelSlot, direction: ChannelDirection, error: SluiceError | null, free: boolean): void {
    if (direction === ChannelDirection.READ) slot.channel.cancelTask(this.timeoutTask);
    slot.onHandlerShutdownComplete(direction, error, free);
  }

  /** Enough for a proxy's response head; after the tunnel opens, the window follows the right neighbour's. */
  initialWindowSize(): number {
    return this.options.maxResponseHeadBytes ?? HTTP_PROXY_TUNNEL_DEFAULTS.maxResponseHeadBytes;
  }

  /** No overhead: a tunnel adds no bytes. */
  messageOverhead(): number {
    return 0;
  }

  /** Releases held messages. */
  destroy(): void {
    for (const message of this.waiting.splice(0)) message.release();
  }

  private sendConnect(): void {
    const slot = this.slot;
    if (slot === null || slot.channel.isShuttingDown) return;
    const authority = formatAuthority(this.options.targetHost, this.options.targetPort);
    let request = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
    const proxy = this.options.proxy;
    if (proxy?.username !== undefined) {
      const credentials = Buffer.from(`${proxy.username}:${proxy.password ?? ''}`, 'utf8').toString('base64');
      request += `Proxy-Authorization: Basic ${credentials}\r\n`;
    }
    request += '\r\n';
    const bytes = Buffer.from(request, 'latin1');
    const message = slot.acquireMessageForWrite(bytes.length);
    message.append(bytes);
    try {
      slot.sendMessage(message, ChannelDirection.WRITE);
    } catch (error) {
      message.release();
      this.fail(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
    }
  }

  private onResponseHead(slot: ChannelSlot, head: string, rest: Buffer): void {
    const statusLine = head.slice(0, head.indexOf('\r\n') < 0 ? head.length : head.indexOf('\r\n'));
    const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
    if (match === null) {
      this.fail(
        new SluiceError(
          SdkErrors.PROXY_RESPONSE_INVALID,
          `${SdkErrors.PROXY_RESPONSE_INVALID.message}: ${JSON.stringify(statusLine.slice(0, 80))}`,
        ),
      );
      return;
    }
    this.status = Number(match[1]);
    const reason = match[2] ?? '';
    if (this.status === 407) {
      this.fail(
        new SluiceError(
          SdkErrors.PROXY_AUTHENTICATION_FAILED,
          `${SdkErrors.PROXY_AUTHENTICATION_FAILED.message}: ${statusLine}`,
        ),
      );
      return;
    }
    if (this.status < 200 || this.status > 299) {
      this.fail(
        new SluiceError(
          SdkErrors.PROXY_CONNECT_FAILED,
          `${SdkErrors.PROXY_CONNECT_FAILED.message}: ${this.status} ${reason}`.trimEnd(),
        ),
      );
      return;
    }
    this.isEstablishedValue = true;
    slot.channel.cancelTask(this.timeoutTask);
    try {
      this.options.onEstablished(slot);
    } catch (error) {
      this.fail(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
      return;
    }
    if (rest.length > 0) {
      const message = slot.channel.messagePool.acquire(rest.length);
      message.append(rest);
      this.waiting.push(message);
    }
    this.deliver(slot);
    // From now on the socket may send us what the right neighbour accepts.
    const gap = slot.downstreamReadWindow() - slot.windowSize;
    if (gap > 0) slot.incrementReadWindow(gap);
  }

  private deliver(slot: ChannelSlot): void {
    if (slot.adjacentRight === null) return;
    while (this.waiting.length > 0) {
      const window = slot.downstreamReadWindow();
      if (window <= 0) return;
      const message = this.waiting[0];
      if (message.length > window) {
        // Split: send what fits now, keep the rest.
        const part = slot.channel.messagePool.acquire(window);
        part.append(message.data, 0, window);
        message.data.copy(message.data, 0, window, message.length);
        message.length -= window;
        this.sendRight(slot, part);
        continue;
      }
      this.waiting.shift();
      this.sendRight(slot, message);
    }
  }

  private sendRight(slot: ChannelSlot, message: IoMessage): void {
    try {
      slot.sendMessage(message, ChannelDirection.READ);
    } catch (error) {
      message.release();
      this.fail(asSluiceError(error, ChannelErrors.HANDLER_FAILED));
    }
  }

  private fail(error: SluiceError): void {
    if (this.hasFailed) return;
    this.hasFailed = true;
    this.slot?.channel.shutdown(error);
  }
}

function formatAuthority(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Options of {@link connectHttp2ViaProxy}. */
export interface ConnectViaProxyOptions {
  /** The proxy. */
  proxy: ProxyOptions;
  /** The origin host (CONNECT authority; TLS server name unless `tls.servername` says otherwise). */
  host: string;
  /** The origin port. */
  port: number;
  /** TLS to the origin inside the tunnel (ALPN "h2"); h2c with prior knowledge when absent. */
  tls?: Http2ClientTlsOptions;
  /** Options of the HTTP/2 connection. */
  http2?: Http2ConnectionOptions;
  /** Loops for the channel. */
  loopGroup?: EventLoopGroup;
  /** TCP connect timeout to the proxy (`IO_CONNECT_TIMEOUT`) and the wait for its answer (`SDK_CONNECT_TIMEOUT`), ms. */
  connectTimeoutMs?: number;
}

/**
 * Connects to `host:port` through an HTTP CONNECT proxy and resolves with the HTTP/2 client
 * connection once it is installed: one channel with socket → {@link HttpProxyTunnelHandler} →
 * {@link TlsHandler} (when `tls`) → {@link Http2ClientConnection}. Rejects with
 * `SDK_PROXY_AUTHENTICATION_FAILED`, `SDK_PROXY_CONNECT_FAILED` (also when the proxy closes
 * before answering), `SDK_CONNECT_TIMEOUT`, the socket's `IO_*` or TLS's `TLS_*` errors.
 */
export async function connectHttp2ViaProxy(options: ConnectViaProxyOptions): Promise<Http2ClientConnection> {
  checkRequiredOptions(options, 'connectHttp2ViaProxy(options)');
  checkRequiredOptions(options.proxy, 'connectHttp2ViaProxy(options.proxy)');
  const connection = new Http2ClientConnection(options.http2);
  let markInstalled!: () => void;
  const installed = new Promise<void>((resolve) => (markInstalled = resolve));
  const tunnel = new HttpProxyTunnelHandler({
    targetHost: options.host,
    targetPort: options.port,
    proxy: options.proxy,
    responseTimeoutMs: options.connectTimeoutMs ?? HTTP_PROXY_TUNNEL_DEFAULTS.responseTimeoutMs,
    onEstablished: (slot) => {
      const tls = options.tls;
      if (tls === undefined) {
        slot.insertRight(connection);
        markInstalled();
        return;
      }
      slot.insertRight(
        new TlsHandler({
          servername: options.host,
          ...tls,
          role: 'client',
          ALPNProtocols: ['h2'],
          onNegotiated: (tlsSlot, protocol) => {
            if (protocol !== 'h2') {
              throw new SluiceError(
                TlsErrors.ALPN_MISMATCH,
                `${TlsErrors.ALPN_MISMATCH.message}: the origin negotiated ${protocol ?? 'no protocol'}, not h2`,
              );
            }
            tlsSlot.insertRight(connection);
            markInstalled();
          },
        }),
      );
    },
  });
  const bootstrap = new ClientBootstrap(options.loopGroup === undefined ? {} : { loopGroup: options.loopGroup });
  const socketOptions = options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs };
  const channel = await bootstrap.connect({
    host: options.proxy.host,
    port: options.proxy.port,
    socketOptions,
    pipeline: (ready) => ready.appendHandler(tunnel),
  });
  const outcome = await Promise.race([installed.then(() => null), channel.whenShutdown]);
  if (outcome === null && !channel.isShuttingDown) return connection;
  const error = outcome ?? channel.shutdownError;
  if (!tunnel.isEstablished && (error === null || !error.code.startsWith('SDK_'))) {
    throw new SluiceError(
      SdkErrors.PROXY_CONNECT_FAILED,
      `${SdkErrors.PROXY_CONNECT_FAILED.message}: the proxy closed the connection before answering`,
      {
        cause: error,
      },
    );
  }
  throw error ?? new SluiceError(TlsErrors.CLOSED);
}
