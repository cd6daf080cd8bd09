/**
 * Certificates for TLS tests, made at run time with the machine's `openssl` (Node's crypto
 * makes keys but cannot sign X.509): CAs, and leaf certificates signed by one of them with a
 * chosen CN and SANs, usable as server and client certificates. Files land in a temp dir that
 * `dispose()` removes.
 *
 * Owns only the temp dir it creates.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL_TIMEOUT_MS = 20_000;

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

export interface LeafFiles {
  readonly cert: string;
  readonly key: string;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'cairn-pki-'));

  private run(...args: string[]): void {
    execFileSync('openssl', args, { cwd: this.dir, stdio: 'ignore', timeout: OPENSSL_TIMEOUT_MS });
  }

  private static readonly EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  /** A self-signed CA; returns its certificate's path. */
  ca(name: string): string {
    this.run('req', '-x509', ...TestPki.EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
    return join(this.dir, `${name}.crt`);
  }

  /** A certificate with common name `cn` signed by CA `caName`, for 127.0.0.1 and localhost
   * unless other SANs are given (openssl syntax: `DNS:x,IP:y`). */
  leaf(name: string, caName: string, cn: string = name, san = 'IP:127.0.0.1,DNS:localhost'): LeafFiles {
    writeFileSync(join(this.dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    this.run('req', ...TestPki.EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    this.run('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial',
      '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    return { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
  }

  read(path: string): Buffer {
    return readFileSync(path);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
