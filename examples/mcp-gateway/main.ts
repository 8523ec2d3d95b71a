/**
 * `npm run example:gateway`: starts the MCP gateway from the project root.
 *
 *   PORT            port to listen on (default 8787; 0 picks a free one)
 *   HOST            address to listen on (default 127.0.0.1)
 *   SNAPSHOT        organization snapshot JSON (default examples/mcp-gateway/snapshot.json)
 *   GATEWAY_CONFIG  upstreams and API key hashes (default examples/mcp-gateway/gateway.config.json)
 */
import { fileURLToPath } from 'node:url';
import { startGateway } from './gateway.js';
import { readConfig } from './config.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

async function main() {
  const port = Number(process.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, not ${process.env.PORT}`);
  const config = readConfig(process.env.GATEWAY_CONFIG ?? here('./gateway.config.json'));
  const gateway = await startGateway({
    snapshotPath: process.env.SNAPSHOT ?? here('./snapshot.json'),
    upstreams: config.upstreams,
    apiKeys: config.apiKeys,
    port,
    host: process.env.HOST ?? '127.0.0.1',
  });
  const stop = () => void gateway.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
