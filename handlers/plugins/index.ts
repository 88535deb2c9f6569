/**
 * Handler plugins: the registry that builds pipelines by name (on tsyringe), the shipped plugins
 * — idle timeout, rate limiter, HTTP/2 wire tap and frame logger, `diagnostics_channel`
 * publisher — and `TapHandler`, the deprecated name of the runtime's `PassThroughHandler` (the
 * base class of observing plugins).
 *
 * Importing this module loads `reflect-metadata` before tsyringe; import `inject` and
 * `Lifecycle` from here rather than from `tsyringe` so that order always holds.
 *
 * @module sluice/plugins
 */
export * from './plugin-errors.js';
export {
  CHANNEL_TOKEN,
  inject,
  Lifecycle,
  plugin,
  PLUGIN_OPTIONS_TOKEN,
  PluginRegistry,
  pluginNameOf,
  TRANSPORT_PLUGIN_NAME,
  type DependencyContainer,
  type FactoryPluginSpec,
  type OptionRule,
  type OptionsSchema,
  type OptionType,
  type Pipeline,
  type PipelineEntry,
  type PluginClass,
  type PluginFactory,
  type PluginRegistryOptions,
  type PluginSpec,
  type ResolvedPipelineEntry,
} from './registry.js';
export * from './tap-handler.js';
export * from './http2-wire-tap.js';
export * from './idle-timeout-handler.js';
export * from './rate-limiter-handler.js';
export * from './frame-logger-handler.js';
export * from './diagnostics-handler.js';
export * from './protocol-plugins.js';
