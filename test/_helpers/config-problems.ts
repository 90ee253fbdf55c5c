import { ConfigError } from '../../src/errors.ts';

/** The problem lines of the ConfigError `fn` throws; fails the test if it throws nothing or something else. */
export function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
