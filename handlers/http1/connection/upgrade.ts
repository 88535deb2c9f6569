/**
 * The upgrade seam of the HTTP/1.1 server (RFC 9110 §7.8): the protocols a connection may switch
 * to, the exchange through which one answers an upgrade request (101 Switching Protocols, or a
 * refusal), and the bytes read past the request, handed to the next protocol's handler.
 *
 * @module
 */
import { SluiceError, type ChannelSlot, type IoMessage } from '../../../lib/index.js';
import { Http1ConnectionErrors } from '../errors.js';
import type { Http1Fields } from '../wire/message-encoder.js';
import type { Http1ServerStream } from './server-stream.js';

/**
 * Http1Upgrade is one protocol an {@link Http1ServerConnection} can switch to when a request asks
 * for it with `Upgrade` (listed in `Connection`, HTTP/1.1 only: RFC 9110 §7.8). Give them in the
 * connection's `upgrades` option; `h2cUpgrade` and the server's WebSocket endpoint are two.
 */
export interface Http1Upgrade {
  /** The protocol's token in `Upgrade`, lower-case (`h2c`, `websocket`). */
  readonly protocol: string;
  /**
   * Whether this upgrade takes `request` — its head read and checked, its body not yet —
   * synchronously from inside the parser. A request taken never reaches `onRequest`: it is read
   * whole (a body is dropped), no later request is read, and `onUpgrade` answers it. Return false
   * to leave it an ordinary request for the application (a server may ignore Upgrade, RFC 9110
   * §7.8). Must not throw (a throw counts as false, and is reported).
   */
  takes(request: Http1ServerStream): boolean;
  /**
   * The request taken was read whole: answer it through `exchange`, now or later, with
   * `switchProtocols` or `refuse`. A throw before an answer refuses with 500.
   */
  onUpgrade(exchange: Http1UpgradeExchange): void;
}

/**
 * Puts the next protocol's handler in place of the HTTP/1.1 connection — `slot.replace(handler)`
 * — and returns the new slot. Called on the channel's loop once the 101 is written, with the bytes
 * read past the request (possibly none): the handler must take them as the first bytes of its
 * protocol. The connection then returns their read credit to the new slot.
 */
export type Http1UpgradeInstall = (slot: ChannelSlot, handedOverBytes: Uint8Array) => ChannelSlot;

/**
 * What an {@link Http1UpgradeExchange} needs from its connection; the server connection implements it.
 * @internal
 */
export interface Http1UpgradeHost {
  /** Queues the 101 and remembers `install`; false when the exchange is over. */
  _switchProtocols(exchange: Http1UpgradeExchange, fields: Http1Fields, install: Http1UpgradeInstall): boolean;
  /** Answers `status` with `Connection: close`; false when the exchange is over. */
  _refuseUpgrade(exchange: Http1UpgradeExchange, status: number, fields: Http1Fields, body: string): boolean;
}

/**
 * Http1UpgradeExchange is an upgrade request taken by an {@link Http1Upgrade}, and its one answer:
 * `switchProtocols` (101, then the next protocol) or `refuse` (a final response, then the
 * connection closes). It is answered in request order: responses to earlier pipelined requests go
 * first. Calls after the connection closed do nothing and return false.
 */
export class Http1UpgradeExchange {
  /** The upgrade request (read whole); its `handler` is not used. */
  readonly request: Http1ServerStream;
  /** The protocol token the request was taken for. */
  readonly protocol: string;
  private readonly host: Http1UpgradeHost;
  private hasAnswered = false;

  /** @internal Exchanges come from the connection. */
  constructor(host: Http1UpgradeHost, request: Http1ServerStream, protocol: string) {
    this.host = host;
    this.request = request;
    this.protocol = protocol;
  }

  /** True once the connection closed under the exchange (it may have been answered). */
  get isClosed(): boolean {
    return this.request.isClosed;
  }

  /** True once `switchProtocols` or `refuse` queued an answer. */
  get isAnswered(): boolean {
    return this.hasAnswered;
  }

  /**
   * Answers `101 Switching Protocols` with `fields` (the upgrade's own: `Connection: Upgrade`,
   * `Upgrade: …` and what its protocol adds); once the 101 is written — and every response before
   * it — `install` replaces the connection with the next protocol's handler. A connection closing
   * gracefully (`close()`) answers 503 instead: nothing switches while it drains. Returns false
   * when the connection already closed. Throws `HTTP1_INVALID_STATE` when already answered, the
   * encoder's field codes for a bad field (nothing queued).
   */
  switchProtocols(fields: Http1Fields, install: Http1UpgradeInstall): boolean {
    this.checkUnanswered();
    if (typeof install !== 'function') {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, 'install must be a function');
    }
    const isQueued = this.host._switchProtocols(this, fields, install);
    this.hasAnswered = true;
    return isQueued;
  }

  /**
   * Refuses the upgrade: `status` (400–599) with `fields`, a `text/plain` `body` and
   * `Connection: close` (no request follows an upgrade request). Returns false when the connection
   * already closed. Throws `HTTP1_INVALID_STATE` when already answered, `HTTP1_INVALID_ARGUMENT`
   * for another status, the encoder's field codes for a bad field (nothing queued).
   */
  refuse(status: number, fields: Http1Fields = [], body = ''): boolean {
    this.checkUnanswered();
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new SluiceError(Http1ConnectionErrors.INVALID_ARGUMENT, `${String(status)} is not a refusal (400-599)`);
    }
    const isQueued = this.host._refuseUpgrade(this, status, fields, String(body));
    this.hasAnswered = true;
    return isQueued;
  }

  private checkUnanswered(): void {
    if (this.hasAnswered) throw new SluiceError(Http1ConnectionErrors.INVALID_STATE, 'the upgrade was answered');
  }
}

/**
 * An upgrade request taken by one of a connection's upgrades, until its protocol switches or it
 * is refused.
 * @internal
 */
export class PendingUpgrade {
  /** The bytes read past the request. */
  readonly handover = new UpgradeHandover();
  /** Set by `switchProtocols`: puts the next protocol in the slot once the 101 is written. */
  install: Http1UpgradeInstall | null = null;
  /** The parser stopped after the request: what is read from now on is the next protocol's. */
  isHandingOver = false;
  /** The 101 is in the message being written: the protocol switches on its completion. */
  isSwitchWritten = false;

  /** The request `exchange` carries, taken by `upgrade`. */
  constructor(
    readonly upgrade: Http1Upgrade,
    readonly exchange: Http1UpgradeExchange,
  ) {}
}

/**
 * The head fields of a refusal with a text body of `bodyLength` bytes: the caller's fields less
 * any `Content-Length` (the body is the refusal's own), a `Content-Type` unless given, the length.
 * @internal
 */
export function refusalFields(fields: Http1Fields, bodyLength: number): string[] {
  const head: string[] = [];
  let hasType = false;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i].toLowerCase();
    if (name === 'content-type') hasType = true;
    if (name !== 'content-length') head.push(fields[i], fields[i + 1]);
  }
  if (bodyLength > 0 && !hasType) head.push('content-type', 'text/plain; charset=utf-8');
  head.push('content-length', String(bodyLength));
  return head;
}

/** The upgrades of a connection given none: shared, so such a connection holds no list of its own. */
const NO_UPGRADES: readonly Http1Upgrade[] = Object.freeze([]);

/**
 * Checks a connection's `upgrades` option: a list of objects with a lower-case `protocol` and the
 * two methods. Returns it as given (a server shares one list among its connections, so none holds
 * a copy). Throws `HTTP1_INVALID_ARGUMENT`.
 * @internal
 */
export function checkUpgrades(upgrades: readonly Http1Upgrade[] | undefined): readonly Http1Upgrade[] {
  if (upgrades === undefined) return NO_UPGRADES;
  const isUpgrade = (candidate: unknown): candidate is Http1Upgrade => {
    const upgrade = candidate as Partial<Http1Upgrade> | null;
    return (
      typeof upgrade === 'object' &&
      upgrade !== null &&
      typeof upgrade.protocol === 'string' &&
      upgrade.protocol !== '' &&
      upgrade.protocol === upgrade.protocol.toLowerCase() &&
      typeof upgrade.takes === 'function' &&
      typeof upgrade.onUpgrade === 'function'
    );
  };
  const list: unknown = upgrades;
  if (!Array.isArray(list) || !list.every(isUpgrade)) {
    throw new SluiceError(
      Http1ConnectionErrors.INVALID_ARGUMENT,
      'upgrades is a list of { protocol (lower-case token), takes, onUpgrade }',
    );
  }
  return upgrades;
}

/**
 * The first of `upgrades` that takes `request`, trying the protocols of its `Upgrade` field in
 * the client's order of preference (RFC 9110 §7.8), or null. A `takes` that throws counts as
 * false and goes to `onThrow`.
 * @internal
 */
export function chooseUpgrade(
  upgrades: readonly Http1Upgrade[],
  request: Http1ServerStream,
  onThrow: (thrown: unknown, upgrade: Http1Upgrade) => void,
): Http1Upgrade | null {
  const fields = request.headers;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i].toLowerCase() !== 'upgrade') continue;
    for (const item of fields[i + 1].split(',')) {
      const token = item.trim().toLowerCase();
      for (const upgrade of upgrades) {
        if (upgrade.protocol !== token) continue;
        try {
          if (upgrade.takes(request)) return upgrade;
        } catch (thrown) {
          onThrow(thrown, upgrade);
        }
      }
    }
  }
  return null;
}

/**
 * UpgradeHandover keeps the bytes read past an upgrade request — the read messages that hold
 * them, their read credit not returned — until the protocol switches (`take`) or the upgrade ends
 * otherwise (`release`). At most the connection's read window: the socket sends no more.
 * @internal
 */
export class UpgradeHandover {
  private readonly messages: IoMessage[] = [];
  /** Where the bytes of each message start. */
  private readonly offsets: number[] = [];
  private size = 0;

  /** Bytes held. */
  get byteCount(): number {
    return this.size;
  }

  /** Takes ownership of `message`, whose bytes from `from` on are the next protocol's. */
  hold(message: IoMessage, from: number): void {
    if (from >= message.length) {
      message.release();
      return;
    }
    this.messages.push(message);
    this.offsets.push(from);
    this.size += message.length - from;
  }

  /** The bytes held, copied in order (the messages are released). */
  take(): Uint8Array {
    const bytes = new Uint8Array(this.size);
    let at = 0;
    for (let i = 0; i < this.messages.length; i++) {
      const message = this.messages[i];
      bytes.set(message.data.subarray(this.offsets[i], message.length), at);
      at += message.length - this.offsets[i];
    }
    this.release();
    return bytes;
  }

  /** Releases what is held. */
  release(): void {
    for (const message of this.messages.splice(0)) message.release();
    this.offsets.length = 0;
    this.size = 0;
  }
}
