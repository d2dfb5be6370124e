/** Caller-supplied text echoed in an error is cut short, so messages stay small and predictable. */
export function clip(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
