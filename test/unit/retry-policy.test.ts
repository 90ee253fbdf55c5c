import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/errors.ts';
import { type FailedAttempt, QUICK_CLOSE_MS, type RetryAction, retryDecision } from '../../src/proxy/retry-policy.ts';
import { type AttemptReport, toUpstreamError } from '../../src/proxy/upstream-client.ts';

// DESIGN §6's table, every row against both columns, plus the cases the
// prose under it adds (a body byte sent, the one resend, a held request,
// and whether the one resend's first copy can have been read).

type Column = { name: string; attempt: Pick<FailedAttempt, 'method' | 'hasBody' | 'bodyStarted' | 'upgrade'> };

const bodyless: Column[] = [
  { name: 'GET', attempt: { method: 'GET', hasBody: false, bodyStarted: false, upgrade: false } },
  { name: 'HEAD', attempt: { method: 'HEAD', hasBody: false, bodyStarted: false, upgrade: false } },
  { name: 'OPTIONS', attempt: { method: 'OPTIONS', hasBody: false, bodyStarted: false, upgrade: false } },
  { name: 'lower-case get', attempt: { method: 'get', hasBody: false, bodyStarted: false, upgrade: false } },
  { name: 'WebSocket upgrade', attempt: { method: 'GET', hasBody: false, bodyStarted: false, upgrade: true } },
];
const unread: Column[] = [
  { name: 'POST with an unread body', attempt: { method: 'POST', hasBody: true, bodyStarted: false, upgrade: false } },
  { name: 'GET with an unread body', attempt: { method: 'GET', hasBody: true, bodyStarted: false, upgrade: false } },
  { name: 'DELETE without a body', attempt: { method: 'DELETE', hasBody: false, bodyStarted: false, upgrade: false } },
  { name: 'POST without a body', attempt: { method: 'POST', hasBody: false, bodyStarted: false, upgrade: false } },
  { name: 'PROPFIND without a body', attempt: { method: 'PROPFIND', hasBody: false, bodyStarted: false, upgrade: false } },
];
const started: Column[] = [
  { name: 'POST with a body partly sent', attempt: { method: 'POST', hasBody: true, bodyStarted: true, upgrade: false } },
  { name: 'PUT with a body partly sent', attempt: { method: 'PUT', hasBody: true, bodyStarted: true, upgrade: false } },
];

const quick = { heldMs: 1, resent: false };
const held = { heldMs: QUICK_CLOSE_MS + 250, resent: false };

type Extra = Pick<FailedAttempt, 'heldMs' | 'resent' | 'firstCopyHeldMs'>;

/** The one resend, after a first copy whose pooled connection failed at once (never read) or after holding it. */
const afterUnreadCopy = { resent: true, firstCopyHeldMs: 2 };
const afterHeldCopy = { resent: true, firstCopyHeldMs: QUICK_CLOSE_MS + 250 };

const rows: Array<{ row: string; failure: FailedAttempt['failure']; extra: Extra; expect: [Column[], RetryAction][] }> = [
  {
    row: 'connection refused',
    failure: 'refused',
    extra: quick,
    expect: [
      [bodyless, 'wait-and-resend'],
      [unread, 'wait-and-resend'],
      [started, 'fail-502'],
    ],
  },
  {
    row: 'a reused keep-alive connection was closed or reset',
    failure: 'closed-reused',
    extra: quick,
    expect: [
      [bodyless, 'resend-now-fresh-connection'],
      [unread, 'fail-502'],
      [started, 'fail-502'],
    ],
  },
  {
    // The table's left column: "send again at once on a fresh connection (once)", however long the upstream had it.
    row: 'a reused keep-alive connection was closed after holding the request',
    failure: 'closed-reused',
    extra: held,
    expect: [
      [bodyless, 'resend-now-fresh-connection'],
      [unread, 'fail-502'],
      [started, 'fail-502'],
    ],
  },
  {
    row: 'a fresh connection was reset or closed at once (mid-shutdown or mid-start)',
    failure: 'closed-fresh',
    extra: quick,
    expect: [
      [bodyless, 'wait-and-resend'],
      [unread, 'fail-502'],
      [started, 'fail-502'],
    ],
  },
  {
    row: 'a fresh connection was closed after the upstream held the request (read it)',
    failure: 'closed-fresh',
    extra: held,
    expect: [
      [bodyless, 'fail-502'],
      [unread, 'fail-502'],
      [started, 'fail-502'],
    ],
  },
  {
    row: 'the upstream stopped answering mid-response',
    failure: 'mid-response',
    extra: quick,
    expect: [
      [bodyless, 'abort-response'],
      [unread, 'abort-response'],
      [started, 'abort-response'],
    ],
  },
  {
    row: 'the one resend on a fresh connection was refused, the first copy held by the upstream',
    failure: 'refused',
    extra: { heldMs: 0, ...afterHeldCopy },
    expect: [
      [bodyless, 'fail-502'],
      [unread, 'fail-502'],
    ],
  },
  {
    row: 'the one resend on a fresh connection was refused, how long the first copy was held not known',
    failure: 'refused',
    extra: { heldMs: 0, resent: true },
    expect: [
      [bodyless, 'fail-502'],
      [unread, 'fail-502'],
    ],
  },
  {
    // An upstream shutting down: its idle connection closed as the request crossed it, then nothing listens.
    row: 'the one resend on a fresh connection was refused, the first copy lost unread on a closed pooled connection',
    failure: 'refused',
    extra: { heldMs: 0, ...afterUnreadCopy },
    expect: [
      [bodyless, 'wait-and-resend'],
      [unread, 'fail-502'],
    ],
  },
  {
    row: 'the one resend on a fresh connection was closed at once, the first copy held by the upstream',
    failure: 'closed-fresh',
    extra: { heldMs: 1, ...afterHeldCopy },
    expect: [
      [bodyless, 'fail-502'],
      [unread, 'fail-502'],
    ],
  },
  {
    row: 'the one resend on a fresh connection was closed at once, how long the first copy was held not known',
    failure: 'closed-fresh',
    extra: { heldMs: 1, resent: true },
    expect: [[bodyless, 'fail-502']],
  },
  {
    // uvicorn on SIGTERM: idle connections closed (the first copy crossed that close), new ones accepted and reset.
    row: 'the one resend on a fresh connection was closed at once, the first copy lost unread on a closed pooled connection',
    failure: 'closed-fresh',
    extra: { heldMs: 1, ...afterUnreadCopy },
    expect: [
      [bodyless, 'wait-and-resend'],
      [unread, 'fail-502'],
    ],
  },
  {
    row: 'the one resend on a fresh connection was closed after the upstream held it, the first copy lost unread',
    failure: 'closed-fresh',
    extra: { heldMs: QUICK_CLOSE_MS + 250, ...afterUnreadCopy },
    expect: [[bodyless, 'fail-502']],
  },
  {
    row: 'the one resend was itself on a reused connection and closed',
    failure: 'closed-reused',
    extra: { heldMs: 1, ...afterUnreadCopy },
    expect: [[bodyless, 'fail-502']],
  },
];

describe('retry policy (DESIGN §6)', () => {
  for (const { row, failure, extra, expect: columns } of rows) {
    describe(row, () => {
      for (const [column, action] of columns) {
        for (const { name, attempt } of column) {
          it(`${name} → ${action}`, () => {
            expect(retryDecision({ failure, ...attempt, ...extra })).toBe(action);
          });
        }
      }
    });
  }

  it('draws the quick-close line at QUICK_CLOSE_MS', () => {
    const get = { method: 'GET', hasBody: false, bodyStarted: false, upgrade: false, resent: false, failure: 'closed-fresh' as const };
    expect(retryDecision({ ...get, heldMs: QUICK_CLOSE_MS })).toBe('wait-and-resend');
    expect(retryDecision({ ...get, heldMs: QUICK_CLOSE_MS + 1 })).toBe('fail-502');
  });

  it('draws the same line for the first copy of the one resend', () => {
    const resend = { method: 'GET', hasBody: false, bodyStarted: false, upgrade: false, resent: true, heldMs: 0 };
    for (const failure of ['refused', 'closed-fresh'] as const) {
      expect(retryDecision({ ...resend, failure, firstCopyHeldMs: QUICK_CLOSE_MS })).toBe('wait-and-resend');
      expect(retryDecision({ ...resend, failure, firstCopyHeldMs: QUICK_CLOSE_MS + 1 })).toBe('fail-502');
    }
  });
});

describe('toUpstreamError: a client report becomes the policy verdict on the error', () => {
  const report: AttemptReport = { method: 'GET', hasBody: false, bodyStarted: false, upgrade: false, reused: false, heldMs: 1, resent: false };
  const failure = (code: string) => Object.assign(new Error(`connect ${code}`), { code });
  const cases: Array<{ name: string; error: Error; attempt: AttemptReport; code: string; retry: RetryAction; resent: boolean }> = [
    { name: 'a quick refusal', error: failure('ECONNREFUSED'), attempt: report, code: 'refused', retry: 'wait-and-resend', resent: false },
    {
      name: "a refusal long after the request went out (a runtime's own resend)",
      error: failure('ECONNREFUSED'),
      attempt: { ...report, heldMs: QUICK_CLOSE_MS + 100 },
      code: 'refused',
      retry: 'fail-502',
      resent: true,
    },
    { name: 'a reset on a pooled connection', error: failure('ECONNRESET'), attempt: { ...report, reused: true }, code: 'reset', retry: 'resend-now-fresh-connection', resent: false },
    { name: 'a reset on a fresh connection at once', error: failure('ECONNRESET'), attempt: report, code: 'reset', retry: 'wait-and-resend', resent: false },
    { name: 'a POST reset on a fresh connection', error: failure('ECONNRESET'), attempt: { ...report, method: 'POST', hasBody: true, bodyStarted: true }, code: 'reset', retry: 'fail-502', resent: false },
    {
      name: 'a reset of the one resend after the pooled first copy failed at once',
      error: failure('ECONNRESET'),
      attempt: { ...report, resent: true, firstCopyHeldMs: 3 },
      code: 'reset',
      retry: 'wait-and-resend',
      resent: true,
    },
    {
      name: 'a refusal of the one resend after the pooled first copy failed at once',
      error: failure('ECONNREFUSED'),
      attempt: { ...report, heldMs: 0, resent: true, firstCopyHeldMs: 3 },
      code: 'refused',
      retry: 'wait-and-resend',
      resent: true,
    },
    {
      name: 'a refusal of the one resend after the upstream held the first copy',
      error: failure('ECONNREFUSED'),
      attempt: { ...report, heldMs: 0, resent: true, firstCopyHeldMs: QUICK_CLOSE_MS + 100 },
      code: 'refused',
      retry: 'fail-502',
      resent: true,
    },
    { name: 'a timeout', error: failure('ETIMEDOUT'), attempt: report, code: 'timeout', retry: 'fail-502', resent: false },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.code}, ${c.retry}`, () => {
      const error = toUpstreamError(c.error, 'http://127.0.0.1:8000/ping', c.attempt);
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error).toMatchObject({ code: c.code, retry: c.retry, resent: c.resent });
    });
  }

  it('passes aborts through untouched', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(toUpstreamError(abort, 'http://127.0.0.1:8000/', report)).toBe(abort);
  });
});
