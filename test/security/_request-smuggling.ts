import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { singleUpstreamArgs, startRouter, type RouterProcess, type Runtime } from '../_helpers/router-process.ts';
import { exchange, healthStatus, startRecordingUpstream, statuses, type RecordingUpstream } from './_net.ts';

/**
 * HTTP request smuggling (after httpxy's request-smuggling.test.ts): a client
 * frames one request ambiguously so that a second one, hidden in what the
 * router takes for a body, could reach the upstream as a request of its own.
 * The router sits in front of a raw-TCP upstream that logs every byte and
 * frames requests itself, so a hidden request line is told apart from body
 * bytes that merely contain it.
 *
 * Passing: the runtime's parser refuses the request (4xx, or a close with no
 * answer), or the router reads it one way and forwards it re-framed, so the
 * upstream parses exactly the requests the client got answers for. Never: a
 * `/smuggled` request line parsed by the upstream behind the client's back.
 */
export function addTests(runtime: Runtime): void {
  describe(`request smuggling (${runtime})`, () => {
    let upstream: RecordingUpstream;
    let router: RouterProcess;

    beforeAll(async () => {
      upstream = await startRecordingUpstream();
      router = await startRouter(runtime, singleUpstreamArgs(upstream.url));
    }, 40_000);

    afterAll(async () => {
      await router?.stop();
      await upstream?.close();
    });

    /** Per-runtime expectation; most cases are the same everywhere. */
    type PerRuntime<T> = T | Record<Runtime, T>;
    const pick = <T>(value: PerRuntime<T>): T =>
      value !== null && typeof value === 'object' && !Array.isArray(value) && runtime in value
        ? (value as Record<Runtime, T>)[runtime]
        : (value as T);

    interface Case {
      name: string;
      /** Builds the bytes; `p` is this case's path prefix, `hidden` the request to hide. */
      bytes(p: string, hidden: string): string;
      /** Statuses the client gets, in order (`[]`: closed without an answer). */
      statuses: PerRuntime<number[]>;
      /** Request targets the upstream parses for this case, in order. */
      upstreamSees: PerRuntime<string[]>;
      /** For the one request the upstream parses: the body it must have received. */
      upstreamBody?: (hidden: string) => string;
    }

    const H = 'Host: localhost\r\n';
    const cases: Case[] = [
      {
        name: 'Content-Length and Transfer-Encoding (CL.TE)',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Content-Length: ${5 + hidden.length}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'Transfer-Encoding then Content-Length (TE.CL)',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'two differing Content-Length headers',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: ${hidden.length}\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'Content-Length as a differing list',
        bytes: (p, hidden) => `POST ${p}/a HTTP/1.1\r\n${H}Content-Length: 0, ${hidden.length}\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'Transfer-Encoding: xchunked',
        bytes: (p, hidden) => `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'Transfer-Encoding: xchunked with Content-Length',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'Transfer-Encoding with an extra space before chunked',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding:  chunked\r\nContent-Length: ${5 + hidden.length}\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'Transfer-Encoding with a tab before chunked',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding:\tchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'space between the header name and the colon',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'Transfer-Encoding: chunked, identity (chunked not last)',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        // RFC 9112 §6.3: chunked is last, so the body is chunked and what
        // follows it is the client's next pipelined request. Node's parser
        // reads it that way and rxroute answers both, in order, re-framed:
        // no desync (the upstream parses exactly the two requests the client
        // got two answers for). Bun and Deno refuse the unknown coding.
        name: 'Transfer-Encoding: identity, chunked',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: { binary: [400], deno: [400], node: [200, 200] },
        upstreamSees: { binary: [], deno: [], node: ['/a', '/smuggled'] },
      },
      {
        name: 'Transfer-Encoding folded onto a continuation line (obs-fold)',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        name: 'two Transfer-Encoding headers',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${hidden}`,
        statuses: [400],
        upstreamSees: [],
      },
      {
        // Deno's server closes the connection without answering; the others say 400.
        name: 'a negative chunk size',
        bytes: (p, hidden) => `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n-1\r\n\r\n${hidden}`,
        statuses: { binary: [400], deno: [], node: [400] },
        upstreamSees: [],
      },
      {
        // Bare LF line endings: Bun's parser answers 505 (it reads the whole
        // rest as the version), Deno and Node 400.
        name: 'bare LF line endings with CL and TE',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\nHost: localhost\nContent-Length: 0\nTransfer-Encoding: chunked\n\n0\n\n${hidden}`,
        statuses: { binary: [505], deno: [400], node: [400] },
        upstreamSees: [],
      },
      {
        // Not an attack on framing: the request is whole and honest, its body
        // merely contains a request. It must reach the upstream as body bytes.
        name: 'a request hidden in a Content-Length body',
        bytes: (p, hidden) => `POST ${p}/a HTTP/1.1\r\n${H}Content-Length: ${hidden.length}\r\n\r\n${hidden}`,
        statuses: [200],
        upstreamSees: ['/a'],
        upstreamBody: (hidden) => hidden,
      },
      {
        name: 'a request hidden in a chunked body',
        bytes: (p, hidden) =>
          `POST ${p}/a HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${hidden.length.toString(16)}\r\n${hidden}\r\n0\r\n\r\n`,
        statuses: [200],
        upstreamSees: ['/a'],
        upstreamBody: (hidden) => hidden,
      },
    ];

    describe('ambiguous framing', { concurrent: true, timeout: 10_000 }, () => {
      cases.forEach((c, i) => {
        const expectedStatuses = pick(c.statuses);
        it(`${c.name} → ${expectedStatuses.length ? expectedStatuses.join(', ') : 'closed, no answer'}`, async () => {
          const p = `/case-${i}`;
          const hidden = `GET ${p}/smuggled HTTP/1.1\r\n${H}X-Smuggled: yes\r\n\r\n`;
          // No Connection: close, so a second response would have the chance to arrive.
          const result = await exchange(router.port, c.bytes(p, hidden), { waitMs: 1_000 });
          const seen = upstream.requests().filter((r) => r.target.startsWith(`${p}/`));
          // Two requests forwarded go on two upstream connections, which
          // need not arrive in the client's order: which ones arrived counts.
          expect({
            statuses: statuses(result),
            upstreamSees: seen.map((r) => r.target.slice(p.length)).sort(),
            smuggledHeaderSeen: seen.some((r) => r.headers['x-smuggled'] !== undefined),
          }).toEqual({
            statuses: expectedStatuses,
            upstreamSees: [...pick(c.upstreamSees)].sort(),
            smuggledHeaderSeen: pick(c.upstreamSees).includes('/smuggled'),
          });
          if (c.upstreamBody) expect(seen[0]?.body.toString('latin1')).toBe(c.upstreamBody(hidden));
          expect(await healthStatus(router.port)).toBe(200);
        });
      });
    });

    it('never lets the upstream parse a /smuggled request the client did not get an answer for', () => {
      // Across every case above: each /smuggled line the upstream parsed is one
      // the expectations list (a pipelined request the router itself answered).
      const smuggled = upstream.requests().filter((r) => r.target.endsWith('/smuggled')).map((r) => r.target);
      const allowed = cases.flatMap((c, i) => pick(c.upstreamSees).filter((t) => t === '/smuggled').map(() => `/case-${i}/smuggled`));
      expect({ smuggled, unparsable: upstream.unparsable() }).toEqual({ smuggled: allowed, unparsable: [] });
    });
  });
}
