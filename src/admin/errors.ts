import type { z } from 'zod';
import { problemsFromZod } from '../model/problems.js';
import type { AdminError, AdminErrorClass, AdminErrorCode, AdminProblem } from './types.js';

type Path = readonly (string | number)[];

/** Collects what is wrong with a payload before anything changes: nothing is ever half applied (SPEC §5). */
export class Findings {
  readonly invalid: AdminProblem[] = [];
  readonly missing: AdminProblem[] = [];
  validation(code: AdminErrorCode, path: Path, message: string) {
    this.invalid.push(Object.freeze({ code, path: Object.freeze([...path]), message }));
  }
  notFound(code: AdminErrorCode, path: Path, message: string) {
    this.missing.push(Object.freeze({ code, path: Object.freeze([...path]), message }));
  }
}

/** zod's issues as admin problems; a custom issue's `params.code` (role rules, SPEC §7.21 names) is kept. */
export function problemsFromAdminZod(issues: readonly z.core.$ZodIssue[]): AdminProblem[] {
  const out: AdminProblem[] = [];
  for (const issue of issues) {
    const code = issue.code === 'custom' ? (issue.params as { code?: AdminErrorCode } | undefined)?.code : undefined;
    if (code !== undefined) out.push(Object.freeze({ code, path: Object.freeze([...(issue.path as Path)]), message: issue.message }));
    else out.push(...(problemsFromZod([issue]) as AdminProblem[]));
  }
  return out;
}

export function single(cls: AdminErrorClass, code: AdminErrorCode, path: Path, message: string): AdminError {
  return freezeError({ class: cls, code, path, message });
}

export function fromProblems(cls: AdminErrorClass, problems: readonly AdminProblem[]): AdminError {
  const first = problems[0]!;
  return freezeError({ class: cls, code: first.code, path: first.path, message: first.message, problems });
}

function freezeError(error: AdminError): AdminError {
  return Object.freeze({
    ...error,
    path: Object.freeze([...error.path]),
    ...(error.problems ? { problems: Object.freeze([...error.problems]) } : {}),
  });
}
