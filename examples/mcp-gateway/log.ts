/**
 * The gateway's log: one line per event, `event revision=N key=value …`, every line naming the policy
 * revision it was decided at. Values come from clients (tool names, ids, claims), so each is escaped —
 * control characters, line and paragraph separators, lone surrogates, backslashes and quotes become
 * `\uXXXX`-style escapes — and capped, so no value can start a line of its own or flood the log.
 * Secrets and tokens are never passed in: the callers log ids, never credentials.
 */

/** The longest a value gets, in UTF-16 code units, before it is cut and marked with how much was left off. */
export const MAX_FIELD_LENGTH = 200;

export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Readonly<Record<string, LogValue>>;
/** Writes one event decided at `revision`. */
export type Logger = (event: string, revision: number, fields?: LogFields) => void;

// C0, DEL, C1, U+2028/U+2029 (line breaks to some readers), lone surrogates, the escape character itself and quotes.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeCharacter(character: string): string {
  if (character === '"') return '\\"';
  if (character === '\\') return '\\\\';
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** A value as it appears in a line: escaped, capped, quoted when it holds a space, `=`, or is empty. */
export function formatValue(value: LogValue, max = MAX_FIELD_LENGTH): string {
  if (value === undefined || value === null) return '-';
  if (typeof value !== 'string') return String(value);
  let text = value;
  let cut = '';
  if (text.length > max) {
    // Never cut a surrogate pair in two.
    const end = /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max;
    cut = `…(+${text.length - end})`;
    text = text.slice(0, end);
  }
  const escaped = text.replace(UNSAFE, escapeCharacter) + cut;
  return escaped === '' || /[\s=]/.test(escaped) || escaped !== text + cut ? `"${escaped}"` : escaped;
}

export function formatLine(event: string, revision: number, fields: LogFields = {}): string {
  let line = `${formatValue(event)} revision=${revision}`;
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
  return line;
}

/** A logger that writes each formatted line to `sink` (the gateway's default sink is stdout, one line each). */
export function lineLogger(sink: (line: string) => void): Logger {
  return (event, revision, fields) => sink(formatLine(event, revision, fields));
}
