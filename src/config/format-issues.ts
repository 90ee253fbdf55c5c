import type * as v from 'valibot';
import { DEV_KEYS, PROXY_KEYS, ROUTE_KEYS, TOP_LEVEL_KEYS } from './schema.ts';

// valibot issues → one line per problem: the key path, the bad value, what
// was expected, and where the value came from (DESIGN §2).

const FRIENDLY: Record<string, string> = {
  boolean: 'true or false (env: 1/0/true/false/yes/no/on/off)',
  number: 'a number',
  string: 'a string',
  Array: 'a list',
  Object: 'an object',
};

export function formatIssues(
  issues: readonly v.BaseIssue<unknown>[],
  origin: Map<string, string>,
): string[] {
  return issues.map((issue) => formatIssue(issue, origin));
}

function formatIssue(issue: v.BaseIssue<unknown>, origin: Map<string, string>): string {
  const keys = (issue.path ?? []).map((p) => String(p.key));
  const path = dotted(keys);
  const where = originOf(keys, origin);
  if (issue.type === 'strict_object' && issue.input !== undefined) {
    const unknown = keys[keys.length - 1] ?? '';
    const near = didYouMean(unknown, knownKeysAt(keys.slice(0, -1)));
    const hint = near ? ` (did you mean "${dotted([...keys.slice(0, -1), near])}"?)` : '';
    return `unknown key "${path}"${where}${hint}`;
  }
  return `${path || 'config'} must be ${expected(issue)} (got ${show(issue.input)})${where}`;
}

function expected(issue: v.BaseIssue<unknown>): string {
  // Our schema passes a human message for every check; valibot's own default
  // messages start with "Invalid", and then `expected` is the better text.
  if (!issue.message.startsWith('Invalid')) return issue.message;
  const raw = issue.expected ?? 'a valid value';
  return FRIENDLY[raw] ?? raw;
}

function dotted(keys: string[]): string {
  return keys.map((k, i) => (/^\d+$/.test(k) ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** The most specific recorded source for this key path, e.g. ` in rxroute.json`. */
function originOf(keys: string[], origin: Map<string, string>): string {
  for (let n = keys.length; n > 0; n--) {
    const found = origin.get(keys.slice(0, n).join('.'));
    if (found) return ` ${found}`;
  }
  return '';
}

function knownKeysAt(parent: string[]): string[] {
  if (parent.length === 0) return TOP_LEVEL_KEYS;
  if (parent[0] === 'proxy') return PROXY_KEYS;
  if (parent[0] === 'dev' && parent.length === 1) return DEV_KEYS;
  if (parent[0] === 'routes') return ROUTE_KEYS;
  return [];
}

export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The closest known key within edit distance 2, a swapped pair counting as one (or a case/underscore variant). */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = norm(c) === norm(input) ? 0 : editDistance(input.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

// Optimal string alignment distance: Levenshtein plus a swap of two adjacent
// letters as one edit, the most common typo ("porxy" is one edit from
// "proxy" and two from "port").
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row[j] = d;
    }
    [before, prev] = [prev, row];
  }
  return prev[b.length]!;
}
