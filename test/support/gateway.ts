/** Starting a real gateway in process on a temporary data dir, with its log lines kept for scanning. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigOrThrow } from '../../config/index.js';
import { createLogger } from '../../gateway/log/index.js';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../gateway/process/gateway.js';
import { freePort } from './ports.js';

export interface TestGateway extends RunningGateway {
  dataDir: string;
  logs: string[];
  base: string;
  /** Stops the gateway and removes its data dir. */
  dispose(): Promise<void>;
}

/**
 * Starts a gateway from YAML (merged over loopback defaults with free ports, or the ports given),
 * in a fresh directory or in `dataDir` (to start again on what an earlier one left).
 */
export async function startTestGateway(
  yaml = '',
  ports: { dimse?: number; http?: number } = {},
  options: { gateway?: GatewayOptions; dataDir?: string } = {},
): Promise<TestGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'limen-gw-'));
  const file = join(dataDir, 'limen.yaml');
  writeFileSync(file, yaml);
  const config = loadConfigOrThrow({
    file,
    env: { LIMEN_DATA_DIR: join(dataDir, 'var'), LIMEN_HTTP_PORT: String(ports.http ?? (await freePort())), LIMEN_DIMSE_PORT: String(ports.dimse ?? (await freePort())) },
  });
  const logs: string[] = [];
  const gateway = await startGateway(config, createLogger({ level: 'debug', write: (line) => logs.push(line) }), options.gateway);
  return {
    ...gateway,
    dataDir,
    logs,
    base: `http://127.0.0.1:${gateway.http.port}`,
    async dispose() {
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
