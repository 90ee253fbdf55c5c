import type { Logger } from '../log/logger.ts';
import type { Gate } from '../log/request-log.ts';
import { jsonAnswer } from '../ui/error-response.ts';
import { checkRequest, type GuardVerdict, type HostPolicy } from './host-guard.ts';

// DESIGN §7 as the request log's gate: unknown Host names and cross-site
// WebSockets are answered here, with what to change, and logged as blocked.

export function hostGate(policy: HostPolicy, logger: Logger): Gate {
  return (req, path) => {
    const verdict = checkRequest(req.headers, req.headers.get('upgrade')?.toLowerCase() === 'websocket', policy);
    return verdict.ok ? undefined : blocked(req, path, verdict, logger);
  };
}

function blocked(req: Request, path: string, verdict: Exclude<GuardVerdict, { ok: true }>, logger: Logger): Response {
  logger.warn('blocked', `blocked ${req.method} ${path}: ${verdict.reason}`);
  if (req.headers.get('accept')?.includes('text/html')) {
    const text = `${verdict.status === 403 ? 'Forbidden' : 'Bad request'}: ${verdict.reason}.\nTo fix: ${verdict.hint}.\n`;
    return new Response(text, { status: verdict.status, headers: { 'content-type': 'text/plain; charset=UTF-8' } });
  }
  return jsonAnswer({ error: verdict.reason, hint: verdict.hint }, verdict.status);
}
