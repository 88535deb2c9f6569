import { expect } from 'chai';
import { SluiceError, VirtualEventLoop } from '../../lib/index.js';
import {
  ExponentialBackoff,
  ExponentialBackoffRetryStrategy,
  JitterMode,
  RetryErrors,
  RetryErrorType,
  StandardRetryStrategy,
  classifyFailure,
} from '../../lib/retry-strategy.js';

/** A "random" source that returns the given values in turn (cycling). */
function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length];
}

const RANDOM = [0.5, 0.25, 0.75, 0.1, 0.9];

describe('ExponentialBackoff', () => {
  const cases: { jitter: JitterMode; expected: number[] }[] = [
    // min(1000, 100 × 2^n): 100, 200, 400, 800, 1000, 1000
    { jitter: JitterMode.NONE, expected: [100, 200, 400, 800, 1000, 1000] },
    // random × ceiling: 0.5×100, 0.25×200, 0.75×400, 0.1×800, 0.9×1000, 0.5×1000
    { jitter: JitterMode.FULL, expected: [50, 50, 300, 80, 900, 500] },
    // 100 + random × (3 × max(100, previous) − 100), capped at 1000
    { jitter: JitterMode.DECORRELATED, expected: [200, 225, 531, 249, 682, 1000] },
  ];
  for (const { jitter, expected } of cases) {
    it(`gives the exact ${jitter} jitter sequence for a seeded random`, () => {
      const backoff = new ExponentialBackoff({ scaleMs: 100, maxBackoffMs: 1000, jitter, random: sequence(...RANDOM) });
      const delays: number[] = [];
      let previous = 0;
      for (let retry = 0; retry < expected.length; retry++) {
        previous = backoff.delayMs(retry, previous);
        delays.push(previous);
      }
      expect(delays).to.deep.equal(expected);
    });
  }
});

describe('classifyFailure', () => {
  const cases: { what: string; failure: Parameters<typeof classifyFailure>[0]; type: RetryErrorType }[] = [
    { what: '429', failure: { status: 429 }, type: RetryErrorType.THROTTLING },
    { what: '503', failure: { status: 503 }, type: RetryErrorType.THROTTLING },
    { what: '500', failure: { status: 500 }, type: RetryErrorType.SERVER_ERROR },
    { what: '502', failure: { status: 502 }, type: RetryErrorType.SERVER_ERROR },
    { what: '408', failure: { status: 408 }, type: RetryErrorType.TRANSIENT },
    { what: '404', failure: { status: 404 }, type: RetryErrorType.CLIENT_ERROR },
    {
      what: 'an IO error',
      failure: { error: new SluiceError({ code: 'IO_CONNECTION_RESET', message: 'reset' }) },
      type: RetryErrorType.TRANSIENT,
    },
    {
      what: 'a timeout',
      failure: { error: new SluiceError({ code: 'SDK_FIRST_BYTE_TIMEOUT', message: 'slow' }) },
      type: RetryErrorType.TRANSIENT,
    },
    {
      what: 'a dead connection',
      failure: { error: new SluiceError({ code: 'SDK_CONNECTION_DEAD', message: 'no PING answer' }) },
      type: RetryErrorType.TRANSIENT,
    },
    {
      what: 'a retryable HTTP/2 refusal',
      failure: {
        error: Object.assign(new SluiceError({ code: 'HTTP2_REFUSED_STREAM', message: 'refused' }), {
          retryable: true,
        }),
      },
      type: RetryErrorType.TRANSIENT,
    },
    {
      what: 'a Node ECONNRESET',
      failure: { error: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) },
      type: RetryErrorType.TRANSIENT,
    },
    {
      what: 'an HTTP/2 protocol error',
      failure: { error: new SluiceError({ code: 'HTTP2_PROTOCOL_ERROR', message: 'bad' }) },
      type: RetryErrorType.CLIENT_ERROR,
    },
    {
      what: 'an abort',
      failure: { error: new SluiceError({ code: 'SDK_REQUEST_ABORTED', message: 'aborted' }) },
      type: RetryErrorType.CLIENT_ERROR,
    },
  ];
  for (const { what, failure, type } of cases) {
    it(`classifies ${what} as ${type}`, () => expect(classifyFailure(failure)).to.equal(type));
  }
});

describe('ExponentialBackoffRetryStrategy', () => {
  it('runs each retry on the loop after its backoff, in virtual time', () => {
    const loop = new VirtualEventLoop();
    const strategy = new ExponentialBackoffRetryStrategy({
      loop,
      scaleMs: 100,
      maxRetries: 3,
      random: sequence(...RANDOM),
    });
    const token = strategy.acquireToken('p');
    const firedAt: number[] = [];
    const deadlines: (number | undefined)[] = [];
    for (let retry = 0; retry < 3; retry++) {
      expect(
        strategy.scheduleRetry(token, RetryErrorType.SERVER_ERROR, (error) => {
          expect(error).to.equal(null);
          firedAt.push(loop.now());
        }),
      ).to.equal(null);
      deadlines.push(loop.nextDeadline);
      loop.advance(token.lastDelayMs - 1);
      expect(firedAt).to.have.length(retry);
      loop.advance(1);
    }
    // Full jitter: 0.5×100, 0.25×200, 0.75×400 → fired at 50, 100, 400.
    expect(deadlines).to.deep.equal([50, 100, 400]);
    expect(firedAt).to.deep.equal([50, 100, 400]);
    const refusal = strategy.scheduleRetry(token, RetryErrorType.SERVER_ERROR, () => undefined);
    expect(refusal?.code).to.equal(RetryErrors.MAX_RETRIES_EXCEEDED.code);
  });

  it('never retries client errors', () => {
    const strategy = new ExponentialBackoffRetryStrategy({ loop: new VirtualEventLoop() });
    const refusal = strategy.scheduleRetry(strategy.acquireToken(), RetryErrorType.CLIENT_ERROR, () => undefined);
    expect(refusal?.code).to.equal(RetryErrors.NOT_RETRYABLE.code);
  });

  it('cancels a waiting retry when its token is released', () => {
    const loop = new VirtualEventLoop();
    const strategy = new ExponentialBackoffRetryStrategy({ loop, jitter: JitterMode.NONE });
    const token = strategy.acquireToken();
    const outcomes: (string | null)[] = [];
    strategy.scheduleRetry(token, RetryErrorType.TRANSIENT, (error) => outcomes.push(error?.code ?? null));
    strategy.releaseToken(token);
    expect(outcomes).to.deep.equal([RetryErrors.CANCELED.code]);
    expect(loop.nextDeadline).to.equal(undefined);
  });
});

describe('StandardRetryStrategy', () => {
  it('drains the partition bucket by the retry cost (more for timeouts) and refuses when it cannot pay', () => {
    const loop = new VirtualEventLoop();
    const strategy = new StandardRetryStrategy({
      loop,
      initialBucketCapacity: 20,
      retryCost: 5,
      timeoutRetryCost: 10,
      jitter: JitterMode.NONE,
    });
    const noop = (): void => undefined;
    expect(strategy.scheduleRetry(strategy.acquireToken('svc'), RetryErrorType.THROTTLING, noop)).to.equal(null);
    expect(strategy.availableTokens('svc')).to.equal(15);
    expect(strategy.scheduleRetry(strategy.acquireToken('svc'), RetryErrorType.TRANSIENT, noop, true)).to.equal(null);
    expect(strategy.availableTokens('svc')).to.equal(5);
    expect(strategy.scheduleRetry(strategy.acquireToken('svc'), RetryErrorType.SERVER_ERROR, noop)).to.equal(null);
    expect(strategy.availableTokens('svc')).to.equal(0);
    const refusal = strategy.scheduleRetry(strategy.acquireToken('svc'), RetryErrorType.SERVER_ERROR, noop);
    expect(refusal?.code).to.equal(RetryErrors.QUOTA_EXCEEDED.code);
    // Partitions have their own buckets.
    expect(strategy.availableTokens('other')).to.equal(20);
    expect(strategy.scheduleRetry(strategy.acquireToken('other'), RetryErrorType.SERVER_ERROR, noop)).to.equal(null);
  });

  it('refunds the retry cost on success, credits first-try successes, and never exceeds the capacity', () => {
    const loop = new VirtualEventLoop();
    const strategy = new StandardRetryStrategy({
      loop,
      initialBucketCapacity: 20,
      retryCost: 5,
      noRetryIncrement: 1,
      jitter: JitterMode.NONE,
    });
    const retried = strategy.acquireToken('svc');
    strategy.scheduleRetry(retried, RetryErrorType.THROTTLING, () => undefined);
    strategy.scheduleRetry(strategy.acquireToken('svc'), RetryErrorType.THROTTLING, () => undefined);
    expect(strategy.availableTokens('svc')).to.equal(10);
    loop.advance(1000);
    strategy.recordSuccess(retried);
    expect(strategy.availableTokens('svc')).to.equal(15);
    strategy.recordSuccess(strategy.acquireToken('svc'));
    expect(strategy.availableTokens('svc')).to.equal(16);
    for (let i = 0; i < 10; i++) strategy.recordSuccess(strategy.acquireToken('svc'));
    expect(strategy.availableTokens('svc')).to.equal(20);
  });
});
