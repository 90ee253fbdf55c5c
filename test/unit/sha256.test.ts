import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../src/demo/sha256.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('streaming SHA-256', () => {
  // FIPS 180-4 examples (NIST CSRC "SHA256.pdf") and the empty string.
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('hashes %j to the known vector', (input, expected) => {
    expect(new Sha256().update(text(input)).hex()).toBe(expected);
  });

  it('hashes one million "a" fed in odd-sized chunks', () => {
    const hash = new Sha256();
    const chunk = text('a'.repeat(997));
    let left = 1_000_000;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      hash.update(chunk.subarray(0, n));
      left -= n;
    }
    expect(hash.hex()).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('matches node:crypto for every length around the block and padding edges', () => {
    const data = randomBytes(300);
    for (let n = 0; n <= 200; n++) {
      const slice = data.subarray(0, n);
      expect(new Sha256().update(slice).hex(), `length ${n}`).toBe(createHash('sha256').update(slice).digest('hex'));
    }
  });

  it('matches node:crypto on 3 MB split at random points', () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const hash = new Sha256();
    let at = 0;
    while (at < data.length) {
      const n = Math.min(data.length - at, 1 + Math.floor(Math.random() * 70_000));
      hash.update(data.subarray(at, at + n));
      at += n;
    }
    expect(hash.hex()).toBe(createHash('sha256').update(data).digest('hex'));
  });
});
