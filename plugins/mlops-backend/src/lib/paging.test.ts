import { InputError } from '@backstage/errors';
import { encodePageToken } from './pageToken';
import { readPage } from './paging';

const rows = Array.from({ length: 7 }, (_, i) => i);
const fetchRows = jest.fn(async (offset: number, limit: number | undefined) =>
  rows.slice(offset, limit === undefined ? undefined : offset + limit),
);

describe('readPage', () => {
  beforeEach(() => fetchRows.mockClear());

  it('pages through the rows with tokens, asking one row more than the page', async () => {
    const first = await readPage(undefined, 3, fetchRows);
    expect(first.items).toEqual([0, 1, 2]);
    expect(fetchRows).toHaveBeenLastCalledWith(0, 4);
    const second = await readPage(first.nextPageToken, 3, fetchRows);
    expect(second.items).toEqual([3, 4, 5]);
    const third = await readPage(second.nextPageToken, 3, fetchRows);
    expect(third).toEqual({ items: [6] });
  });

  it('gives no token when the page ends exactly at the last row', async () => {
    expect(await readPage(encodePageToken(4), 3, fetchRows)).toEqual({
      items: [4, 5, 6],
    });
  });

  it('reads every remaining row without a limit', async () => {
    expect(await readPage(encodePageToken(5), undefined, fetchRows)).toEqual({
      items: [5, 6],
    });
    expect(fetchRows).toHaveBeenLastCalledWith(5, undefined);
  });

  it('refuses a bad token before fetching', async () => {
    await expect(readPage('garbage', 3, fetchRows)).rejects.toThrow(InputError);
    expect(fetchRows).not.toHaveBeenCalled();
  });
});
