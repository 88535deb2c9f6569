/**
 * The payload of a SETTINGS frame (RFC 9113 §6.5) read on its own, and the `HTTP2-Settings`
 * field of an h2c upgrade request that carries one (RFC 7540 §3.2.1): the frame decoder and the
 * upgrade check the same rules through one function.
 *
 * @module
 */
import { ErrorCode, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE, SettingId } from './constants.js';

/** SETTINGS parameters are 6 bytes each: a 16-bit identifier and a 32-bit value (RFC 9113 §6.5.1). */
export const SETTING_ENTRY_LENGTH = 6;

/** Why a SETTINGS payload is not valid: the connection error code and what was found. */
export interface SettingsViolation {
  /** The RFC 9113 §7 error code of the connection error (PROTOCOL_ERROR, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR). */
  readonly errorCode: number;
  /** What was wrong. */
  readonly message: string;
}

/**
 * Reads the SETTINGS payload `bytes[start..end)` into `out` as flat `[id, value, …]` pairs (`out`
 * is emptied first), checking every value before reporting any, so a bad payload applies nothing
 * (RFC 9113 §6.5.2): ENABLE_PUSH above 1 (or 1 from a server, `isFromServer`), INITIAL_WINDOW_SIZE
 * above 2^31−1, MAX_FRAME_SIZE outside 2^14…2^24−1, the RFC 8441 and RFC 9218 flags above 1.
 * Unknown identifiers are skipped. Returns null, or the violation; allocates only for a violation.
 */
export function readSettingsPayload(
  bytes: Uint8Array,
  start: number,
  end: number,
  isFromServer: boolean,
  out: number[],
): SettingsViolation | null {
  out.length = 0;
  if ((end - start) % SETTING_ENTRY_LENGTH !== 0) {
    return {
      errorCode: ErrorCode.FRAME_SIZE_ERROR,
      message: `SETTINGS payload of ${end - start} bytes is not a multiple of 6`,
    };
  }
  for (let i = start; i < end; i += SETTING_ENTRY_LENGTH) {
    const id = (bytes[i] << 8) | bytes[i + 1];
    const value = ((bytes[i + 2] << 24) | (bytes[i + 3] << 16) | (bytes[i + 4] << 8) | bytes[i + 5]) >>> 0;
    switch (id) {
      case SettingId.ENABLE_PUSH:
        if (value > 1) return { errorCode: ErrorCode.PROTOCOL_ERROR, message: `SETTINGS_ENABLE_PUSH of ${value}` };
        // RFC 9113 §6.5.2: a server must not enable push toward the client.
        if (value === 1 && isFromServer)
          return { errorCode: ErrorCode.PROTOCOL_ERROR, message: 'a server sent SETTINGS_ENABLE_PUSH of 1' };
        break;
      case SettingId.INITIAL_WINDOW_SIZE:
        if (value > MAX_WINDOW_SIZE)
          return { errorCode: ErrorCode.FLOW_CONTROL_ERROR, message: `SETTINGS_INITIAL_WINDOW_SIZE of ${value}` };
        break;
      case SettingId.MAX_FRAME_SIZE:
        if (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE)
          return { errorCode: ErrorCode.PROTOCOL_ERROR, message: `SETTINGS_MAX_FRAME_SIZE of ${value}` };
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL: // RFC 8441 §3
      case SettingId.NO_RFC7540_PRIORITIES: // RFC 9218 §2.1
        if (value > 1)
          return { errorCode: ErrorCode.PROTOCOL_ERROR, message: `setting 0x${id.toString(16)} of ${value}` };
        break;
      case SettingId.HEADER_TABLE_SIZE:
      case SettingId.MAX_CONCURRENT_STREAMS:
      case SettingId.MAX_HEADER_LIST_SIZE:
        break;
      default:
        continue; // RFC 9113 §6.5.2: unknown settings are ignored.
    }
    out.push(id, value);
  }
  return null;
}

/** The value of each base64url character (RFC 4648 §5), -1 for any other byte. */
const BASE64URL_VALUES: Int8Array = (() => {
  const values = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

/**
 * Decodes an `HTTP2-Settings` field value (RFC 7540 §3.2.1: the SETTINGS payload in base64url,
 * RFC 4648 §5, trailing `=` omitted) strictly: only the base64url alphabet, no padding, no
 * whitespace, a length that is not 1 more than a multiple of 4, and zero bits where the last
 * character holds fewer than 6 — so exactly one string decodes to a given payload. Returns the
 * bytes, or null when the value is not such a string (an empty value included: token68 has at
 * least one character). The payload's settings are not checked here ({@link readSettingsPayload}).
 */
export function decodeHttp2SettingsField(value: string): Uint8Array | null {
  const length = value.length;
  if (length === 0 || length % 4 === 1) return null;
  const bytes = new Uint8Array(Math.floor((length * 6) / 8));
  let accumulator = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < length; i++) {
    const code = value.charCodeAt(i);
    const sextet = code < 128 ? BASE64URL_VALUES[code] : -1;
    if (sextet < 0) return null;
    accumulator = ((accumulator << 6) | sextet) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (accumulator >> bits) & 0xff;
    }
  }
  // The bits left over in the last character must be zero (RFC 4648 §3.5: canonical encoding).
  if ((accumulator & ((1 << bits) - 1)) !== 0) return null;
  return bytes;
}
