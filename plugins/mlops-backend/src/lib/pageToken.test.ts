import { InputError } from '@backstage/errors';
import { decodePageToken, encodePageToken } from './pageToken';

describe('page tokens', () => {
  it('round-trip an offset', () => {
    expect(decodePageToken(encodePageToken(40))).toBe(40);
    expect(decodePageToken(encodePageToken(1234))).toBe(1234);
    expect(decodePageToken(undefined)).toBe(0);
    expect(decodePageToken('')).toBe(0);
  });

  it('refuse anything else', () => {
    for (const token of [
      'garbage',
      '%%%',
      encodePageToken(-1),
      Buffer.from('{"offset":"3"}').toString('base64url'),
    ]) {
      expect(() => decodePageToken(token)).toThrow(InputError);
      expect(() => decodePageToken(token)).toThrow(
        `Invalid page token '${token}'`,
      );
    }
  });
});
