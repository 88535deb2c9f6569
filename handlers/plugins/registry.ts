/**
 * The plugin registry: handlers registered under names, and pipelines built from lists of
 * names with options.
 *
 * `reflect-metadata` is imported first, before tsyringe: tsyringe refuses to load without a
 * `Reflect.getMetadata` polyfill, and ES modules evaluate their imports in order.
 *
 * Nothing here touches tsyringe's global root container. Each {@link PluginRegistry} owns a
 * child container; each connection gets a child of that. Registrations made at import time into
 * the root container (`@singleton()`, `@registry()`, `container.register` in a module body)
 * would be shared by every registry and every test in the process — see `docs/plugins.md`.
 *
 * @module
 */
import 'reflect-metadata';
import {
  container as rootContainer,
  inject,
  injectable,
  Lifecycle,
  type DependencyContainer,
  type InjectionToken,
} from 'tsyringe';
import {
  asSluiceError,
  Channel,
  log,
  LogLevel,
  SluiceError,
  type ChannelHandler,
  type ChannelSlot,
} from '../../lib/index.js';
import { DIAGNOSTICS_PLUGIN, DIAGNOSTICS_PLUGIN_NAME } from './diagnostics-handler.js';
import {
  HTTP2_CLIENT_PLUGIN,
  HTTP2_CLIENT_PLUGIN_NAME,
  HTTP2_SERVER_PLUGIN,
  HTTP2_SERVER_PLUGIN_NAME,
  TLS_PLUGIN,
  TLS_PLUGIN_NAME,
} from './protocol-plugins.js';
import { FRAME_LOGGER_PLUGIN, FRAME_LOGGER_PLUGIN_NAME } from './frame-logger-handler.js';
import { IDLE_TIMEOUT_PLUGIN, IDLE_TIMEOUT_PLUGIN_NAME } from './idle-timeout-handler.js';
import { PluginErrors } from './plugin-errors.js';
import { checkOptionalOptions } from '../../lib/argument-checks.js';
import { RATE_LIMITER_PLUGIN, RATE_LIMITER_PLUGIN_NAME } from './rate-limiter-handler.js';

export { inject, Lifecycle, type DependencyContainer };

/**
 * CHANNEL_TOKEN is the injection token of the connection's {@link Channel} in a per-connection
 * container. The channel is also registered under the `Channel` class itself, so a constructor
 * parameter typed `Channel` (imported as a value, not with `import type`) is injected without
 * `@inject`.
 */
export const CHANNEL_TOKEN: unique symbol = Symbol('sluice:channel');

/**
 * PLUGIN_OPTIONS_TOKEN is the injection token of the validated, frozen options of the plugin
 * being built: `constructor(@inject(PLUGIN_OPTIONS_TOKEN) options: MyOptions)`.
 */
export const PLUGIN_OPTIONS_TOKEN: unique symbol = Symbol('sluice:plugin-options');

/** The name that stands for the bootstrap's transport (the socket slot); accepted only first in a pipeline. */
export const TRANSPORT_PLUGIN_NAME = 'socket';

/** The JavaScript type an option must have; `integer` is a number with no fraction. */
export type OptionType = 'number' | 'integer' | 'string' | 'boolean' | 'function' | 'object' | 'array';

/**
 * OptionRule says what one option of a plugin accepts. Checked when a pipeline is built, so a
 * bad configuration fails before any connection is made.
 */
export interface OptionRule<V = unknown> {
  /** The type the value must have. */
  readonly type: OptionType;
  /** The option must be given (or have a default). */
  readonly required?: boolean;
  /** Smallest allowed value (numbers). */
  readonly min?: number;
  /** Largest allowed value (numbers). */
  readonly max?: number;
  /** The only allowed values. */
  readonly oneOf?: readonly V[];
  /** A further check; returns what is wrong, or undefined when the value is fine. */
  readonly check?: (value: V) => string | undefined;
}

/**
 * OptionsSchema is a plugin's option rules, one per option of its options type `O`. Options a
 * pipeline gives that the schema does not list are rejected as unknown (usually a typo).
 */
export type OptionsSchema<O> = { readonly [K in keyof O]-?: OptionRule<NonNullable<O[K]>> };

/** PluginSpec is what a plugin declares about its options: defaults and the rules they must follow. */
export interface PluginSpec<O extends object> {
  /** Values used for options a pipeline entry does not give. */
  readonly defaults?: Readonly<Partial<O>>;
  /** Rules for each option; without it options are passed on unchecked. */
  readonly validate?: OptionsSchema<O>;
}

/**
 * PluginFactory builds one handler for one connection from the plugin's validated options.
 * `container` is the connection's container: resolve per-connection services from it (the
 * channel is {@link CHANNEL_TOKEN}).
 */
export type PluginFactory<O extends object> = (options: Readonly<O>, container: DependencyContainer) => ChannelHandler;

/** FactoryPluginSpec is the function form of a registration: a factory plus its options spec. */
export interface FactoryPluginSpec<O extends object> extends PluginSpec<O> {
  /** Builds the handler for a connection. */
  readonly factory: PluginFactory<O>;
}

/** PluginClass is a handler class a container can construct (its parameters are injected). */
export type PluginClass<H extends ChannelHandler = ChannelHandler> = new (...args: never[]) => H;

/** PipelineEntry names one plugin of a pipeline, with options or without. */
export type PipelineEntry =
  | string
  | {
      /** The plugin's registered name. */
      readonly name: string;
      /** The plugin's options; defaults fill in what is not given. */
      readonly options?: Readonly<Record<string, unknown>>;
    };

/** ResolvedPipelineEntry is a pipeline entry after validation: its plugin's name and complete, frozen options. */
export interface ResolvedPipelineEntry {
  /** The plugin's name. */
  readonly name: string;
  /** Defaults merged with the given options, validated and frozen. */
  readonly options: Readonly<Record<string, unknown>>;
}

/**
 * Pipeline installs a validated list of plugins into channels. Call it as a function — the
 * shape bootstraps take as `pipeline` — to append the handlers to a channel; or use `install`
 * to put them after a given slot (e.g. right of a `TestingChannel`'s socket end).
 *
 * A plugin that fails to build for a connection does not throw: the channel is shut down with
 * `PLUGIN_FACTORY_FAILED` (the bootstrap calls the pipeline from a loop task, where a throw would
 * have nowhere to go).
 */
export interface Pipeline {
  /** Appends the pipeline's handlers to `channel`, each in a new last slot. */
  (channel: Channel): void;
  /** The validated entries, left to right, without the transport. */
  readonly entries: readonly ResolvedPipelineEntry[];
  /**
   * Builds the handlers for `channel` in a fresh connection container and inserts them, in
   * order, right of `after` (appended at the end when null). Returns their slots.
   */
  install(channel: Channel, after?: ChannelSlot | null): ChannelSlot[];
}

/** Options of a {@link PluginRegistry}. */
export interface PluginRegistryOptions {
  /**
   * The container the registry's own container is a child of; tsyringe's root by default.
   * Services registered there are visible to plugins, but `ContainerScoped` ones there are not
   * per connection — register those on {@link PluginRegistry.container}.
   */
  parent?: DependencyContainer;
  /** Register the shipped plugins (`idle-timeout`, `rate-limiter`, `frame-logger`, `diagnostics`); on by default. */
  builtins?: boolean;
}

interface Registration {
  readonly name: string;
  readonly spec: PluginSpec<object>;
  readonly create: (options: Readonly<Record<string, unknown>>, container: DependencyContainer) => ChannelHandler;
}

interface PluginMetadata {
  readonly name: string;
  readonly spec: PluginSpec<object>;
}

/** Classes decorated with {@link plugin}; a WeakMap so the decorator registers nothing anywhere. */
const pluginMetadata = new WeakMap<object, PluginMetadata>();

/**
 * The shipped plugins, registered by every registry made with `builtins` (the default) exactly as
 * a user's factory plugins are. Their modules import only types from this one, so there is no
 * import cycle.
 */
const BUILTIN_PLUGINS: ReadonlyArray<readonly [string, FactoryPluginSpec<object>]> = [
  [IDLE_TIMEOUT_PLUGIN_NAME, IDLE_TIMEOUT_PLUGIN],
  [RATE_LIMITER_PLUGIN_NAME, RATE_LIMITER_PLUGIN as FactoryPluginSpec<object>],
  [FRAME_LOGGER_PLUGIN_NAME, FRAME_LOGGER_PLUGIN],
  [DIAGNOSTICS_PLUGIN_NAME, DIAGNOSTICS_PLUGIN],
  [TLS_PLUGIN_NAME, TLS_PLUGIN as FactoryPluginSpec<object>],
  [HTTP2_SERVER_PLUGIN_NAME, HTTP2_SERVER_PLUGIN],
  [HTTP2_CLIENT_PLUGIN_NAME, HTTP2_CLIENT_PLUGIN],
];

/**
 * plugin is the class decorator that makes a handler class a plugin named `name`, with its
 * options' defaults and rules. It only records this on the class (and marks it injectable for
 * tsyringe); it registers nothing. Add the class to a registry with
 * {@link PluginRegistry.register}.
 *
 * The class is built per connection by the connection's container: inject the options with
 * `@inject(PLUGIN_OPTIONS_TOKEN)` and the channel as a `Channel` parameter.
 *
 * @example
 * ```ts
 * interface GreeterOptions { greeting: string }
 *
 * @plugin<GreeterOptions>('greeter', {
 *   defaults: { greeting: 'hello' },
 *   validate: { greeting: { type: 'string', required: true } },
 * })
 * class Greeter extends PassThroughHandler {
 *   constructor(@inject(PLUGIN_OPTIONS_TOKEN) readonly options: GreeterOptions, readonly channel: Channel) {
 *     super();
 *   }
 * }
 *
 * const registry = new PluginRegistry().register(Greeter);
 * ```
 */
export function plugin<O extends object = Record<string, unknown>>(
  name: string,
  spec: PluginSpec<O> = {},
): <C extends PluginClass>(target: C) => C {
  return <C extends PluginClass>(target: C): C => {
    checkPluginName(name);
    injectable()(classToken(target) as Parameters<ReturnType<typeof injectable>>[0]);
    pluginMetadata.set(target, { name, spec: spec });
    return target;
  };
}

/**
 * The constructor parameters of `pluginClass` a container cannot resolve: neither decorator
 * metadata (`design:paramtypes`, emitted by tsc with `emitDecoratorMetadata`) nor an `@inject`
 * token names their type. Without this check such a class is built with `undefined` arguments
 * and fails later, on the connection's first byte, with an unrelated TypeError.
 */
function parametersWithoutTypes(pluginClass: PluginClass): number[] {
  const count = pluginClass.length;
  if (count === 0) return [];
  const types = Reflect.getMetadata('design:paramtypes', pluginClass) as readonly unknown[] | undefined;
  // tsyringe's @inject records its tokens under this key, by parameter index.
  const tokens = (Reflect.getOwnMetadata('injectionTokens', pluginClass) ?? {}) as Readonly<Record<number, unknown>>;
  const missing: number[] = [];
  for (let index = 0; index < count; index++)
    if (tokens[index] === undefined && types?.[index] === undefined) missing.push(index);
  return missing;
}

/** Returns the plugin name a class was decorated with, or undefined when it is not a plugin. */
export function pluginNameOf(pluginClass: PluginClass): string | undefined {
  return pluginMetadata.get(pluginClass)?.name;
}

/**
 * PluginRegistry maps plugin names to handler factories and turns lists of names with options
 * into {@link Pipeline}s for bootstraps.
 *
 * Each registry owns a tsyringe child container ({@link PluginRegistry.container}); each
 * connection resolves its plugins in a child of that, holding the channel
 * ({@link CHANNEL_TOKEN}) and every `ContainerScoped` service registered on the registry's
 * container — one instance per connection, shared by that connection's plugins.
 *
 * Options are checked when `pipeline()` is called, not per connection: an unknown name, a
 * missing required option or a wrong type throws a {@link SluiceError} naming the plugin and the
 * option (`PLUGIN_UNKNOWN_PLUGIN`, `PLUGIN_MISSING_OPTION`, `PLUGIN_INVALID_OPTIONS`).
 *
 * @example
 * ```ts
 * const registry = new PluginRegistry();
 * registry.register('uppercase', { factory: () => new UppercaseHandler() });
 * const listener = await new ServerBootstrap().listen({
 *   host: '127.0.0.1', port: 0,
 *   pipeline: registry.pipeline([
 *     'socket',
 *     { name: 'idle-timeout', options: { timeoutMs: 30_000 } },
 *     'uppercase',
 *   ]),
 * });
 * ```
 */
export class PluginRegistry {
  private readonly registrations = new Map<string, Registration>();
  private readonly containerValue: DependencyContainer;

  /** Creates a registry with its own container (a child of `options.parent`, or of tsyringe's root). */
  constructor(options: PluginRegistryOptions = {}) {
    checkOptionalOptions(options, 'new PluginRegistry', PluginErrors.INVALID_OPTIONS);
    this.containerValue = (options.parent ?? rootContainer).createChildContainer();
    if (options.builtins ?? true) for (const [name, spec] of BUILTIN_PLUGINS) this.register(name, spec);
  }

  /**
   * The registry's container. Register services plugins share here; with
   * `{ lifecycle: Lifecycle.ContainerScoped }` each connection gets its own instance.
   */
  get container(): DependencyContainer {
    return this.containerValue;
  }

  /** The registered plugin names, in registration order. */
  names(): string[] {
    return [...this.registrations.keys()];
  }

  /** Whether a plugin named `name` is registered. */
  has(name: string): boolean {
    return this.registrations.has(name);
  }

  /**
   * Registers a plugin: a class decorated with {@link plugin}, or a name with a factory and its
   * options spec. Throws `PLUGIN_DUPLICATE_NAME` for a name already taken (or `socket`),
   * `PLUGIN_NOT_A_PLUGIN` for an undecorated class. Returns the registry, for chaining.
   *
   * @example
   * ```ts
   * registry.register<{ limit: number }>('limiter', {
   *   defaults: { limit: 10 },
   *   validate: { limit: { type: 'integer', min: 1 } },
   *   factory: (options) => new LimitHandler(options.limit),
   * });
   * ```
   */
  register(pluginClass: PluginClass): this;
  register<O extends object>(name: string, spec: FactoryPluginSpec<O>): this;
  register<O extends object>(nameOrClass: string | PluginClass, spec?: FactoryPluginSpec<O>): this {
    if (typeof nameOrClass === 'function') {
      const metadata = pluginMetadata.get(nameOrClass);
      if (metadata === undefined) {
        throw new SluiceError(
          PluginErrors.NOT_A_PLUGIN,
          `class ${nameOrClass.name || '(anonymous)'} is not decorated with @plugin(name)`,
        );
      }
      const pluginClass = nameOrClass;
      const untyped = parametersWithoutTypes(pluginClass);
      if (untyped.length > 0) {
        throw new SluiceError(
          PluginErrors.MISSING_METADATA,
          `plugin class ${pluginClass.name || '(anonymous)'}: constructor parameter${untyped.length > 1 ? 's' : ''} ${untyped.join(', ')} ` +
            'carry no type metadata, so the container would pass undefined. Compile the class with tsc and ' +
            '"emitDecoratorMetadata": true (esbuild, tsx and swc without it emit none), or give every parameter an @inject(token).',
        );
      }
      return this.add({
        name: metadata.name,
        spec: metadata.spec,
        create: (options, container) => {
          container.register(PLUGIN_OPTIONS_TOKEN, { useValue: options });
          return container.resolve(classToken(pluginClass));
        },
      });
    }
    if (spec === undefined || typeof spec.factory !== 'function') {
      throw new SluiceError(
        PluginErrors.INVALID_OPTIONS,
        `plugin '${nameOrClass}': register(name, spec) needs spec.factory`,
      );
    }
    const factory = spec.factory as PluginFactory<object>;
    return this.add({
      name: nameOrClass,
      spec: spec,
      create: (options, container) => factory(options, container),
    });
  }

  /**
   * Validates `entries` now and returns the {@link Pipeline} that installs them in each
   * connection. `'socket'` may come first and stands for the bootstrap's transport (already in
   * the first slot), so it installs nothing.
   *
   * Throws `PLUGIN_INVALID_PIPELINE` (malformed list, `socket` not first),
   * `PLUGIN_UNKNOWN_PLUGIN`, `PLUGIN_MISSING_OPTION` or `PLUGIN_INVALID_OPTIONS`.
   *
   * @example
   * ```ts
   * const pipeline = registry.pipeline([
   *   'socket',
   *   { name: 'frame-logger', options: { maxPayloadBytes: 16 } },
   *   { name: 'idle-timeout', options: { timeoutMs: 5_000 } },
   *   'my-plugin',
   * ]);
   * await new ClientBootstrap().connect({ host: '127.0.0.1', port, pipeline });
   * ```
   */
  pipeline(entries: readonly PipelineEntry[]): Pipeline {
    if (!Array.isArray(entries))
      throw new SluiceError(
        PluginErrors.INVALID_PIPELINE,
        'a pipeline is an array of plugin names or { name, options } entries',
      );
    const resolved: ResolvedPipelineEntry[] = [];
    const creators: Registration[] = [];
    entries.forEach((entry, index) => {
      const { name, given } = parseEntry(entry, index);
      if (name === TRANSPORT_PLUGIN_NAME) {
        if (index !== 0) {
          throw new SluiceError(
            PluginErrors.INVALID_PIPELINE,
            `pipeline entry ${index}: '${TRANSPORT_PLUGIN_NAME}' is the transport and can only come first`,
          );
        }
        if (given !== undefined && Object.keys(given).length > 0) {
          throw new SluiceError(
            PluginErrors.INVALID_OPTIONS,
            `plugin '${TRANSPORT_PLUGIN_NAME}': socket options belong to the bootstrap (socketOptions), not the pipeline`,
          );
        }
        return;
      }
      const registration = this.registrations.get(name);
      if (registration === undefined) {
        const known = this.names();
        throw new SluiceError(
          PluginErrors.UNKNOWN_PLUGIN,
          `pipeline entry ${index}: no plugin named '${name}' is registered (known: ${known.length > 0 ? known.join(', ') : 'none'})`,
        );
      }
      resolved.push({ name, options: resolveOptions(name, registration.spec, given ?? {}) });
      creators.push(registration);
    });
    Object.freeze(resolved);
    const install = (channel: Channel, after: ChannelSlot | null = null): ChannelSlot[] =>
      this.installEntries(channel, after, resolved, creators);
    const pipeline = (channel: Channel): void => {
      install(channel, null);
    };
    return Object.assign(pipeline, { entries: resolved, install });
  }

  private add(registration: Registration): this {
    checkPluginName(registration.name);
    if (registration.name === TRANSPORT_PLUGIN_NAME) {
      throw new SluiceError(
        PluginErrors.DUPLICATE_NAME,
        `'${TRANSPORT_PLUGIN_NAME}' is reserved for the bootstrap's transport`,
      );
    }
    if (this.registrations.has(registration.name)) {
      throw new SluiceError(PluginErrors.DUPLICATE_NAME, `a plugin named '${registration.name}' is already registered`);
    }
    this.registrations.set(registration.name, registration);
    return this;
  }

  private installEntries(
    channel: Channel,
    after: ChannelSlot | null,
    resolved: readonly ResolvedPipelineEntry[],
    creators: readonly Registration[],
  ): ChannelSlot[] {
    const slots: ChannelSlot[] = [];
    const connection = this.containerValue.createChildContainer();
    connection.register(CHANNEL_TOKEN, { useValue: channel });
    connection.register(Channel, { useValue: channel });
    // Per-connection services that hold resources are disposed with the connection.
    void channel.whenShutdown
      .then(() => connection.dispose())
      .catch((error: unknown) => {
        if (log.level >= LogLevel.WARN)
          log.log(LogLevel.WARN, 'plugins', `disposing a connection container failed: ${String(error)}`);
      });
    let previous = after;
    for (let index = 0; index < resolved.length; index++) {
      const entry = resolved[index];
      let handler: ChannelHandler;
      try {
        handler = creators[index].create(entry.options, connection);
        previous = previous === null ? channel.appendHandler(handler) : previous.insertRight(handler);
      } catch (thrown) {
        const cause = asSluiceError(thrown, PluginErrors.FACTORY_FAILED);
        const error = new SluiceError(
          PluginErrors.FACTORY_FAILED,
          `plugin '${entry.name}' failed to build for channel ${channel.id}: ${cause.message}`,
          {
            cause: thrown,
          },
        );
        if (log.level >= LogLevel.ERROR) log.log(LogLevel.ERROR, 'plugins', error.message);
        channel.shutdown(error);
        return slots;
      }
      slots.push(previous);
    }
    return slots;
  }
}

/**
 * tsyringe types class tokens as `new (...args: any[]) => T`; ours say `never[]` (this project
 * has no `any`). The runtime value is the class either way.
 */
function classToken(pluginClass: PluginClass): InjectionToken<ChannelHandler> {
  return pluginClass as unknown as InjectionToken<ChannelHandler>;
}

function checkPluginName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SluiceError(
      PluginErrors.INVALID_PIPELINE,
      `a plugin name must be a non-empty string, got ${describe(name)}`,
    );
  }
}

function parseEntry(
  entry: unknown,
  index: number,
): { name: string; given: Readonly<Record<string, unknown>> | undefined } {
  if (typeof entry === 'string') {
    if (entry.length === 0)
      throw new SluiceError(PluginErrors.INVALID_PIPELINE, `pipeline entry ${index}: empty plugin name`);
    return { name: entry, given: undefined };
  }
  if (!isPlainObject(entry) || typeof entry['name'] !== 'string' || entry['name'].length === 0) {
    throw new SluiceError(
      PluginErrors.INVALID_PIPELINE,
      `pipeline entry ${index}: expected a plugin name or { name, options }, got ${describe(entry)}`,
    );
  }
  const options = entry['options'];
  if (options !== undefined && !isPlainObject(options)) {
    throw new SluiceError(
      PluginErrors.INVALID_OPTIONS,
      `plugin '${entry['name']}': options must be an object, got ${describe(options)}`,
    );
  }
  return { name: entry['name'], given: options };
}

/** Merges defaults under the given options and checks them against the plugin's rules. */
function resolveOptions(
  pluginName: string,
  spec: PluginSpec<object>,
  given: Readonly<Record<string, unknown>>,
): Readonly<Record<string, unknown>> {
  const merged: Record<string, unknown> = { ...(spec.defaults as Record<string, unknown> | undefined) };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) merged[key] = value;
  const schema = spec.validate as Readonly<Record<string, OptionRule>> | undefined;
  if (schema !== undefined) {
    for (const key of Object.keys(given)) {
      if (!Object.hasOwn(schema, key)) {
        throw new SluiceError(
          PluginErrors.INVALID_OPTIONS,
          `plugin '${pluginName}': unknown option '${key}' (options: ${Object.keys(schema).join(', ') || 'none'})`,
        );
      }
    }
    for (const [key, rule] of Object.entries(schema)) {
      const value = merged[key];
      if (value === undefined) {
        if (rule.required === true)
          throw new SluiceError(PluginErrors.MISSING_OPTION, `plugin '${pluginName}': option '${key}' is required`);
        continue;
      }
      const problem = checkRule(rule, value);
      if (problem !== undefined)
        throw new SluiceError(PluginErrors.INVALID_OPTIONS, `plugin '${pluginName}': option '${key}' ${problem}`);
    }
  }
  return Object.freeze(merged);
}

function checkRule(rule: OptionRule, value: unknown): string | undefined {
  if (!hasType(rule.type, value)) return `must be ${article(rule.type)} ${rule.type}, got ${describe(value)}`;
  if (typeof value === 'number') {
    if (rule.min !== undefined && value < rule.min) return `must be at least ${rule.min}, got ${value}`;
    if (rule.max !== undefined && value > rule.max) return `must be at most ${rule.max}, got ${value}`;
  }
  if (rule.oneOf !== undefined && !rule.oneOf.includes(value)) {
    return `must be one of ${rule.oneOf.map((allowed) => JSON.stringify(allowed)).join(', ')}, got ${describe(value)}`;
  }
  return rule.check?.(value);
}

function hasType(type: OptionType, value: unknown): boolean {
  switch (type) {
    case 'number':
      return typeof value === 'number' && !Number.isNaN(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    default:
      return typeof value === type;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}
