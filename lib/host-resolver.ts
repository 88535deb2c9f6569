/**
 * The host resolver: host names to addresses, with a small TTL cache, rotation across the
 * addresses of a host and memory of addresses that failed to connect.
 *
 * @module
 */
import dns from 'node:dns';
import net from 'node:net';
import { systemClock, type Clock } from './clock.js';
import { IoErrors, SluiceError } from './errors.js';
import { checkArgument, checkOptionalOptions } from './argument-checks.js';
import { fromNodeSocketError } from './socket-errors.js';

/** An IP address family: 4 or 6. */
export type HostAddressFamily = 4 | 6;

/** HostAddress is one address of a host, as the resolver hands it out. */
export interface HostAddress {
  /** The IP address, e.g. `127.0.0.1` or `::1`. */
  readonly address: string;
  /** Its family. */
  readonly family: HostAddressFamily;
}

/**
 * HostLookup resolves a host name to every address it has (both families unless the resolver
 * asks for one). The default is {@link dnsLookup}; tests inject their own.
 */
export type HostLookup = (host: string, family: 0 | 4 | 6) => Promise<readonly HostAddress[]>;

/**
 * dnsLookup is the default {@link HostLookup}: `dns.lookup` with `all: true` in the system's
 * order (`verbatim`). Failures become `IO_DNS_FAILURE` with Node's error as the cause.
 */
export const dnsLookup: HostLookup = async (host, family) => {
  checkArgument(typeof host === 'string' && host.length > 0, 'dnsLookup', 'a host name', host);
  checkArgument(family === 0 || family === 4 || family === 6, 'dnsLookup', 'family 0, 4 or 6', family);
  try {
    const results = await dns.promises.lookup(host, { all: true, family, verbatim: true });
    return results.map((result) => ({ address: result.address, family: result.family === 6 ? 6 : 4 }));
  } catch (error) {
    throw fromNodeSocketError(error);
  }
};

/** Options of a {@link HostResolver}; see {@link HOST_RESOLVER_DEFAULTS}. */
export interface HostResolverOptions {
  /** How names are looked up; {@link dnsLookup} by default. */
  lookup?: HostLookup;
  /** The clock the TTL runs on: give the event loop's (`loop.clock`) so virtual time works. */
  clock?: Clock;
  /**
   * How long a lookup's answer is kept, ms. `dns.lookup` reports no TTL, so one value serves
   * every host.
   */
  defaultTtlMs?: number;
  /** Hosts kept in the cache; the least recently resolved is dropped first. */
  maxHosts?: number;
  /** Address family to ask for: 4, 6, or 0 for both. */
  family?: 0 | 4 | 6;
}

/** Defaults of {@link HostResolverOptions}: 30 s TTL, 64 hosts, both families. */
export const HOST_RESOLVER_DEFAULTS = Object.freeze({
  /** Answers live 30 s (the AWS CRT resolver's default TTL). */
  defaultTtlMs: 30_000,
  /** 64 hosts: SDKs talk to a few. */
  maxHosts: 64,
  /** Both families. */
  family: 0,
});

/** One cached host: its addresses in lookup order, a rotation cursor and the failed ones. */
interface CachedHost {
  addresses: readonly HostAddress[];
  expiresAt: number;
  nextIndex: number;
  /** Address → order of failure (older failures first among the failed). */
  readonly failures: Map<string, number>;
}

/**
 * HostResolver turns host names into addresses for connection attempts.
 *
 * - Answers are cached for `defaultTtlMs` on the given clock; concurrent resolutions of one
 *   host share one lookup.
 * - Each `resolve` rotates the start of the healthy addresses, so connections spread over a
 *   host's addresses (both families, in lookup order).
 * - `recordConnectionFailure` moves an address behind every healthy one until
 *   `recordConnectionSuccess` reports it works again (failures survive a refresh of the entry).
 * - IP literals resolve to themselves without a lookup.
 *
 * @example
 * ```ts
 * const resolver = new HostResolver({ clock: loop.clock });
 * const [first] = await resolver.resolve('localhost');
 * ```
 */
export class HostResolver {
  private readonly lookup: HostLookup;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly maxHosts: number;
  private readonly family: 0 | 4 | 6;
  private readonly hosts = new Map<string, CachedHost>();
  private readonly inFlight = new Map<string, Promise<CachedHost>>();
  private failureSequence = 0;
  private lookupCount = 0;

  /** Creates a resolver; nothing is looked up until `resolve`. */
  constructor(options: HostResolverOptions = {}) {
    checkOptionalOptions(options, 'new HostResolver');
    this.lookup = options.lookup ?? dnsLookup;
    this.clock = options.clock ?? systemClock;
    this.ttlMs = options.defaultTtlMs ?? HOST_RESOLVER_DEFAULTS.defaultTtlMs;
    this.maxHosts = options.maxHosts ?? HOST_RESOLVER_DEFAULTS.maxHosts;
    this.family = options.family ?? HOST_RESOLVER_DEFAULTS.family;
    if (!(this.ttlMs >= 0) || !(this.maxHosts >= 1))
      throw new SluiceError(IoErrors.INVALID_OPTIONS, 'defaultTtlMs must be >= 0 and maxHosts >= 1');
  }

  /** Lookups made so far (cache misses and refreshes). */
  get lookups(): number {
    return this.lookupCount;
  }

  /** Hosts in the cache now (expired entries included until they are next asked for). */
  get cachedHostCount(): number {
    return this.hosts.size;
  }

  /**
   * Every address of `host` in the order to try them: healthy addresses rotated by one per
   * call, then failed ones (least recently failed first). Resolves from the cache while the
   * entry is fresh; rejects with `IO_DNS_FAILURE` when the lookup fails or finds nothing.
   */
  async resolve(host: string): Promise<HostAddress[]> {
    const literal = net.isIP(host);
    if (literal !== 0) return [{ address: host, family: literal === 6 ? 6 : 4 }];
    const entry = await this.entryFor(host);
    return this.ordered(entry);
  }

  /** The first address `resolve` would give: the one to connect to next. */
  async resolveOne(host: string): Promise<HostAddress> {
    const addresses = await this.resolve(host);
    return addresses[0];
  }

  /** A connection to `address` of `host` failed: it is tried after every healthy address until it succeeds again. */
  recordConnectionFailure(host: string, address: string): void {
    const entry = this.hosts.get(host);
    if (entry === undefined) return;
    entry.failures.delete(address);
    entry.failures.set(address, ++this.failureSequence);
  }

  /** A connection to `address` of `host` succeeded: it is healthy again. */
  recordConnectionSuccess(host: string, address: string): void {
    this.hosts.get(host)?.failures.delete(address);
  }

  /** Forgets `host` (or every host): the next `resolve` looks it up again. */
  purge(host?: string): void {
    if (host === undefined) this.hosts.clear();
    else this.hosts.delete(host);
  }

  private async entryFor(host: string): Promise<CachedHost> {
    const cached = this.hosts.get(host);
    if (cached !== undefined && this.clock.now() < cached.expiresAt) return cached;
    let pending = this.inFlight.get(host);
    if (pending === undefined) {
      pending = this.refresh(host, cached);
      this.inFlight.set(host, pending);
      const clear = (): void => {
        this.inFlight.delete(host);
      };
      pending.then(clear, clear);
    }
    return pending;
  }

  private async refresh(host: string, previous: CachedHost | undefined): Promise<CachedHost> {
    this.lookupCount++;
    const addresses = await this.lookup(host, this.family);
    if (addresses.length === 0)
      throw new SluiceError(IoErrors.DNS_FAILURE, `${IoErrors.DNS_FAILURE.message}: ${host} has no addresses`);
    const failures = new Map<string, number>();
    // Failures of addresses that are still there are kept: a refresh does not make them healthy.
    if (previous !== undefined) {
      for (const [address, order] of previous.failures)
        if (addresses.some((a) => a.address === address)) failures.set(address, order);
    }
    const entry: CachedHost = {
      addresses: [...addresses],
      expiresAt: this.clock.now() + this.ttlMs,
      nextIndex: 0,
      failures,
    };
    this.hosts.delete(host);
    this.hosts.set(host, entry);
    if (this.hosts.size > this.maxHosts) this.hosts.delete(this.hosts.keys().next().value!);
    return entry;
  }

  private ordered(entry: CachedHost): HostAddress[] {
    const healthy = entry.addresses.filter((candidate) => !entry.failures.has(candidate.address));
    const failed = entry.addresses
      .filter((candidate) => entry.failures.has(candidate.address))
      .sort((a, b) => entry.failures.get(a.address)! - entry.failures.get(b.address)!);
    const result: HostAddress[] = [];
    if (healthy.length > 0) {
      const start = entry.nextIndex % healthy.length;
      entry.nextIndex = (start + 1) % healthy.length;
      for (let i = 0; i < healthy.length; i++) result.push(healthy[(start + i) % healthy.length]);
    }
    for (const address of failed) result.push(address);
    return result;
  }
}
