/**
 * SCIM errors (RFC 7644 §3.12): `urn:ietf:params:scim:api:messages:2.0:Error` with the HTTP status as a
 * string, a `scimType` where the RFC defines one, and a `detail` that names the org-policy code when the
 * refusal came from the library, so a log reader finds the rule.
 */
import type { AdminError } from 'org-policy';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The `scimType` values of RFC 7644 §3.12 that this service answers. */
export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'sensitive';

export interface ScimError {
  readonly status: number;
  readonly scimType?: ScimType;
  readonly detail: string;
}

export const scimError = (status: number, scimType: ScimType | undefined, detail: string): ScimError =>
  scimType === undefined ? { status, detail } : { status, scimType, detail };

export const errorBody = (error: ScimError) => ({
  schemas: [ERROR_SCHEMA],
  status: String(error.status),
  ...(error.scimType !== undefined ? { scimType: error.scimType } : {}),
  detail: error.detail,
});

/** A thrown SCIM error: only request parsing throws it, so a handler answers it instead of a 500. */
export class ScimRequestError extends Error {
  constructor(readonly error: ScimError) {
    super(error.detail);
  }
}

export const invalid = (scimType: ScimType, detail: string): never => {
  throw new ScimRequestError(scimError(400, scimType, detail));
};

/** The library's codes that say a value is already another entity's: 409 `uniqueness` (RFC 7644 §3.3). */
const UNIQUENESS_CODES = new Set(['duplicate_email', 'duplicate_external_id', 'id_taken']);

/**
 * A refused command in SCIM's words. `forbidden`: the token's member may not (403); a value already taken:
 * 409 `uniqueness`; any other payload problem: 400 `invalidValue`; the resource addressed is gone: 404,
 * but a member named inside a request that is not there is the request's value (400); an invariant (the
 * last active organization admin, a full seat pool): 409, nothing changed.
 */
export function fromAdminError(error: AdminError): ScimError {
  const detail = `${error.code}: ${error.message}`;
  switch (error.class) {
    case 'forbidden':
      return scimError(403, undefined, `${detail} (the SCIM token acts as a member whose roles do not allow this change)`);
    case 'validation':
      return scimError(UNIQUENESS_CODES.has(error.code) ? 409 : 400, UNIQUENESS_CODES.has(error.code) ? 'uniqueness' : 'invalidValue', detail);
    case 'not_found':
      return error.path[0] === 'memberIds' ? scimError(400, 'invalidValue', detail) : scimError(404, undefined, detail);
    case 'invariant':
      return scimError(409, undefined, `${detail}; nothing was changed`);
  }
}
