import { describe, expect, it } from 'vitest';
import { problems } from '../_helpers/config-problems.ts';
import { didYouMean } from '../../src/config/format-issues.ts';
import { loadConfig } from '../../src/config/load.ts';
import { PROXY_KEYS, TOP_LEVEL_KEYS } from '../../src/config/schema.ts';
import { parseArgs } from '../../src/cli/args.ts';


describe('did you mean: a swapped pair of letters is one edit', () => {
  it('suggests "proxy" for "porxy", not "port" (two plain edits from both)', () => {
    expect(didYouMean('porxy', TOP_LEVEL_KEYS)).toBe('proxy');
    expect(problems(() => loadConfig({ file: { path: 'rxroute.json', data: { porxy: { server: 'http://127.0.0.1:8001' } } } }))).toEqual([
      'unknown key "porxy" in rxroute.json (did you mean "proxy"?)',
    ]);
  });

  it.each([
    ['prot', 'port'],
    ['hsot', 'host'],
    ['fronetnd', 'frontend'],
    ['backnedpath', 'backend_path'],
    ['verobse', 'verbose'],
    ['qiuet', 'quiet'],
  ])('%s → %s among the top-level keys', (typo, key) => {
    expect(didYouMean(typo, TOP_LEVEL_KEYS)).toBe(key);
  });

  // Each is a swap plus one more letter: two edits, three without the swap.
  it('counts a swap at the very start or end of the word', () => {
    expect(didYouMean('rpoxyz', ['port', 'proxy'])).toBe('proxy');
    expect(didYouMean('proyxz', ['port', 'proxy'])).toBe('proxy');
    expect(didYouMean('sevrers', PROXY_KEYS)).toBe('server');
  });

  it('still allows two edits, a swap plus one more', () => {
    expect(didYouMean('porxyy', ['proxy'])).toBe('proxy');
    expect(didYouMean('porxyyy', ['proxy'])).toBeUndefined();
  });

  it('does not treat letters moved further than one place as a swap', () => {
    // "xorpy" → "proxy" needs the p and x exchanged across two letters: more than two edits.
    expect(didYouMean('xorpy', ['proxy'])).toBeUndefined();
  });

  it('suggests nothing for an unrelated word', () => {
    expect(didYouMean('banana', TOP_LEVEL_KEYS)).toBeUndefined();
  });

  it('applies to commands and options too', () => {
    expect(problems(() => parseArgs(['dmeo']))).toEqual(['unknown command "dmeo" (did you mean "demo"?)']);
    expect(problems(() => parseArgs(['--verobse']))).toEqual(['unknown option --verobse (did you mean --verbose?)']);
  });
});
