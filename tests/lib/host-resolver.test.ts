import { expect } from 'chai';
import { IoErrors, SluiceError, VirtualEventLoop } from '../../lib/index.js';
import { HostResolver, dnsLookup, type HostAddress } from '../../lib/host-resolver.js';

const A: HostAddress = { address: '10.0.0.1', family: 4 };
const B: HostAddress = { address: '10.0.0.2', family: 4 };
const C: HostAddress = { address: 'fd00::3', family: 6 };

function fixture(addresses: readonly HostAddress[] = [A, B, C]): {
  loop: VirtualEventLoop;
  resolver: HostResolver;
  calls: string[];
} {
  const loop = new VirtualEventLoop();
  const calls: string[] = [];
  const resolver = new HostResolver({
    clock: loop.clock,
    defaultTtlMs: 1000,
    lookup: (host) => {
      calls.push(host);
      return Promise.resolve(addresses);
    },
  });
  return { loop, resolver, calls };
}

const names = (list: readonly HostAddress[]): string[] => list.map((entry) => entry.address);

describe('HostResolver', () => {
  it('caches an answer for the TTL on the loop clock, then looks it up again', async () => {
    const { loop, resolver, calls } = fixture();
    await resolver.resolve('api.test');
    loop.advance(999);
    await resolver.resolve('api.test');
    expect(calls).to.deep.equal(['api.test']);
    loop.advance(1);
    await resolver.resolve('api.test');
    expect(calls).to.deep.equal(['api.test', 'api.test']);
    expect(resolver.lookups).to.equal(2);
  });

  it('returns both families and rotates the first address on each call', async () => {
    const { resolver } = fixture();
    expect(names(await resolver.resolve('api.test'))).to.deep.equal(['10.0.0.1', '10.0.0.2', 'fd00::3']);
    expect(names(await resolver.resolve('api.test'))).to.deep.equal(['10.0.0.2', 'fd00::3', '10.0.0.1']);
    expect((await resolver.resolveOne('api.test')).family).to.equal(6);
  });

  it('puts a failed address last until it succeeds again', async () => {
    const { resolver } = fixture();
    await resolver.resolve('api.test');
    resolver.recordConnectionFailure('api.test', '10.0.0.1');
    resolver.recordConnectionFailure('api.test', 'fd00::3');
    // Healthy first (only B), then the failed ones in the order they failed.
    expect(names(await resolver.resolve('api.test'))).to.deep.equal(['10.0.0.2', '10.0.0.1', 'fd00::3']);
    resolver.recordConnectionFailure('api.test', '10.0.0.1');
    expect(names(await resolver.resolve('api.test'))).to.deep.equal(['10.0.0.2', 'fd00::3', '10.0.0.1']);
    resolver.recordConnectionSuccess('api.test', 'fd00::3');
    expect(names(await resolver.resolve('api.test')).at(-1)).to.equal('10.0.0.1');
  });

  it('keeps failures across a TTL refresh', async () => {
    const { loop, resolver } = fixture();
    await resolver.resolve('api.test');
    resolver.recordConnectionFailure('api.test', '10.0.0.1');
    loop.advance(1000);
    const after = names(await resolver.resolve('api.test'));
    expect(after.at(-1)).to.equal('10.0.0.1');
    expect(resolver.lookups).to.equal(2);
  });

  it('purges one host or all', async () => {
    const { resolver, calls } = fixture();
    await resolver.resolve('a.test');
    await resolver.resolve('b.test');
    resolver.purge('a.test');
    await resolver.resolve('a.test');
    await resolver.resolve('b.test');
    expect(calls).to.deep.equal(['a.test', 'b.test', 'a.test']);
    resolver.purge();
    expect(resolver.cachedHostCount).to.equal(0);
  });

  it('shares one lookup between concurrent resolutions', async () => {
    const { resolver, calls } = fixture();
    await Promise.all([resolver.resolve('api.test'), resolver.resolve('api.test'), resolver.resolve('api.test')]);
    expect(calls).to.have.length(1);
  });

  it('resolves IP literals without a lookup', async () => {
    const { resolver, calls } = fixture();
    expect(await resolver.resolve('127.0.0.1')).to.deep.equal([{ address: '127.0.0.1', family: 4 }]);
    expect(await resolver.resolve('::1')).to.deep.equal([{ address: '::1', family: 6 }]);
    expect(calls).to.have.length(0);
  });

  it('fails with IO_DNS_FAILURE when the host has no address', async () => {
    const { resolver } = fixture([]);
    const error = await resolver.resolve('none.test').then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).to.be.instanceOf(SluiceError);
    expect((error as SluiceError).code).to.equal(IoErrors.DNS_FAILURE.code);
  });

  it('resolves localhost with the real dns.lookup', async () => {
    const addresses = await new HostResolver().resolve('localhost');
    expect(addresses.length).to.be.greaterThan(0);
    for (const entry of addresses) expect(['127.0.0.1', '::1']).to.include(entry.address);
  });
});

describe('dnsLookup', () => {
  it('refuses a host that is not a non-empty string, or a family not 0, 4 or 6, before asking the resolver', async () => {
    const bad: [unknown, unknown][] = [
      [undefined, 0],
      [42, 0],
      ['', 4],
      ['localhost', 5],
      ['localhost', '4'],
    ];
    for (const [host, family] of bad) {
      const failure = await dnsLookup(host as string, family as 0).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failure, `${String(host)}, ${String(family)}`).to.be.instanceOf(SluiceError);
      expect((failure as SluiceError).code).to.equal(IoErrors.INVALID_OPTIONS.code);
    }
  });

  it('still resolves localhost (the checks let a good name through)', async () => {
    const addresses = await dnsLookup('localhost', 4);
    expect(addresses.map((a) => a.address)).to.include('127.0.0.1');
  });
});
