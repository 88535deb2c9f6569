/**
 * The TLS tests' certificate fixtures (the application end, waiting and hashing helpers are in
 * `tests/support/`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/tests/handlers/tls → the source fixtures folder (fixtures are not copied by tsc).
const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../tests/fixtures/tls');

/** Reads one PEM fixture from tests/fixtures/tls. */
export function fixture(name: string): Buffer {
  return readFileSync(path.join(fixturesDir, name));
}

/** The fixture set, loaded once. */
export const pem = {
  ca: fixture('ca-cert.pem'),
  serverCert: fixture('server-cert.pem'),
  serverKey: fixture('server-key.pem'),
  otherServerCert: fixture('other-server-cert.pem'),
  otherServerKey: fixture('other-server-key.pem'),
  clientCert: fixture('client-cert.pem'),
  clientKey: fixture('client-key.pem'),
  otherClientCert: fixture('other-client-cert.pem'),
  otherClientKey: fixture('other-client-key.pem'),
};
