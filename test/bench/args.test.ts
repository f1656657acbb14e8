/** The bench scripts' flag parsing: values, defaults, and errors that name the flag and what was wrong. */
import { afterEach, describe, expect, it } from 'vitest';
import { checkFlags, integer, integerList, positiveInt } from '../../bench/args.js';

const argv = process.argv;
const withArgs = (...args: string[]) => (process.argv = ['node', 'script', ...args]);
afterEach(() => {
  process.argv = argv;
});

describe('bench flags', () => {
  it('reads integers and lists, and falls back when a flag is absent', () => {
    withArgs('--seed', '0', '--seeds', '1,2,3', '--steps', '20');
    expect(integer('seed', 5, 0)).toBe(0);
    expect(integerList('seeds', [9], 0)).toEqual([1, 2, 3]);
    expect(positiveInt('steps', 1)).toBe(20);
    expect(positiveInt('every', 500)).toBe(500);
    expect(integerList('other', [4, 5], 0)).toEqual([4, 5]);
  });

  it('rejects bad values, naming the flag and the value', () => {
    withArgs('--seed', 'abc', '--steps', '0', '--seeds', '1,,3', '--bad', '2.5');
    expect(() => integer('seed', 1, 0)).toThrow('--seed must be an integer >= 0, got "abc"');
    expect(() => positiveInt('steps', 1)).toThrow('--steps must be an integer >= 1, got "0"');
    expect(() => integerList('seeds', [1], 0)).toThrow('--seeds must be a comma-separated list of integers >= 0, got "" in 1,,3');
    expect(() => integerList('bad', [1], 0)).toThrow('got "2.5"');
    withArgs('--seed', '', '--steps', ' ');
    expect(() => integer('seed', 1, 0)).toThrow('--seed must be an integer >= 0, got ""');
    expect(() => positiveInt('steps', 1)).toThrow('--steps must be an integer >= 1, got " "');
  });

  it('rejects an unknown flag, naming the known ones', () => {
    withArgs('--steps', '3', '--stpes', '4');
    expect(() => checkFlags(['steps', 'every'])).toThrow('unknown option --stpes; the options are --steps, --every');
    withArgs('--steps', '3');
    expect(() => checkFlags(['steps'])).not.toThrow();
  });
});
