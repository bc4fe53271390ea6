import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// docs/custom-transports.md quotes this example; a code block whose first line names a file of the example
// must appear in that file line for line (indentation aside), so the guide cannot drift from the code.
const root = new URL('../../../', import.meta.url);
const guide = readFileSync(new URL('docs/custom-transports.md', root), 'utf8');
const excerpts = [...guide.matchAll(/```ts\n\/\/ (examples\/custom-transport\/\S+)\n([\s\S]*?)```/g)].map(
  ([, file, code]) => ({ file: file as string, lines: (code as string).trimEnd().split('\n') }),
);

function containsLines(source: string, lines: string[]): boolean {
  const have = source.split('\n').map((line) => line.trim());
  const want = lines.map((line) => line.trim());
  return have.some((_, start) => want.every((line, offset) => have[start + offset] === line));
}

describe('docs/custom-transports.md excerpts', () => {
  it('quotes the example', () => {
    expect(excerpts.length).toBeGreaterThanOrEqual(5);
  });

  it.each(
    excerpts.map((excerpt, index) => [index + 1, excerpt] as const),
  )('excerpt %i matches its file', (_, { file, lines }) => {
    const source = readFileSync(new URL(file, root), 'utf8');
    expect(containsLines(source, lines), `not found in ${file}:\n${lines.join('\n')}`).toBe(true);
  });
});
