import { describe, expect, it } from 'vitest';
import { isSupportedNode, OLDEST_NODE } from '../../src/adapters/node-version.ts';
import pkg from '../../package.json' with { type: 'json' };

describe('the oldest Node rxroute runs on', () => {
  it('is the one package.json engines names', () => {
    expect(pkg.engines.node).toBe(`>=${OLDEST_NODE}`);
  });

  it('accepts 20.18.1 and later, with or without the v', () => {
    expect(['20.18.1', 'v20.18.1', '20.18.2', '20.19.0', '20.20.2', '21.0.0', '22.3.0', '24.1.0'].map(isSupportedNode)).toEqual(Array(8).fill(true));
  });

  it('refuses anything older', () => {
    expect(['20.18.0', 'v20.17.9', '20.0.0', '19.9.0', '18.20.4', '16.0.0'].map(isSupportedNode)).toEqual(Array(6).fill(false));
  });
});
