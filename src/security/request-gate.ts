import type { Context } from 'hono';
import type { Logger } from '../log/logger.ts';
import type { Gate } from '../log/request-log.ts';
import type { RouterEnv } from '../runtime.ts';
import { checkRequest, type GuardVerdict, type HostPolicy } from './host-guard.ts';

// DESIGN §7 as the request log's gate: unknown Host names and cross-site
// WebSockets are answered here, with what to change, and logged as blocked.

export function hostGate(policy: HostPolicy, logger: Logger): Gate {
  return (c) => {
    const req = c.req.raw;
    const verdict = checkRequest(req.headers, req.headers.get('upgrade')?.toLowerCase() === 'websocket', policy);
    return verdict.ok ? undefined : blocked(c, verdict, logger);
  };
}

function blocked(c: Context<RouterEnv>, verdict: Exclude<GuardVerdict, { ok: true }>, logger: Logger): Response {
  logger.warn('blocked', `blocked ${c.req.method} ${c.req.path}: ${verdict.reason}`);
  if (c.req.header('accept')?.includes('text/html')) {
    return c.text(`${verdict.status === 403 ? 'Forbidden' : 'Bad request'}: ${verdict.reason}.\nTo fix: ${verdict.hint}.\n`, verdict.status);
  }
  return c.json({ error: verdict.reason, hint: verdict.hint }, verdict.status);
}
