/**
 * A Dockerfile read into stages and instructions, so a test can replay what an image build
 * does where no container engine runs: the instructions this project's Dockerfile uses (FROM,
 * WORKDIR, ENV, COPY, RUN, USER, VOLUME, EXPOSE, HEALTHCHECK, CMD), line continuations joined,
 * comments dropped.
 */

export interface Instruction {
  /** Upper-case keyword: `COPY`, `RUN`... */
  op: string;
  /** The rest of the instruction, continuations joined with a space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  /** The `FROM` image. */
  image: string;
  /** The `AS` name, if any. */
  name?: string;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i]!.trim();
    if (logical === '' || logical.startsWith('#')) continue;
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      logical = logical.slice(0, -1).trimEnd();
      const next = lines[++i]!.trim();
      if (next.startsWith('#')) continue;
      logical += ` ${next}`;
    }
    const m = /^(\S+)\s*(.*)$/.exec(logical)!;
    const instruction: Instruction = { op: m[1]!.toUpperCase(), args: m[2]!, line: start + 1 };
    if (instruction.op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new Error(`Dockerfile line ${instruction.line}: cannot read FROM ${instruction.args}`);
      stages.push({ image: from[1]!, name: from[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${instruction.line}: ${instruction.op} before any FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

/** `COPY [--from=<stage>] <src>... <dest>`. */
export function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    const m = /^--from=(.+)$/.exec(flag);
    if (!m) throw new Error(`COPY flag not supported by the replay: ${flag}`);
    from = m[1];
  }
  const dest = words.pop();
  if (!dest || words.length === 0) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { from, sources: words, dest };
}

/** `ENV k=v [k=v]...` (values without spaces, optionally double-quoted). */
export function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of args.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) env[m[1]!] = m[3] ?? m[2]!;
  return env;
}

/** The exec form `["a", "b"]` as an argument vector; the shell form as `sh -c`. */
export function commandVector(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return ['sh', '-c', trimmed];
}

/** The command of `HEALTHCHECK [--opt=v]... CMD <command>`. */
export function healthcheckCommand(args: string): string[] {
  const m = /^(?:--\S+\s+)*CMD\s+(.+)$/.exec(args.trim());
  if (!m) throw new Error(`HEALTHCHECK without CMD: ${args}`);
  return commandVector(m[1]!);
}
