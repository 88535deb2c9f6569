/**
 * WebSocket protocol constants with their RFC 6455 names: opcodes (§5.2, §11.8), close codes
 * (§7.4.1, §11.7) and the rule for which close codes may appear on the wire.
 *
 * @module
 */

/** Opcode is the 4-bit frame type (RFC 6455 §5.2). */
export const Opcode = Object.freeze({
  /** 0x0: a continuation frame of a fragmented message. */
  CONTINUATION: 0x0,
  /** 0x1: a text frame (UTF-8). */
  TEXT: 0x1,
  /** 0x2: a binary frame. */
  BINARY: 0x2,
  /** 0x8: a connection close. */
  CLOSE: 0x8,
  /** 0x9: a ping. */
  PING: 0x9,
  /** 0xA: a pong. */
  PONG: 0xa,
});

/** The opcode of a data message: `Opcode.TEXT` (0x1) or `Opcode.BINARY` (0x2). */
export type DataOpcode = 0x1 | 0x2;

/** CloseCode names the close codes of RFC 6455 §7.4.1 and the IANA registry (§11.7). */
export const CloseCode = Object.freeze({
  /** 1000: normal closure. */
  NORMAL: 1000,
  /** 1001: going away (server shutting down, page left). */
  GOING_AWAY: 1001,
  /** 1002: protocol error. */
  PROTOCOL_ERROR: 1002,
  /** 1003: a data type the endpoint cannot accept. */
  UNSUPPORTED_DATA: 1003,
  /** 1005: no status code was present. Reported locally, never sent. */
  NO_STATUS_RECEIVED: 1005,
  /** 1006: the connection closed without a Close frame. Reported locally, never sent. */
  ABNORMAL_CLOSURE: 1006,
  /** 1007: data inconsistent with the message type (e.g. text that is not UTF-8). */
  INVALID_PAYLOAD: 1007,
  /** 1008: a message violates the endpoint's policy. */
  POLICY_VIOLATION: 1008,
  /** 1009: a message too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** 1010: the client expected an extension the server did not negotiate. */
  MANDATORY_EXTENSION: 1010,
  /** 1011: the server hit an unexpected condition. */
  INTERNAL_ERROR: 1011,
  /** 1012: service restart (IANA registry). */
  SERVICE_RESTART: 1012,
  /** 1013: try again later (IANA registry). */
  TRY_AGAIN_LATER: 1013,
  /** 1014: bad gateway (IANA registry). */
  BAD_GATEWAY: 1014,
  /** 1015: the TLS handshake failed. Reported locally, never sent. */
  TLS_HANDSHAKE: 1015,
});

/** The largest payload of a control frame (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD_LENGTH = 125;

/**
 * Whether `code` may appear in a Close frame (RFC 6455 §7.4.1, §7.4.2): the assigned codes
 * 1000–1003 and 1007–1014, and 3000–4999 (registered libraries and private use). Never 1004
 * (reserved), 1005, 1006, 1015 (local-only), other values under 3000, or 5000 and above.
 */
export function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** WebSocket's GUID, appended to the key before hashing (RFC 6455 §1.3, §4.2.2). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
