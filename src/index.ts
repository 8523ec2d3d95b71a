/**
 * org-policy: who may do what in an Organization — members, groups, workspaces, roles, connectors and
 * API keys — decided by lookup, explained by reason codes. The contract is docs/spec.md.
 */
export * from './roles/index.js';
export * from './model/index.js';
export {
  applyChange,
  changeChecksum,
  type Change,
  type ChangeError,
  type ChangeErrorCode,
  type ChangeResult,
  type WirePatch,
} from './change/index.js';
export {
  createPolicy,
  ChangeRejectedError,
  type Policy,
  type ActionName,
  type WorkspaceRef,
  type DecisionOptions,
  type DenyReason,
  type Explanation,
  type Grant,
  type ToolReason,
  type ToolsExplanation,
  type InvokeExplanation,
  type ConnectorTools,
  type WorkspaceToolReason,
} from './policy/index.js';
export * from './admin/index.js';
export {
  whoCan,
  whoCanInvoke,
  accessOf,
  diffAccess,
  previewCommand,
  type AccessChange,
  type AccessReport,
  type PolicySource,
  type Preview,
  type PrincipalGrants,
  type PrincipalKind,
  type Side,
  type ToolGrant,
  type WorkspaceAccess,
} from './analysis/index.js';
