/**
 * The RFC 9218 priority signals of a connection's streams: the client's PRIORITY_UPDATE frames
 * (received by a server, sent by a client), updates for streams not yet open, and priorities the
 * application sets.
 *
 * @module
 * @internal
 */
import { Http2ConnectionError } from '../errors.js';
import { ErrorCode } from '../wire/constants.js';
import type { ClosedStreams } from './closed-streams.js';
import type { Http2Stream } from './http2-stream.js';
import {
  DEFAULT_RANK,
  EXPLICIT_PRIORITY,
  ONE_PRIORITY_UPDATE,
  PRIORITY_FIELD_INVALID,
  RANK_MASK,
  parsePriorityField,
  priorityFieldValue,
} from './priority.js';
import type { StreamLifecycle, StreamLifecycleHost } from './stream-lifecycle.js';

/**
 * PRIORITY_UPDATE frames a stream may receive while open without counting against the glitch
 * budget: a client reprioritizes a response a few times (a browser as images scroll into view),
 * not without end. One more is free once the stream closed, for the frame that crossed the end.
 */
export const FREE_PRIORITY_UPDATES_PER_STREAM = 4;

/**
 * The rank a request's `priority` field gives (RFC 9218 §4–5), its members absent taking their
 * part of `baseRank` (the defaults); `baseRank` when the field is absent or unparsable.
 *
 * @internal
 */
export function requestRank(fieldValue: string | null, baseRank: number = DEFAULT_RANK): number {
  if (fieldValue === null) return baseRank;
  const rank = parsePriorityField(fieldValue, baseRank);
  return rank === PRIORITY_FIELD_INVALID ? baseRank : rank;
}

/**
 * The default rank of a CONNECT request (a tunnel: RFC 8441 WebSocket, RFC 9113 §8.5):
 * incremental, so tunnels of one urgency share the connection rather than wait for each other to
 * end, which a tunnel may never do (RFC 9218 §9, and §10: servers avoid starvation). Its
 * `priority` field may still say `i=?0`.
 *
 * @internal
 */
export const TUNNEL_RANK = DEFAULT_RANK | 1;

/**
 * PrioritySignals handles one connection's priority signals beyond the request's field, made by
 * the first of them (most connections never see one):
 *
 * - a server applies each PRIORITY_UPDATE (RFC 9218 §7.1) to its stream; one for a stream the
 *   client has not opened yet is kept (the last per stream) and applied when the stream opens,
 *   and no more streams may be kept so than our SETTINGS_MAX_CONCURRENT_STREAMS leaves room for
 *   — beyond, a connection PROTOCOL_ERROR, as §7.1 says; one for a push stream (we never push)
 *   is a PROTOCOL_ERROR too; one for a closed stream is ignored. The first
 *   {@link FREE_PRIORITY_UPDATES_PER_STREAM} on an open stream, and one after it closed, are free;
 *   every other counts against the glitch budget (CVE-2019-9513-style floods);
 * - the application's priority changes: the scheduler's order on a server; on a client, the
 *   request's `priority` field while unsent, a PRIORITY_UPDATE frame after.
 *
 * @internal
 */
export class PrioritySignals {
  /** Ranks the client sent for streams it has not opened, by stream id. */
  private pending: Map<number, number> | null = null;

  /** The signals of the connection whose streams `lifecycle` keeps. */
  constructor(
    private readonly lifecycle: StreamLifecycle,
    private readonly host: StreamLifecycleHost,
    private readonly closedStreams: ClosedStreams,
  ) {}

  /** A PRIORITY_UPDATE for `streamId` carrying the field value `value[start..end)` (server). */
  onUpdate(streamId: number, value: Uint8Array, start: number, end: number): void {
    const lifecycle = this.lifecycle;
    if (!lifecycle.isPeerStreamId(streamId)) {
      // A server-initiated id is a push stream, and we never promise one: it is idle (§7.1).
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `PRIORITY_UPDATE for push stream ${streamId}, never promised (RFC 9218 §7.1)`,
      );
    }
    const stream = lifecycle.streams.get(streamId);
    if (stream !== undefined) {
      if (stream._priority >>> 5 < FREE_PRIORITY_UPDATES_PER_STREAM) stream._priority += ONE_PRIORITY_UPDATE;
      else lifecycle.countGlitch('PRIORITY_UPDATE');
      // An unparsable value may be ignored rather than be a connection error (§7): be liberal.
      const rank = parseFieldBytes(value, start, end);
      if (rank !== PRIORITY_FIELD_INVALID) this.host.outgoing.reprioritize(stream, rank);
      return;
    }
    if (!lifecycle.isIdleStream(streamId)) {
      // Closed: nothing left to schedule (§7.1 lets a server discard it).
      if (this.closedStreams.get(streamId) === undefined || !this.closedStreams.takePriorityUpdate(streamId))
        lifecycle.countGlitch('PRIORITY_UPDATE on a closed stream');
      return;
    }
    lifecycle.countGlitch('PRIORITY_UPDATE on an idle stream');
    if (streamId > this.host.goawaySentLastStreamId) return; // it will never be processed
    const pending = (this.pending ??= new Map());
    const maxStreams = this.host.options.maxConcurrentStreams;
    if (!pending.has(streamId) && pending.size + lifecycle.activePeerStreams >= maxStreams) this.dropOpened();
    if (!pending.has(streamId) && pending.size + lifecycle.activePeerStreams >= maxStreams) {
      throw new Http2ConnectionError(
        ErrorCode.PROTOCOL_ERROR,
        `PRIORITY_UPDATE for idle stream ${streamId}: more idle streams prioritized and streams open than ` +
          `SETTINGS_MAX_CONCURRENT_STREAMS ${maxStreams} (RFC 9218 §7.1)`,
      );
    }
    const rank = parseFieldBytes(value, start, end);
    if (rank !== PRIORITY_FIELD_INVALID) pending.set(streamId, rank);
  }

  /**
   * A peer stream opened (its rank from its `priority` field): a PRIORITY_UPDATE that came first
   * overrides it (§5, the most recent signal wins).
   */
  onPeerStreamOpened(stream: Http2Stream): void {
    const pending = this.pending;
    if (pending === null || pending.size === 0) return;
    const rank = pending.get(stream.id);
    if (rank !== undefined) stream._priority = (stream._priority & ~RANK_MASK) | rank;
    this.dropOpened();
  }

  /** Drops the updates of streams no longer idle: opened, refused, or closed by a higher id (RFC 9113 §5.1.1). */
  private dropOpened(): void {
    const lastPeerStreamId = this.lifecycle.lastPeerStreamId;
    for (const id of this.pending!.keys()) if (id <= lastPeerStreamId) this.pending!.delete(id);
  }

  /**
   * The application gives `stream` the priority of `rank`: it writes in that order from now on;
   * a client tells the server — in the request's HEADERS if they are not sent yet, else with
   * PRIORITY_UPDATE when the server announced SETTINGS_NO_RFC7540_PRIORITIES = 1 (§2.1.1: one
   * that did not is likely to ignore the frame).
   */
  setPriority(stream: Http2Stream, rank: number): void {
    const host = this.host;
    host.outgoing.reprioritize(stream, rank);
    if (host.role !== 'client') return;
    stream._priority |= EXPLICIT_PRIORITY;
    if (stream._areHeadersSent && host.peerSettings.noRfc7540Priorities)
      host.frames.priorityUpdate(stream.id, priorityFieldValue(rank));
  }

  /**
   * Our response carries a `priority` field (server): it overrides the client's parameters it
   * names and keeps the others (RFC 9218 §8).
   */
  onResponsePriority(stream: Http2Stream, fieldValue: string): void {
    const rank = parsePriorityField(fieldValue, stream._priority);
    if (rank !== PRIORITY_FIELD_INVALID) this.host.outgoing.reprioritize(stream, rank);
  }
}

/** The rank of a PRIORITY_UPDATE's field value, bytes as ASCII (RFC 9218 §7.1). */
function parseFieldBytes(value: Uint8Array, start: number, end: number): number {
  return parsePriorityField(Buffer.from(value.buffer, value.byteOffset + start, end - start).toString('latin1'));
}
