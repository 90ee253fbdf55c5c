import type { RetryAction } from './proxy/retry-policy.ts';

// The few error classes rxroute has. Each carries a `code`; the ones that
// can become an HTTP response carry a `status`. CLI errors carry an exit code
// and a hint so `rxroute: error: …` output is one place (cli/run.ts).

/** A user mistake in argv, env or the config file: exit 2, never a stack trace. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly code = 'CONFIG';
  readonly exitCode = 2;
  constructor(
    readonly problems: string[],
    readonly hint = 'fix the values above; `rxroute --help` lists every option',
  ) {
    super(problems.join('\n'));
  }
}

/** Something went wrong at run time that the user can fix (port taken): exit 1. */
export class RuntimeFailure extends Error {
  override name = 'RuntimeFailure';
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly code: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type UpstreamFailure = 'refused' | 'timeout' | 'reset';

/**
 * The upstream could not be reached or broke the connection. Adapters' upstream
 * clients throw this so the core never parses runtime-specific error codes.
 */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  /** What the retry policy (proxy/retry-policy.ts) said to do about it. */
  readonly retry: RetryAction;
  /** The request's copy went out once before on a connection that broke. */
  readonly resent: boolean;
  constructor(
    readonly code: UpstreamFailure,
    message: string,
    options?: { cause?: unknown; retry?: RetryAction; resent?: boolean },
  ) {
    super(message, options);
    this.retry = options?.retry ?? 'fail-502';
    this.resent = options?.resent ?? false;
  }
  /** 504 when the upstream was too slow, 502 for every other failure (RFC 9110 §15.6). */
  get status(): 502 | 504 {
    return this.code === 'timeout' ? 504 : 502;
  }
}

/** A request rxroute will not route (CONNECT, a target that is not a path): 4xx. */
export class RequestError extends Error {
  override name = 'RequestError';
  readonly code = 'BAD_REQUEST';
  constructor(
    message: string,
    readonly status: 400 | 405 = 400,
  ) {
    super(message);
  }
}
