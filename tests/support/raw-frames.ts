/**
 * HTTP/2 frames built byte by byte, for the frames the project's encoder refuses to build
 * (wrong lengths, reserved stream ids, unknown types, WINDOW_UPDATE 0…).
 *
 * @module
 */

/** The fixed frame header: length (24 bits), type, flags, stream id (31 bits), RFC 9113 §4.1. */
export const RAW_FRAME_HEADER_LENGTH = 9;

/**
 * One frame with any header fields: `type`, `flags` and `streamId` (written as a 32-bit value,
 * so the reserved bit can be set) exactly as given, the length field the payload's length.
 */
export function rawFrame(
  type: number,
  flags: number,
  streamId: number,
  payload: ArrayLike<number> = new Uint8Array(0),
): Buffer {
  const frame = Buffer.alloc(RAW_FRAME_HEADER_LENGTH + payload.length);
  frame.writeUIntBE(payload.length, 0, 3);
  frame[3] = type;
  frame[4] = flags;
  frame.writeUInt32BE(streamId >>> 0, 5);
  frame.set(payload, RAW_FRAME_HEADER_LENGTH);
  return frame;
}
