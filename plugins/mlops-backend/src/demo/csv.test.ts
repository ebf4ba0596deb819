import { InputError } from '@backstage/errors';
import { parseCsv } from './csv';

describe('parseCsv', () => {
  it('reads a header and rows as strings', () => {
    expect(parseCsv('a,b\n1,x\n2.5,y\n')).toEqual({
      columns: ['a', 'b'],
      rows: [
        { a: '1', b: 'x' },
        { a: '2.5', b: 'y' },
      ],
    });
  });

  it('handles quotes, doubled quotes, delimiters and line breaks inside quotes, CRLF and a BOM', () => {
    const text =
      '\uFEFFname,note\r\n"Smith, J","said ""hi"""\r\n"two\nlines",""\r\n';
    expect(parseCsv(text).rows).toEqual([
      { name: 'Smith, J', note: 'said "hi"' },
      { name: 'two\nlines', note: '' },
    ]);
  });

  it('skips blank lines and reads a last line without a newline', () => {
    expect(parseCsv('a\n\n1\n\n2').rows).toEqual([{ a: '1' }, { a: '2' }]);
  });

  it('keeps empty fields', () => {
    expect(parseCsv('a,b,c\n,,\n').rows).toEqual([{ a: '', b: '', c: '' }]);
  });

  it('takes another delimiter (the UCI files use semicolons)', () => {
    expect(
      parseCsv('"fixed acidity";"quality"\n7.4;5\n', { delimiter: ';' }).rows,
    ).toEqual([{ 'fixed acidity': '7.4', quality: '5' }]);
  });

  it('rejects malformed input with the line number', () => {
    expect(() => parseCsv('')).toThrow(InputError);
    expect(() => parseCsv('a,b\n1,2\n3\n')).toThrow(
      'CSV line 3 has 1 fields, the header has 2',
    );
    expect(() => parseCsv('a,a\n1,2')).toThrow('names column "a" twice');
    expect(() => parseCsv('a,\n1,2')).toThrow('empty column name');
    expect(() => parseCsv('a\n"open')).toThrow('not closed');
    expect(() => parseCsv('a\nx"y')).toThrow('quote in the middle');
    expect(() => parseCsv('a\n"x"y')).toThrow('text after a closing quote');
  });
});
