import { connectorExists, q, type Authority, type CommandSpecs } from './spec.js';

/** SPEC §5, §7.4 credentials, authorized by their holder. */
export const credentialCommands: CommandSpecs<'addCredential' | 'removeCredential'> = {
  addCredential: {
    authority: (raw) => holderAuthority(raw.holder, raw.workspaceId, raw.memberId),
    plan: (o, c, f) => {
      if (o.credentials.has(c.credentialId)) f.validation('id_taken', ['credentialId'], `credential id ${q(c.credentialId)} is already taken`);
      connectorExists(o, c.connectorId, f);
      const { type: _type, credentialId: id, ...credential } = c;
      return (d) => void d.credentials.set(id, { id, ...credential });
    },
  },
  removeCredential: {
    authority: (raw, o) => {
      const credential = typeof raw.credentialId === 'string' ? o.credentials.get(raw.credentialId) : undefined;
      // A credential that does not exist: the organization's connector managers may learn so (not_found).
      if (!credential) return { action: 'org.connectors.manage' };
      return holderAuthority(credential.holder, 'workspaceId' in credential ? credential.workspaceId : undefined, 'memberId' in credential ? credential.memberId : undefined);
    },
    plan: (o, c, f) => {
      if (!o.credentials.has(c.credentialId)) f.notFound('credential_not_found', ['credentialId'], `credential ${q(c.credentialId)} does not exist`);
      return (d) => void d.credentials.delete(c.credentialId);
    },
  },
};

/** SPEC §5: organization credentials (App Connections), a workspace's, a member's own (that member itself, SPEC §7.4). */
function holderAuthority(holder: unknown, workspaceId: unknown, memberId: unknown): Authority {
  if (holder === 'organization') return { action: 'org.connectors.manage' };
  if (holder === 'workspace') return typeof workspaceId === 'string' ? { action: 'workspace.connectors.manage', workspace: workspaceId } : 'nobody';
  if (holder === 'member') return typeof memberId === 'string' ? { self: memberId } : 'nobody';
  return 'nobody';
}
