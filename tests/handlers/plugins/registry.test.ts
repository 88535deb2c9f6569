import { expect } from 'chai';
import {
  Channel,
  PassThroughHandler,
  SluiceError,
  TestingChannel,
  VirtualEventLoop,
  type ChannelHandler,
} from '../../../handlers/index.js';
import {
  CHANNEL_TOKEN,
  FrameLoggerHandler,
  IdleTimeoutHandler,
  inject,
  Lifecycle,
  plugin,
  PLUGIN_OPTIONS_TOKEN,
  PluginErrors,
  PluginRegistry,
  pluginNameOf,
  type DependencyContainer,
} from '../../../handlers/plugins/index.js';

/** Per-connection state shared by a connection's plugins (ContainerScoped on the registry container). */
class ConnectionState {
  static created = 0;
  readonly serial = ++ConnectionState.created;
  readonly seenBy: string[] = [];
}

interface TagOptions {
  tag: string;
  repeat?: number;
}

/** A user plugin written in the test file with the decorator form. */
@plugin<TagOptions>('tag', {
  defaults: { repeat: 1 },
  validate: {
    tag: { type: 'string', required: true },
    repeat: { type: 'integer', min: 1, max: 5 },
  },
})
class TagPlugin extends PassThroughHandler {
  constructor(
    @inject(PLUGIN_OPTIONS_TOKEN) readonly options: TagOptions,
    readonly channel: Channel,
    readonly state: ConnectionState,
  ) {
    super();
    state.seenBy.push(`tag:${options.tag}`);
  }
}

/** A user plugin with the function form: a counter that reads the shared connection state. */
class CounterHandler extends PassThroughHandler {
  constructor(
    readonly start: number,
    readonly state: ConnectionState,
    readonly channelFromContainer: Channel,
  ) {
    super();
    state.seenBy.push('counter');
  }
}

function newRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  registry.container.register(ConnectionState, { useClass: ConnectionState }, { lifecycle: Lifecycle.ContainerScoped });
  registry.register(TagPlugin);
  registry.register<{ start: number }>('counter', {
    defaults: { start: 0 },
    validate: { start: { type: 'integer' } },
    factory: (options, container: DependencyContainer) =>
      new CounterHandler(options.start, container.resolve(ConnectionState), container.resolve<Channel>(CHANNEL_TOKEN)),
  });
  return registry;
}

/** A channel on a virtual loop with a stand-in transport first, as a bootstrap would make it. */
function newConnection(): { loop: VirtualEventLoop; channel: Channel } {
  const loop = new VirtualEventLoop();
  const channel = new Channel(loop);
  channel.appendHandler(new PassThroughHandler());
  loop.runUntilIdle();
  return { loop, channel };
}

function handlersOf(channel: Channel): ChannelHandler[] {
  return channel.slots().map((slot) => slot.handler);
}

function expectError(action: () => unknown, code: string, ...fragments: string[]): void {
  let caught: unknown = null;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a SluiceError').to.be.instanceOf(SluiceError);
  const error = caught as SluiceError;
  expect(error.code).to.equal(code);
  for (const fragment of fragments) expect(error.message).to.contain(fragment);
}

describe('PluginRegistry', () => {
  it('builds a pipeline by name from built-in, decorated and factory plugins, skipping the socket', () => {
    const registry = newRegistry();
    const lines: string[] = [];
    const pipeline = registry.pipeline([
      'socket',
      { name: 'frame-logger', options: { sink: (line: string) => lines.push(line) } },
      { name: 'idle-timeout', options: { timeoutMs: 1000 } },
      { name: 'tag', options: { tag: 'a' } },
      'counter',
    ]);
    expect(pipeline.entries.map((entry) => entry.name)).to.deep.equal([
      'frame-logger',
      'idle-timeout',
      'tag',
      'counter',
    ]);
    const { loop, channel } = newConnection();
    pipeline(channel);
    loop.runUntilIdle();
    const handlers = handlersOf(channel);
    expect(handlers).to.have.length(5);
    expect(handlers[1]).to.be.instanceOf(FrameLoggerHandler);
    expect(handlers[2]).to.be.instanceOf(IdleTimeoutHandler);
    expect((handlers[2] as IdleTimeoutHandler).timeoutMs).to.equal(1000);
    expect(handlers[3]).to.be.instanceOf(TagPlugin);
    expect(handlers[4]).to.be.instanceOf(CounterHandler);
    channel.shutdown();
    loop.runUntilIdle();
  });

  it('merges defaults under the given options and freezes them', () => {
    const pipeline = newRegistry().pipeline([{ name: 'tag', options: { tag: 'x' } }]);
    expect(pipeline.entries[0].options).to.deep.equal({ tag: 'x', repeat: 1 });
    expect(Object.isFrozen(pipeline.entries[0].options)).to.equal(true);
  });

  it('gives two connections separate plugin instances, channels and per-connection state', () => {
    const registry = newRegistry();
    const pipeline = registry.pipeline([
      'socket',
      { name: 'tag', options: { tag: 'one' } },
      { name: 'counter', options: { start: 7 } },
    ]);
    const first = newConnection();
    const second = newConnection();
    pipeline(first.channel);
    pipeline(second.channel);
    const [tag1, counter1] = handlersOf(first.channel).slice(1) as [TagPlugin, CounterHandler];
    const [tag2, counter2] = handlersOf(second.channel).slice(1) as [TagPlugin, CounterHandler];
    expect(tag1).to.not.equal(tag2);
    expect(tag1.channel).to.equal(first.channel);
    expect(tag2.channel).to.equal(second.channel);
    expect(counter1.channelFromContainer).to.equal(first.channel);
    expect(counter2.channelFromContainer).to.equal(second.channel);
    // One ConnectionState per connection, shared by that connection's plugins.
    expect(tag1.state).to.equal(counter1.state);
    expect(tag2.state).to.equal(counter2.state);
    expect(tag1.state).to.not.equal(tag2.state);
    expect(tag1.state.seenBy).to.deep.equal(['tag:one', 'counter']);
    expect(counter1.start).to.equal(7);
  });

  it('gives connections built from two pipelines their own configuration', () => {
    const registry = newRegistry();
    const fast = registry.pipeline([{ name: 'tag', options: { tag: 'fast', repeat: 2 } }]);
    const slow = registry.pipeline([{ name: 'tag', options: { tag: 'slow' } }]);
    const a = newConnection();
    const b = newConnection();
    fast(a.channel);
    slow(b.channel);
    const tagA = handlersOf(a.channel)[1] as TagPlugin;
    const tagB = handlersOf(b.channel)[1] as TagPlugin;
    expect(tagA.options).to.deep.equal({ tag: 'fast', repeat: 2 });
    expect(tagB.options).to.deep.equal({ tag: 'slow', repeat: 1 });
  });

  it('installs a pipeline into a TestingChannel after a given slot, and traffic flows through it', () => {
    const registry = newRegistry();
    const test = new TestingChannel([]);
    const slots = registry
      .pipeline([
        { name: 'idle-timeout', options: { timeoutMs: 500 } },
        { name: 'tag', options: { tag: 't' } },
      ])
      .install(test.channel, test.socketSlot);
    test.runUntilIdle();
    expect(slots.map((slot) => slot.handler.constructor.name)).to.deep.equal(['IdleTimeoutHandler', 'TagPlugin']);
    test.pushRead('ping');
    expect(test.takeRead().toString()).to.equal('ping');
    test.pushWrite('pong');
    expect(test.takeWritten().toString()).to.equal('pong');
    test.completeWrites();
    test.advance(500);
    expect(test.shutdownError?.code).to.equal(PluginErrors.IDLE_TIMEOUT.code);
    expect(test.messagePool.outstanding).to.equal(0);
  });

  it('records the decorated name on the class without registering it anywhere', () => {
    expect(pluginNameOf(TagPlugin)).to.equal('tag');
    expect(new PluginRegistry().has('tag')).to.equal(false);
    expect(new PluginRegistry({ builtins: false }).names()).to.deep.equal([]);
    expect(new PluginRegistry().names()).to.include.members([
      'idle-timeout',
      'rate-limiter',
      'frame-logger',
      'diagnostics',
    ]);
  });

  describe('fails at build time', () => {
    it('with PLUGIN_UNKNOWN_PLUGIN for an unknown name, naming it', () => {
      expectError(
        () => newRegistry().pipeline(['socket', 'tag-typo']),
        PluginErrors.UNKNOWN_PLUGIN.code,
        "'tag-typo'",
        'entry 1',
      );
    });

    it('with PLUGIN_MISSING_OPTION for a required option not given, naming plugin and option', () => {
      expectError(
        () => newRegistry().pipeline(['tag']),
        PluginErrors.MISSING_OPTION.code,
        "plugin 'tag'",
        "option 'tag'",
      );
      expectError(
        () => newRegistry().pipeline(['rate-limiter']),
        PluginErrors.MISSING_OPTION.code,
        "plugin 'rate-limiter'",
        "'bytesPerSecond'",
      );
    });

    const wrongOptions: Array<[string, Record<string, unknown>, string]> = [
      ['tag', { tag: 42 }, "option 'tag' must be a string, got number 42"],
      ['tag', { tag: 'x', repeat: 1.5 }, "option 'repeat' must be an integer"],
      ['tag', { tag: 'x', repeat: 9 }, "option 'repeat' must be at most 5"],
      ['tag', { tag: 'x', colour: 'red' }, "unknown option 'colour'"],
      ['idle-timeout', { timeoutMs: '5s' }, "option 'timeoutMs' must be a number"],
      ['idle-timeout', { watch: 'sometimes' }, "option 'watch' must be one of"],
      ['frame-logger', { level: 'loud' }, "option 'level' is not a log level name"],
      ['frame-logger', { sink: 'stdout' }, "option 'sink' must be a function"],
      ['rate-limiter', { bytesPerSecond: 0 }, "option 'bytesPerSecond' must be at least 1"],
    ];
    for (const [name, options, message] of wrongOptions) {
      it(`with PLUGIN_INVALID_OPTIONS for ${name} ${JSON.stringify(options)}`, () => {
        expectError(
          () => newRegistry().pipeline([{ name, options }]),
          PluginErrors.INVALID_OPTIONS.code,
          `plugin '${name}'`,
          message,
        );
      });
    }

    it('with PLUGIN_INVALID_PIPELINE for socket not first, an empty name or a malformed entry', () => {
      expectError(
        () => newRegistry().pipeline(['idle-timeout', 'socket']),
        PluginErrors.INVALID_PIPELINE.code,
        "'socket'",
        'first',
      );
      expectError(() => newRegistry().pipeline(['']), PluginErrors.INVALID_PIPELINE.code, 'empty plugin name');
      expectError(
        () => newRegistry().pipeline([{ name: 'tag', options: 'tag=x' } as never]),
        PluginErrors.INVALID_OPTIONS.code,
        'options must be an object',
      );
      expectError(() => newRegistry().pipeline([42 as never]), PluginErrors.INVALID_PIPELINE.code, 'entry 0');
    });

    it('with PLUGIN_INVALID_OPTIONS for socket options given in the pipeline', () => {
      expectError(
        () => newRegistry().pipeline([{ name: 'socket', options: { noDelay: true } }]),
        PluginErrors.INVALID_OPTIONS.code,
        'socketOptions',
      );
    });
  });

  describe('registration', () => {
    it('rejects a duplicate name with PLUGIN_DUPLICATE_NAME', () => {
      const registry = newRegistry();
      expectError(() => registry.register(TagPlugin), PluginErrors.DUPLICATE_NAME.code, "'tag'");
      expectError(
        () => registry.register('idle-timeout', { factory: () => new PassThroughHandler() }),
        PluginErrors.DUPLICATE_NAME.code,
        "'idle-timeout'",
      );
      expectError(
        () => registry.register('socket', { factory: () => new PassThroughHandler() }),
        PluginErrors.DUPLICATE_NAME.code,
        'reserved',
      );
    });

    it('rejects an undecorated class with PLUGIN_NOT_A_PLUGIN', () => {
      class Plain extends PassThroughHandler {}
      expectError(() => new PluginRegistry().register(Plain), PluginErrors.NOT_A_PLUGIN.code, 'Plain');
    });

    it('rejects a class with constructor parameters but no decorator metadata (as esbuild or tsx compile it) with PLUGIN_MISSING_METADATA', () => {
      // Applying the decorator by hand, as a compiler without emitDecoratorMetadata does: no
      // design:paramtypes, so the container would construct it with undefined arguments.
      class Untyped extends PassThroughHandler {
        constructor(
          readonly options: { greeting: string },
          readonly channel: Channel,
        ) {
          super();
        }
      }
      plugin('untyped')(Untyped);
      expectError(
        () => new PluginRegistry().register(Untyped),
        PluginErrors.MISSING_METADATA.code,
        'Untyped',
        'parameters 0, 1',
        'emitDecoratorMetadata',
        '@inject',
      );
    });

    it('accepts a class without type metadata when every parameter is injected by token', () => {
      class ByToken extends PassThroughHandler {
        constructor(readonly options: { greeting: string }) {
          super();
        }
      }
      inject(PLUGIN_OPTIONS_TOKEN)(ByToken, undefined, 0);
      plugin('by-token')(ByToken);
      const registry = new PluginRegistry({ builtins: false }).register(ByToken);
      const tc = new TestingChannel();
      const [slot] = registry.pipeline([{ name: 'by-token', options: {} }]).install(tc.channel);
      expect(slot.handler).to.be.instanceOf(ByToken);
      expect((slot.handler as ByToken).options).to.deep.equal({});
      tc.shutdown();
    });

    it('keeps registries apart: registering in one does not show in another', () => {
      const a = new PluginRegistry({ builtins: false });
      const b = new PluginRegistry({ builtins: false });
      a.register('only-a', { factory: () => new PassThroughHandler() });
      expect(a.has('only-a')).to.equal(true);
      expect(b.has('only-a')).to.equal(false);
      expectError(() => b.pipeline(['only-a']), PluginErrors.UNKNOWN_PLUGIN.code, "'only-a'", 'known: none');
    });
  });

  it('shuts the connection down with PLUGIN_FACTORY_FAILED when a plugin fails to build, without throwing', () => {
    const registry = new PluginRegistry({ builtins: false });
    registry.register('broken', {
      factory: () => {
        throw new Error('no database');
      },
    });
    const pipeline = registry.pipeline(['socket', 'broken']);
    const { loop, channel } = newConnection();
    expect(() => pipeline(channel)).to.not.throw();
    loop.runUntilIdle();
    expect(channel.isShutDown).to.equal(true);
    expect(channel.shutdownError?.code).to.equal(PluginErrors.FACTORY_FAILED.code);
    expect(channel.shutdownError?.message).to.contain("plugin 'broken'").and.contain('no database');
  });

  it('disposes per-connection services when the connection shuts down', async () => {
    class Pool {
      disposed = false;
      dispose(): void {
        this.disposed = true;
      }
    }
    const registry = new PluginRegistry({ builtins: false });
    registry.container.register(Pool, { useClass: Pool }, { lifecycle: Lifecycle.ContainerScoped });
    let pool: Pool | null = null;
    registry.register('uses-pool', {
      factory: (_options, container) => {
        pool = container.resolve(Pool);
        return new PassThroughHandler();
      },
    });
    const { loop, channel } = newConnection();
    registry.pipeline(['uses-pool'])(channel);
    channel.shutdown();
    loop.runUntilIdle();
    await channel.whenShutdown;
    await new Promise((resolve) => setImmediate(resolve));
    expect(pool).to.not.equal(null);
    expect(pool!.disposed).to.equal(true);
  });
});
