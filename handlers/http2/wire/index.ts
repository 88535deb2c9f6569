/**
 * The HTTP/2 wire codec, for tools that read or write frames themselves — wire taps, proxies
 * that inspect traffic, test peers — without a connection: the split-anywhere
 * {@link FrameDecoder} with its {@link FrameListener} callbacks, the allocation-free
 * {@link FrameEncoder} with the lengths of whole frames, and the RFC 9113 constants with their
 * names. HPACK is not part of it: header blocks come out as the bytes they are on the wire.
 *
 * The connection handler in `sluice/http2` uses this codec; a frame is checked here against
 * what RFC 9113 §4–§6 says of frames alone (lengths, flags, stream ids, CONTINUATION order,
 * padding, SETTINGS ranges), and against nothing a connection's state decides.
 *
 * @module sluice/http2/wire
 */
export {
  CONNECTION_PREFACE,
  ErrorCode,
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  INITIAL_CONNECTION_WINDOW_SIZE,
  MAX_MAX_FRAME_SIZE,
  MAX_STREAM_ID,
  MAX_WINDOW_SIZE,
  MIN_MAX_FRAME_SIZE,
  SETTINGS_DEFAULTS,
  SettingId,
  errorCodeName,
  frameFlagNames,
  frameTypeName,
} from './constants.js';
export {
  FRAME_DECODER_DEFAULTS,
  FrameDecoder,
  type FrameDecoderOptions,
  type FrameListener,
  type FramePriority,
} from './frame-decoder.js';
export {
  FrameEncoder,
  PING_FRAME_LENGTH,
  PRIORITY_FRAME_LENGTH,
  RST_STREAM_FRAME_LENGTH,
  SETTINGS_ACK_FRAME_LENGTH,
  WINDOW_UPDATE_FRAME_LENGTH,
  dataFrameLength,
  frameLength,
  goawayFrameLength,
  headerBlockFramesLength,
  headersFrameLength,
  priorityUpdateFrameLength,
  pushPromiseFrameLength,
  settingsFrameLength,
  type PriorityFields,
} from './frame-encoder.js';
