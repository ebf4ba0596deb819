import { InputError } from '@backstage/errors';
import { parseVersion, tryParseVersion, versionSchema } from './version';

describe('parseVersion', () => {
  it('reads positive integers and their digits', () => {
    expect(parseVersion(3)).toBe(3);
    expect(parseVersion('12')).toBe(12);
    expect(parseVersion(' 7 ')).toBe(7);
  });

  it.each([
    [0, '0'],
    [-1, '-1'],
    [1.5, '1.5'],
    ['latest', '"latest"'],
    ['', '""'],
    ['1e3', '"1e3"'],
    [null, 'null'],
    [undefined, 'nothing'],
    [{}, 'an object'],
  ])('refuses %j', (value, shown) => {
    expect(() => parseVersion(value)).toThrow(InputError);
    expect(() => parseVersion(value)).toThrow(
      `Invalid model version ${shown}: it must be a positive integer`,
    );
    expect(tryParseVersion(value)).toBeUndefined();
  });

  it('is a zod field', () => {
    expect(versionSchema.parse('4')).toBe(4);
    const result = versionSchema.safeParse('v4');
    expect(result.success).toBe(false);
    expect(!result.success && result.error.issues[0].message).toBe(
      'must be a positive integer, got "v4"',
    );
  });
});
