/**
 * Request parsers shared by a server's idle keep-alive connections.
 *
 * @module
 * @internal
 */
import { MessageParser, type MessageListener, type MessageParserOptions } from './message-parser.js';

/** What a waiting parser reports to: nobody (it parses nothing until it is taken). */
const NO_LISTENER: MessageListener = {
  onField() {},
  onHeadComplete() {},
  onBody() {},
  onTrailerField() {},
  onMessageComplete() {},
};

/**
 * IdleParserPool lends request parsers to server connections while they are busy and takes them
 * back once the connections have been idle a while (a second). An idle keep-alive connection then
 * holds no parser (≈ 0.5 KiB of heap with its head and framing scratch): a server holding
 * thousands of idle connections keeps a few parsers, not one each. Taking one back for the next
 * request costs an array pop, not the parser's construction.
 *
 * Parsers are pooled per options object, since their limits are read when they are made: every
 * connection of a listener shares its `parser` options (or none), so its connections share a pool.
 * At most {@link IdleParserPool.limit} parsers wait per options object; the rest are left to the GC.
 *
 * @internal
 */
export class IdleParserPool {
  /** Parsers kept waiting per options object, at most: ≈ 32 KiB of parsers at 0.5 KiB each. */
  static readonly limit = 64;
  /** Waiting parsers by the options object they were made with. */
  private static readonly byOptions = new WeakMap<MessageParserOptions, MessageParser[]>();
  /** Waiting parsers made without options (most servers'): no lookup on the per-request path. */
  private static readonly withDefaults: MessageParser[] = [];

  /** A request parser with `options`' limits reporting to `listener`: a waiting one, or a new one. */
  static take(listener: MessageListener, options: MessageParserOptions | undefined): MessageParser {
    const waiting = options === undefined ? IdleParserPool.withDefaults : IdleParserPool.byOptions.get(options);
    const parser = waiting?.pop();
    if (parser === undefined) return new MessageParser('request', listener, options);
    parser._rebind(listener);
    return parser;
  }

  /**
   * Takes back a parser its connection no longer uses; one that cannot serve another connection
   * (failed, stopped, inside a message) is dropped.
   */
  static give(parser: MessageParser, options: MessageParserOptions | undefined): void {
    if (!parser.isReusable) return;
    // Not the connection's any more: a waiting parser must not keep it alive.
    parser._rebind(NO_LISTENER);
    let waiting = options === undefined ? IdleParserPool.withDefaults : IdleParserPool.byOptions.get(options);
    if (waiting === undefined) IdleParserPool.byOptions.set(options!, (waiting = []));
    if (waiting.length < IdleParserPool.limit) waiting.push(parser);
  }
}
