import type { z } from 'zod';
import { roleByName } from '../roles/index.js';
import type { Problem, ProblemCode } from './types.js';

export type Path = readonly (string | number)[];

export function problem(code: ProblemCode, path: Path, message: string): Problem {
  return Object.freeze({ code, path: Object.freeze([...path]), message });
}

/** `members[3].orgRoles[0]`: how a path reads in a message. */
export function formatPath(path: Problem['path']): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(root)' : out;
}

const ROLE_LISTS = new Set(['orgRoles', 'roles', 'role_names']);

/** Turns zod's issues into problems with this library's stable codes and plain sentences. */
export function problemsFromZod(issues: readonly z.core.$ZodIssue[], prefix: Path = []): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          out.push(problem('unknown_field', [...path, key], `${formatPath([...path, key])} is not a field of this object`));
        }
        break;
      case 'invalid_type':
        out.push(
          input === undefined
            ? problem('missing_field', path, `${formatPath(path)} is required`)
            : problem('invalid_type', path, `${formatPath(path)} must be ${article(issue.expected)}, not ${describe(input)}`),
        );
        break;
      case 'invalid_value':
        out.push(input === undefined ? problem('missing_field', path, `${formatPath(path)} is required`) : invalidValue(path, issue.values, input));
        break;
      case 'invalid_union': {
        const options = (issue as { options?: unknown[] }).options;
        const discriminator = (issue as { discriminator?: string }).discriminator;
        if (options && discriminator !== undefined) {
          const value = isRecord(input) ? input[discriminator] : undefined;
          out.push(
            value === undefined
              ? problem('missing_field', path, `${formatPath(path)} is required`)
              : problem('invalid_value', path, `${formatPath(path)} must be one of ${options.map(quote).join(', ')}, not ${quote(value)}`),
          );
        } else if (input === undefined) {
          out.push(problem('missing_field', path, `${formatPath(path)} is required`));
        } else {
          out.push(problem('invalid_value', path, `${formatPath(path)} has the wrong shape (${describe(input)})`));
        }
        break;
      }
      case 'invalid_format':
        out.push(problem('invalid_format', path, `${formatPath(path)} ${formatRule(issue.format)}, not ${quote(input)}`));
        break;
      case 'too_small':
        out.push(
          problem(
            'invalid_value',
            path,
            issue.origin === 'string' ? `${formatPath(path)} must not be empty` : `${formatPath(path)} must be at least ${String(issue.minimum)}, not ${quote(input)}`,
          ),
        );
        break;
      case 'custom': {
        const params = issue.params as { code?: unknown; character?: unknown } | undefined;
        if (params?.code === 'empty_name') out.push(problem('empty_name', path, `${formatPath(path)} must not be empty or only whitespace`));
        else if (params?.code === 'control_character') {
          out.push(problem('control_character', path, `${formatPath(path)} must not contain control characters (${String(params.character)})`));
        } else out.push(problem('invalid_value', path, `${formatPath(path)}: ${issue.message}`));
        break;
      }
      default:
        out.push(problem('invalid_value', path, `${formatPath(path)}: ${issue.message}`));
    }
  }
  return out;
}

function invalidValue(path: (string | number)[], values: readonly unknown[], input: unknown): Problem {
  const parent = path[path.length - 2];
  if (typeof parent === 'string' && ROLE_LISTS.has(parent)) {
    const role = roleByName(input);
    if (role) {
      return problem('wrong_scope_role', path, `${quote(input)} is a${role.scope === 'organization' ? 'n organization' : ' workspace'} role and cannot be held here`);
    }
    return problem('unknown_role', path, `${quote(input)} is not a role; roles here are ${values.map(quote).join(', ')}`);
  }
  if (path.length === 1 && path[0] === 'schemaVersion' && input !== undefined) {
    return problem('unsupported_version', path, `schemaVersion ${quote(input)} is not supported; this library reads version 1`);
  }
  return problem('invalid_value', path, `${formatPath(path)} must be ${values.length === 1 ? quote(values[0]) : `one of ${values.map(quote).join(', ')}`}, not ${quote(input)}`);
}

function formatRule(format: string): string {
  switch (format) {
    case 'datetime':
      return 'must be an ISO-8601 date-time with Z or an offset';
    case 'regex':
      return 'does not have the required form';
    default:
      return `must be a valid ${format}`;
  }
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${quote(value)}`;
  return article(typeof value);
}

export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return describe(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
