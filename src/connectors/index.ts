export type { ToolReason, ToolsExplanation, InvokeExplanation, ConnectorTools } from './decide.js';
export type { WorkspaceToolReason } from './compile.js';
