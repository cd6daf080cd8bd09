/**
 * Exit codes and the error that carries one. etcdctl exits 1 on a failed request, 2 on a bad
 * connection, 3 on invalid input, 4 on an unsupported feature (e.g. `-w table` for `get`),
 * 5 when interrupted, 6 on an I/O error and 128 on bad arguments; cairnctl keeps those numbers
 * so scripts that test `$?` keep working.
 *
 * Must never: print anything itself; main.ts prints `Error: <message>` once.
 */

export const ExitCode = {
  Success: 0,
  Error: 1,
  BadConnection: 2,
  InvalidInput: 3,
  BadFeature: 4,
  Interrupted: 5,
  IO: 6,
  BadArgs: 128,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure that ends the command with `Error: <message>` on stderr and `code` as exit status. */
export class CliExit extends Error {
  readonly code: number;
  /** When true, print usage of the current command on stdout before the error (bad flags). */
  readonly showUsage: boolean;
  constructor(code: number, message: string, showUsage = false) {
    super(message);
    this.name = 'CliExit';
    this.code = code;
    this.showUsage = showUsage;
  }
}

export function badArgs(message: string): CliExit {
  return new CliExit(ExitCode.BadArgs, message);
}

export function invalidInput(message: string): CliExit {
  return new CliExit(ExitCode.InvalidInput, message);
}
