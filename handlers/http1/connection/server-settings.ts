/**
 * The checked figures of a server connection's options, shared by the connections given the same
 * options.
 *
 * @module
 * @internal
 */
import { checkMinDataRate, type MinDataRate } from '../../../lib/data-rate.js';
import { HTTP1_SERVER_DEFAULTS, numberOption, type Http1ServerConnectionOptions } from './connection-options.js';
import { checkUpgrades, type Http1Upgrade } from './upgrade.js';

/**
 * What an {@link Http1ServerConnection} and its deadlines read from their options, with the
 * defaults applied and every figure checked.
 * @internal
 */
export interface Http1ServerSettings {
  readonly idleTimeoutMs: number;
  readonly headerTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxPipelinedRequests: number;
  readonly readWindowSize: number;
  readonly maxDrainBodySize: number;
  readonly highWaterMark: number;
  readonly isManualWindow: boolean;
  readonly upgrades: readonly Http1Upgrade[];
  readonly responseRate: MinDataRate | null;
  readonly requestBodyRate: MinDataRate | null;
}

/** Settings by the options object they were read from. */
const settingsByOptions = new WeakMap<Http1ServerConnectionOptions, Http1ServerSettings>();

/**
 * The settings of `options`, read and checked once per options object: the connections of a
 * listener share its options, so each holds one reference instead of a field per option (a server
 * holds thousands of idle connections). Throws a RangeError for an option out of range — for
 * every connection given those options, as nothing is cached then.
 * @internal
 */
export function serverSettingsOf(options: Http1ServerConnectionOptions): Http1ServerSettings {
  let settings = settingsByOptions.get(options);
  if (settings !== undefined) return settings;
  const defaults = HTTP1_SERVER_DEFAULTS;
  settings = Object.freeze({
    idleTimeoutMs: numberOption('idleTimeoutMs', options.idleTimeoutMs, defaults.idleTimeoutMs, 0),
    headerTimeoutMs: numberOption('headerTimeoutMs', options.headerTimeoutMs, defaults.headerTimeoutMs, 0),
    handshakeTimeoutMs: numberOption('handshakeTimeoutMs', options.handshakeTimeoutMs, defaults.handshakeTimeoutMs, 0),
    maxPipelinedRequests: numberOption(
      'maxPipelinedRequests',
      options.maxPipelinedRequests,
      defaults.maxPipelinedRequests,
      1,
    ),
    readWindowSize: numberOption('readWindowSize', options.readWindowSize, defaults.readWindowSize, 1024),
    maxDrainBodySize: numberOption('maxDrainBodySize', options.maxDrainBodySize, defaults.maxDrainBodySize, 0),
    highWaterMark: numberOption('highWaterMark', options.highWaterMark, defaults.highWaterMark, 1),
    isManualWindow: options.isManualWindow === true,
    upgrades: checkUpgrades(options.upgrades),
    responseRate: rateOption('minResponseDataRate', options.minResponseDataRate, defaults.minResponseDataRate),
    requestBodyRate: rateOption(
      'minRequestBodyDataRate',
      options.minRequestBodyDataRate,
      defaults.minRequestBodyDataRate,
    ),
  });
  settingsByOptions.set(options, settings);
  return settings;
}

/** A rate option: the given rate (checked) or null, else the default. */
function rateOption(
  name: string,
  value: MinDataRate | null | undefined,
  fallback: MinDataRate | null,
): MinDataRate | null {
  if (value === undefined) return fallback;
  try {
    return checkMinDataRate(value, name);
  } catch (error) {
    throw new RangeError((error as Error).message, { cause: error });
  }
}
