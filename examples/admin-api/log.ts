/**
 * The Admin API's log: one line per event, `event key=value …`. Values come from clients (paths, ids,
 * error messages that quote them), so each is escaped — control characters, line and paragraph
 * separators, lone surrogates, quotes and backslashes become `\uXXXX`-style escapes — and capped, so no
 * value can start a forged line or flood the log. Secrets are never passed in: callers log ids, never
 * keys, and never a request body or a header.
 */

/** The longest a value gets, in UTF-16 code units, before it is cut and marked with how much was left off. */
export const MAX_FIELD_LENGTH = 200;

export type LogValue = string | number | boolean | null | undefined;
export type LogFields = Readonly<Record<string, LogValue>>;
export type Logger = (event: string, fields?: LogFields) => void;

// C0, DEL, C1, U+2028/U+2029 (line breaks to some readers), lone surrogates, quotes and the escape character.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const escapeCharacter = (character: string) =>
  character === '"' ? '\\"' : character === '\\' ? '\\\\' : `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A value as it appears in a line: escaped, capped, quoted when it holds a space or `=`, is empty, or was escaped. */
export function formatValue(value: LogValue, max = MAX_FIELD_LENGTH): string {
  if (value === undefined || value === null) return '-';
  if (typeof value !== 'string') return String(value);
  let text = value;
  let cut = '';
  if (text.length > max) {
    const end = /[\ud800-\udbff]/.test(text[max - 1]!) ? max - 1 : max; // never split a surrogate pair
    cut = `…(+${text.length - end})`;
    text = text.slice(0, end);
  }
  const escaped = text.replace(UNSAFE, escapeCharacter);
  return escaped === '' || /[\s=]/.test(escaped) || escaped !== text ? `"${escaped}"${cut}` : `${escaped}${cut}`;
}

export function formatLine(event: string, fields: LogFields = {}): string {
  let line = formatValue(event);
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
  return line;
}

/** A logger writing each formatted line to `sink` (stdout in `main.ts`). */
export const lineLogger =
  (sink: (line: string) => void): Logger =>
  (event, fields) =>
    sink(formatLine(event, fields));
