import { jsonMemberText } from './jsonMember';
import { mulberry32 } from './random';

/** JSON text of a random value, with random whitespace and tricky strings. */
function randomJson(next: () => number, depth: number): string {
  const space = () =>
    [' ', '', '\n', '\t', '\r\n  ', ''][Math.floor(next() * 6)];
  const pick = Math.floor(next() * (depth > 3 ? 4 : 7));
  switch (pick) {
    case 0:
      return String(
        [0, -1.5, 3e-7, 1e21, 7.4, -0, 123456789][Math.floor(next() * 7)],
      );
    case 1:
      return ['true', 'false', 'null'][Math.floor(next() * 3)];
    case 2:
    case 3:
      return JSON.stringify(
        ['', 'a"b', '}{][', '\\', 'inputs', 'é\u2028', '\\"inputs\\"', ','][
          Math.floor(next() * 8)
        ],
      );
    case 4:
    case 5: {
      const items = Array.from({ length: Math.floor(next() * 4) }, () =>
        randomJson(next, depth + 1),
      );
      return `[${space()}${items.join(`${space()},${space()}`)}${space()}]`;
    }
    default: {
      // Key literals: one spells "inputs" with an escape.
      const keys = [
        ...['inputs', 'id', 'outputs', 'x"y', ''].map(k => JSON.stringify(k)),
        '"in\\u0070uts"',
      ];
      const members = Array.from(
        { length: Math.floor(next() * 5) },
        () =>
          `${space()}${
            keys[Math.floor(next() * keys.length)]
          }${space()}:${space()}${randomJson(next, depth + 1)}${space()}`,
      );
      return `{${members.join(',')}${space()}}`;
    }
  }
}

describe('jsonMemberText', () => {
  it('finds a member as JSON.parse reads it, in 5,000 random objects', () => {
    // Seeded, so a failure can be replayed.
    const next = mulberry32(20261207);
    let present = 0;
    for (let k = 0; k < 5000; k++) {
      let text = randomJson(next, 0);
      while (!text.startsWith('{')) text = randomJson(next, 0);
      const parsed = JSON.parse(text);
      const found = jsonMemberText(text, 'inputs');
      if (Object.prototype.hasOwnProperty.call(parsed, 'inputs')) {
        present++;
        expect({ text, value: JSON.parse(found!) }).toEqual({
          text,
          value: parsed.inputs,
        });
      } else {
        expect({ text, found }).toEqual({ text, found: undefined });
      }
    }
    expect(present).toBeGreaterThan(500);
  });

  it('keeps the text as sent, and answers undefined for what is not an object', () => {
    const body =
      '{"id":"r1", "inputs" : [ {"name":"x","data":[7.40, 1e3]} ] ,"outputs":[]}';
    expect(jsonMemberText(body, 'inputs')).toBe(
      '[ {"name":"x","data":[7.40, 1e3]} ]',
    );
    expect(jsonMemberText('{"inputs":1,"inputs":[2]}', 'inputs')).toBe('[2]');
    expect(jsonMemberText('{}', 'inputs')).toBeUndefined();
    expect(jsonMemberText('[{"inputs":1}]', 'inputs')).toBeUndefined();
    expect(jsonMemberText('{"inputs":[1,2', 'inputs')).toBeUndefined();
    expect(jsonMemberText('', 'inputs')).toBeUndefined();
  });
});
