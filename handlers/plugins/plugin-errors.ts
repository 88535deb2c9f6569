import { errorDefinition } from '../../lib/errors.js';
/**
 * The error table of the plugin area: registry, pipelines by name, and the shipped plugins.
 *
 * @module
 */

/**
 * PluginErrors is the error table of the plugin area; each code is `PLUGIN_<KEY>`.
 *
 * - `PLUGIN_UNKNOWN_PLUGIN`: a pipeline names a plugin the registry does not know.
 * - `PLUGIN_INVALID_OPTIONS`: an option has the wrong type or value, or is not an option of that plugin.
 * - `PLUGIN_MISSING_OPTION`: a required option was not given and has no default.
 * - `PLUGIN_DUPLICATE_NAME`: a plugin was registered under a name already taken.
 * - `PLUGIN_INVALID_PIPELINE`: the pipeline list itself is malformed (empty entry, `socket` not first, …).
 * - `PLUGIN_NOT_A_PLUGIN`: a class given to `register` carries no `@plugin` decorator.
 * - `PLUGIN_MISSING_METADATA`: a plugin class has constructor parameters whose types a container cannot know (no decorator metadata, no `@inject` token).
 * - `PLUGIN_FACTORY_FAILED`: building a plugin's handler for a connection threw; the connection is shut down.
 * - `PLUGIN_IDLE_TIMEOUT`: the idle-timeout plugin closed a connection that saw no traffic for its timeout.
 *
 * @example
 * ```ts
 * try {
 *   registry.pipeline(['no-such-plugin']);
 * } catch (error) {
 *   if (error instanceof SluiceError && error.code === PluginErrors.UNKNOWN_PLUGIN.code) console.error(error.message);
 * }
 * ```
 */
export const PluginErrors = Object.freeze({
  /** `PLUGIN_UNKNOWN_PLUGIN`: the pipeline names a plugin that is not registered. */
  UNKNOWN_PLUGIN: errorDefinition('PLUGIN_UNKNOWN_PLUGIN', 'the pipeline names a plugin that is not registered'),
  /** `PLUGIN_INVALID_OPTIONS`: a plugin option has the wrong type or value. */
  INVALID_OPTIONS: errorDefinition('PLUGIN_INVALID_OPTIONS', 'a plugin option has the wrong type or value'),
  /** `PLUGIN_MISSING_OPTION`: a required plugin option is missing. */
  MISSING_OPTION: errorDefinition('PLUGIN_MISSING_OPTION', 'a required plugin option is missing'),
  /** `PLUGIN_DUPLICATE_NAME`: a plugin with that name is already registered. */
  DUPLICATE_NAME: errorDefinition('PLUGIN_DUPLICATE_NAME', 'a plugin with that name is already registered'),
  /** `PLUGIN_INVALID_PIPELINE`: the pipeline description is malformed. */
  INVALID_PIPELINE: errorDefinition('PLUGIN_INVALID_PIPELINE', 'the pipeline description is malformed'),
  /** `PLUGIN_NOT_A_PLUGIN`: the class is not decorated with @plugin. */
  NOT_A_PLUGIN: errorDefinition('PLUGIN_NOT_A_PLUGIN', 'the class is not decorated with @plugin'),
  /** `PLUGIN_MISSING_METADATA`: constructor parameters without decorator metadata or an `@inject` token. */
  MISSING_METADATA: errorDefinition(
    'PLUGIN_MISSING_METADATA',
    'a plugin class has constructor parameters a container cannot resolve (no decorator metadata)',
  ),
  /** `PLUGIN_FACTORY_FAILED`: building a plugin's handler for a connection failed. */
  FACTORY_FAILED: errorDefinition('PLUGIN_FACTORY_FAILED', "building a plugin's handler for a connection failed"),
  /** `PLUGIN_IDLE_TIMEOUT`: the connection saw no reads or writes for its idle timeout. */
  IDLE_TIMEOUT: errorDefinition('PLUGIN_IDLE_TIMEOUT', 'the connection saw no reads or writes for its idle timeout'),
});
