import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigError, type Environment, type LimenConfig, type LoadConfigResult } from '../../config/index.js';

/** A scratch directory for config files, removed by `cleanup`. */
export function scratchDir(): { dir: string; write(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'limen-config-'));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Loads `yaml` as a config file in a fresh directory; the environment is only what is given. */
export function loadYaml(yaml: string, env: Environment = {}): LoadConfigResult & { dir: string } {
  const scratch = scratchDir();
  try {
    const file = scratch.write('limen.yaml', yaml);
    return { ...loadConfig({ file, env, cwd: scratch.dir }), dir: scratch.dir };
  } finally {
    scratch.cleanup();
  }
}

/** The config, or a failure that shows the errors. */
export function expectConfig(result: LoadConfigResult): LimenConfig {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  return result.config;
}

/** The errors, or a failure when the config was accepted. */
export function expectErrors(result: LoadConfigResult): ConfigError[] {
  if (result.ok) throw new Error('expected configuration errors, but the config was accepted');
  return result.errors;
}
