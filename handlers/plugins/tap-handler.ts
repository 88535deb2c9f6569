/**
 * The old name of the pass-through base class.
 *
 * @module
 */
import { PassThroughHandler } from '../../lib/pass-through-handler.js';

/**
 * TapHandler is {@link PassThroughHandler} under its 0.1 name: extend `PassThroughHandler`
 * (from `sluice` or `sluice/runtime`) instead. It will be removed in a later minor version.
 *
 * @deprecated Since 0.2.0: extend {@link PassThroughHandler}, which has the same hooks and windows.
 */
export abstract class TapHandler extends PassThroughHandler {}
