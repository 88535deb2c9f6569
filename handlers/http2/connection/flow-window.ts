/**
 * HTTP/2 flow-control windows (RFC 9113 §5.2, §6.9): what we may send, and what the peer may
 * send us with the credit we owe it.
 *
 * @module
 * @internal
 */
import { ErrorCode, MAX_WINDOW_SIZE } from '../wire/constants.js';
import { Http2ConnectionError } from '../errors.js';

/**
 * The fields of a window in the receive direction. The connection (stream 0) and each stream
 * keep them as their own fields, and the functions below work on either: window objects would
 * cost every request two allocations and every open stream and every connection their memory
 * (measured: 80 B per stream on top of the stream's own, and 96 B per idle connection, against
 * 32 B of fields).
 *
 * @internal
 */
export interface InboundWindowFields {
  /** Bytes the peer may still send: the window we advertised minus what arrived. */
  _inAvailable: number;
  /** Bytes consumed and not yet returned with WINDOW_UPDATE. */
  _inUnreturned: number;
  /** The window we keep advertising: credit is returned once a share of it is unreturned. */
  _inTarget: number;
}

/**
 * The field of a window in the send direction: bytes we may still send. A stream's may go
 * negative after a SETTINGS change (RFC 9113 §6.9.2).
 *
 * @internal
 */
export interface OutboundWindowFields {
  /** Bytes of DATA the peer lets us send. */
  _outAvailable: number;
}

/**
 * Counts `size` flow-controlled bytes that arrived; false (and nothing counted) when they exceed
 * the window — a FLOW_CONTROL_ERROR for the caller to raise at its scope (RFC 9113 §6.9.1).
 *
 * @internal
 */
export function consumeInbound(window: InboundWindowFields, size: number): boolean {
  if (size > window._inAvailable) return false;
  window._inAvailable -= size;
  return true;
}

/**
 * Returns `size` bytes of consumed credit. WINDOW_UPDATEs are batched: the credit is announced
 * once at least `ratio` of the target is unreturned. Returns the increment to announce now (the
 * window grows by it), or 0 while the credit waits for the batch.
 *
 * @internal
 */
export function returnInboundCredit(window: InboundWindowFields, size: number, ratio: number): number {
  const unreturned = window._inUnreturned + size;
  if (unreturned < window._inTarget * ratio) {
    window._inUnreturned = unreturned;
    return 0;
  }
  window._inUnreturned = 0;
  window._inAvailable += unreturned;
  return unreturned;
}

/**
 * Grows the window we advertise by `delta` (our SETTINGS_INITIAL_WINDOW_SIZE changed, RFC 9113
 * §6.9.2): the peer shifts the window by the same amount, which may take it below zero.
 *
 * @internal
 */
export function shiftInbound(window: InboundWindowFields, delta: number): void {
  window._inAvailable += delta;
  window._inTarget = Math.max(1, window._inTarget + delta);
}

/** Spends `size` bytes of the send window on DATA. @internal */
export function takeOutbound(window: OutboundWindowFields, size: number): void {
  window._outAvailable -= size;
}

/**
 * Adds `increment` (WINDOW_UPDATE, or an INITIAL_WINDOW_SIZE change) to the send window; false
 * (and nothing added) when that would take it above 2^31-1 — a FLOW_CONTROL_ERROR (RFC 9113
 * §6.9.1) for the caller to raise at its scope.
 *
 * @internal
 */
export function addOutbound(window: OutboundWindowFields, increment: number): boolean {
  if (window._outAvailable + increment > MAX_WINDOW_SIZE) return false;
  window._outAvailable += increment;
  return true;
}

/**
 * The connection-scope FLOW_CONTROL_ERROR for a send window that would pass 2^31-1.
 *
 * @internal
 */
export function connectionWindowOverflow(what: string): Http2ConnectionError {
  return new Http2ConnectionError(ErrorCode.FLOW_CONTROL_ERROR, `${what} above 2^31-1 (RFC 9113 §6.9.1)`);
}
