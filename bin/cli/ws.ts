/**
 * `sluice ws`: a WebSocket client for the terminal and for scripts — stdin lines go out as text
 * messages, received messages come out on stdout, one per line.
 *
 * @module
 */
import readline from 'node:readline';
import {
  connectWebSocket,
  type WebSocket,
  type WebSocketCloseEvent,
  type WebSocketConnectOptions,
} from '../../handlers/websocket/index.js';
import { parseCommandLine, parseUrlArgument, splitHeaderLine } from './arguments.js';
import { describeError, ExitCode, failure, usageError } from './cli-errors.js';
import { clientTlsOptions, describeConnectError, readCertificateAuthorities } from './tls.js';

/** The help text of `sluice ws`. */
export const WS_HELP = `Usage: sluice ws URL [options]

Connects to a WebSocket server (ws:// or wss://), sends each line of stdin as a text message and
prints each message it receives on a line of stdout: a text message as it is, a binary message
in base64. At the end of stdin it closes the connection with code 1000 and exits once the server
answered the close.

Options:
  -H, --header 'NAME: VALUE'  add a header to the upgrade request (repeatable), e.g. Origin
      --protocol NAME         offer a subprotocol (repeatable, most preferred first)
      --no-compression        do not offer permessage-deflate
      --http2                 wss:// only: offer ALPN h2 and open the WebSocket with an HTTP/2
                              extended CONNECT (RFC 8441) when the server allows it, else
                              upgrade over HTTP/1.1
  -k, --insecure              do not verify the server's certificate (wss://)
      --cacert FILE           trust the CA certificates in FILE (PEM) besides Node's roots
  -h, --help                  show this help

Exit codes: 0 the connection closed cleanly with code 1000 (after stdin ended, or the server's),
1 a connection or handshake failure, another close code or an abnormal end, 2 usage.
`;

/** What `sluice ws` was asked to do, checked. */
export interface WsSettings {
  /** The parsed URL. */
  url: URL;
  /** Extra request header fields. */
  headers: Record<string, string[]>;
  /** Subprotocols to offer, most preferred first. */
  protocols: string[];
  /** Whether to offer permessage-deflate. */
  isCompressing: boolean;
  /** `--http2`: allow WebSocket over HTTP/2 (RFC 8441) for wss://. */
  isHttp2Allowed: boolean;
  /** Verify the server certificate (false with `-k`). */
  isVerifying: boolean;
  /** `--cacert FILE`, or null. */
  caFile: string | null;
}

/** Parses `ws`'s arguments; null when `--help` was asked for. Throws usage errors. */
export function parseWsArguments(args: string[]): WsSettings | null {
  const { values, positionals } = parseCommandLine({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      header: { type: 'string', short: 'H', multiple: true, default: [] },
      protocol: { type: 'string', multiple: true, default: [] },
      'no-compression': { type: 'boolean', default: false },
      http2: { type: 'boolean', default: false },
      insecure: { type: 'boolean', short: 'k', default: false },
      cacert: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const url = parseUrlArgument(positionals, ['ws', 'wss']);
  if (url.hash !== '' || url.href.endsWith('#')) {
    throw usageError(`invalid URL '${positionals[0]}': a WebSocket URL has no fragment`);
  }
  if (values.cacert === '') throw usageError('--cacert needs a file name');
  const headers: Record<string, string[]> = {};
  for (const line of values.header) {
    const [name, value] = splitHeaderLine(line);
    (headers[name] ??= []).push(value);
  }
  return {
    url,
    headers,
    protocols: values.protocol,
    isCompressing: !values['no-compression'],
    isHttp2Allowed: values.http2,
    isVerifying: !values.insecure,
    caFile: values.cacert ?? null,
  };
}

/** Runs `sluice ws`; resolves with the exit code once the connection is over. */
export async function runWs(args: string[]): Promise<ExitCode> {
  const settings = parseWsArguments(args);
  if (settings === null) {
    process.stdout.write(WS_HELP);
    return ExitCode.OK;
  }
  const ca = await readCertificateAuthorities(settings.caFile);
  const options: WebSocketConnectOptions = {
    headers: settings.headers,
    protocols: settings.protocols,
    perMessageDeflate: settings.isCompressing,
    http2: settings.isHttp2Allowed,
    tls: serverVerification(settings, ca),
  };
  let socket: WebSocket;
  try {
    socket = await connectWebSocket(settings.url, options);
  } catch (error) {
    // A refused option (a header the handshake writes itself, a subprotocol that is not a token)
    // is the command line's fault.
    const code = (error as { code?: unknown }).code;
    if (code === 'WEBSOCKET_INVALID_ARGUMENT') throw usageError(describeError(error));
    throw failure(`cannot connect to ${settings.url.host}: ${describeConnectError(error)}`, error);
  }
  const printed = printMessages(socket);
  void sendLines(socket);
  const event = await socket.closed;
  await printed;
  return outcome(event);
}

/** How `wss://` verifies the server, as `sluice get` does: Node's roots and `--cacert`, unless `-k`. */
function serverVerification(settings: WsSettings, ca: Buffer | null): WebSocketConnectOptions['tls'] {
  const hostname = settings.url.hostname;
  const { role: _role, ...verification } = clientTlsOptions({
    servername: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname,
    isVerifying: settings.isVerifying,
    ca,
  });
  return verification;
}

/** Writes each message on its own line: text as it is, binary in base64. */
async function printMessages(socket: WebSocket): Promise<void> {
  for await (const message of socket) {
    process.stdout.write(typeof message === 'string' ? `${message}\n` : `${Buffer.from(message).toString('base64')}\n`);
  }
}

/**
 * Sends stdin's lines as text messages, one at a time (each `send` resolves once written: stdin
 * is read no faster than the connection takes it), then closes with 1000 at stdin's end.
 */
async function sendLines(socket: WebSocket): Promise<void> {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (socket.readyState !== 'open') return;
      await socket.send(line);
    }
    if (socket.readyState === 'open') await socket.close(1000);
  } catch {
    // The connection ended while sending: `socket.closed` says how.
  } finally {
    lines.close();
  }
}

/** The exit code for how the connection ended; anything but a clean 1000 is reported on stderr. */
function outcome(event: WebSocketCloseEvent): ExitCode {
  if (event.wasClean && event.code === 1000) return ExitCode.OK;
  if (!event.wasClean) {
    const why = event.error === null ? 'the connection closed without a close frame' : describeError(event.error);
    throw failure(`the connection ended abnormally (${event.code}): ${why}`, event.error ?? undefined);
  }
  const reason = event.reason === '' ? '' : `: ${event.reason}`;
  throw failure(`the connection closed with code ${event.code}${reason}`);
}
