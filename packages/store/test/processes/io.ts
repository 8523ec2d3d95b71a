import { createInterface } from 'node:readline';

/** The child side of test/support/processes.ts: JSON lines in, JSON lines out. */
export function out(message: Record<string, unknown>) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export function onRequest(handle: (request: { op: string; id?: number } & Record<string, unknown>) => void | Promise<void>) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const request = JSON.parse(line) as { op: string; id?: number } & Record<string, unknown>;
    Promise.resolve(handle(request)).catch((error: unknown) => out({ type: 'error', id: request.id, message: (error as Error).message, code: (error as { code?: unknown }).code }));
  });
}

export const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
