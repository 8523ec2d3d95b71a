/**
 * Discovery (RFC 7644 §4, RFC 7643 §5–§7): what this service supports, and the attributes it stores —
 * only those, so an identity provider's attribute mapping can be checked against them.
 */
import { GROUP_SCHEMA, USER_SCHEMA } from './resources.js';

const CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** At most this many resources in one page of a list (`count` above it is lowered to it). */
export const MAX_RESULTS = 1_000;
export const DEFAULT_COUNT = 100;

export function serviceProviderConfig(base: string) {
  return {
    schemas: [CONFIG_SCHEMA],
    documentationUri: 'https://github.com/org-policy/org-policy/blob/main/docs/scim.md',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM bearer token',
        description: 'A token issued through the Admin API (POST /api/admin/scim/tokens), acting as one member of the organization',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string) {
  return [
    { schemas: [RESOURCE_TYPE_SCHEMA], id: 'User', name: 'User', endpoint: '/Users', description: 'A member of the organization', schema: USER_SCHEMA, meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` } },
    { schemas: [RESOURCE_TYPE_SCHEMA], id: 'Group', name: 'Group', endpoint: '/Groups', description: 'A group of the organization', schema: GROUP_SCHEMA, meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` } },
  ];
}

interface Attribute {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference';
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'default' | 'never' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: Attribute[];
  referenceTypes?: string[];
}

const attribute = (name: string, description: string, overrides: Partial<Attribute> = {}): Attribute => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
  description,
  ...overrides,
});

const userAttributes: Attribute[] = [
  attribute('userName', "The member's email, unique case-insensitively", { required: true, uniqueness: 'server' }),
  attribute('externalId', "The identity provider's id of the member (SPEC §9.2), unique", { caseExact: true, uniqueness: 'server' }),
  attribute('displayName', "The member's name shown to people"),
  attribute('name', 'Read as the display name: formatted, else givenName and familyName', {
    type: 'complex',
    subAttributes: [attribute('formatted', 'The display name'), attribute('givenName', 'Written into the display name'), attribute('familyName', 'Written into the display name')],
  }),
  attribute('emails', "One work email: the member's email, the same as userName", {
    type: 'complex',
    multiValued: true,
    subAttributes: [attribute('value', 'The email'), attribute('type', 'Always "work"'), { ...attribute('primary', 'Always true'), type: 'boolean' }],
  }),
  { ...attribute('active', 'false suspends the member, true reactivates it'), type: 'boolean' },
];

const groupAttributes: Attribute[] = [
  attribute('displayName', "The group's name", { required: true }),
  attribute('members', "The group's members; its workspace grants and organization roles are set by admins, never by SCIM", {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attribute('value', 'A member id', { caseExact: true, mutability: 'immutable' }),
      { ...attribute('$ref', 'The member', { mutability: 'immutable' }), type: 'reference', referenceTypes: ['User'] },
      attribute('display', "The member's display name or email", { mutability: 'readOnly' }),
    ],
  }),
];

export function schemas(base: string) {
  return [
    { schemas: [SCHEMA_SCHEMA], id: USER_SCHEMA, name: 'User', description: 'A member of the organization', attributes: userAttributes, meta: { resourceType: 'Schema', location: `${base}/Schemas/${USER_SCHEMA}` } },
    { schemas: [SCHEMA_SCHEMA], id: GROUP_SCHEMA, name: 'Group', description: 'A group of the organization', attributes: groupAttributes, meta: { resourceType: 'Schema', location: `${base}/Schemas/${GROUP_SCHEMA}` } },
  ];
}
