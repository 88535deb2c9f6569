/**
 * A handler plugin written the way a user writes one: a per-connection read quota.
 *
 * Run its tests (written with `TestingChannel`, in `tests/examples/plugin-testing.test.ts`):
 *
 * ```sh
 * npx tsc -p tsconfig.json && npx mocha dist/tests/examples/plugin-testing.test.js
 * ```
 *
 * @module
 */
import {
  defineErrors,
  PassThroughHandler,
  SluiceError,
  type ChannelSlot,
  type IoMessage,
} from '../../handlers/index.js';
import { inject, plugin, PLUGIN_OPTIONS_TOKEN } from '../../handlers/plugins/index.js';

/** This plugin's own error table: codes `QUOTA_…`. */
export const QuotaErrors = defineErrors('QUOTA', {
  EXCEEDED: 'the connection read more than its quota',
});

/** Options of a {@link QuotaHandler}. */
export interface QuotaOptions {
  /** Bytes a connection may read before it is closed. */
  maxBytes: number;
}

/**
 * QuotaHandler lets a connection read `maxBytes` and closes it with `QUOTA_EXCEEDED` when a read
 * would go beyond. Reads within the quota and all writes pass unchanged; it extends
 * {@link PassThroughHandler}, which takes care of windows (it never accepts more than the handler to its
 * right) and of passing messages on.
 *
 * Registered by class: `registry.register(QuotaHandler)`, then `'quota'` in a pipeline.
 */
@plugin<QuotaOptions>('quota', {
  validate: { maxBytes: { type: 'integer', required: true, min: 0 } },
})
export class QuotaHandler extends PassThroughHandler {
  private bytesRead = 0;

  /** Built per connection by the registry, with the validated options injected. */
  constructor(@inject(PLUGIN_OPTIONS_TOKEN) readonly options: QuotaOptions) {
    super();
  }

  /** Bytes left before the quota is reached. */
  get remaining(): number {
    return Math.max(0, this.options.maxBytes - this.bytesRead);
  }

  /** Reads within the quota pass; one beyond it is dropped and the connection closed. */
  override processReadMessage(slot: ChannelSlot, message: IoMessage): void {
    if (this.bytesRead + message.length > this.options.maxBytes) {
      // We accepted the message (we return normally), so we own it: release it exactly once.
      message.release();
      slot.channel.shutdown(new SluiceError(QuotaErrors.EXCEEDED, `more than ${this.options.maxBytes} bytes read`));
      return;
    }
    this.bytesRead += message.length;
    super.processReadMessage(slot, message);
  }
}
