/** The text parts of a tool result, joined: what a test compares a `callTool` answer with. */
export function textOf(result: unknown): string {
  return ((result as { content?: Array<{ text?: string }> }).content ?? [])
    .map((part) => part.text ?? '')
    .join('');
}
