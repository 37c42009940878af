/**
 * @module
 * Flag parsing with `util.parseArgs` in strict mode: the common flags every command
 * takes, plus the command's own. Any parse problem is a {@link UsageError} (exit 2)
 * carrying a one-line message.
 */
import { parseArgs } from "node:util";

/** A flag as declared by a command: parsed by `parseArgs`, described in `--help`. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  description: string;
  /** Placeholder shown in help, e.g. "DIR". */
  valueName?: string;
  /** Environment variable that supplies the default. */
  env?: string;
}

/** A mistake in how the command was invoked: one line on stderr, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export const DEFAULT_DATA_DIR = "./data";

/** Flags accepted by every command. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  "data-dir": { type: "string", valueName: "DIR", env: "KVDB_DATA_DIR", description: `Data directory (default ${DEFAULT_DATA_DIR}).` },
  url: { type: "string", valueName: "URL", env: "KVDB_URL", description: "Talk to the server at URL instead of opening the directory." },
  indexes: {
    type: "string",
    valueName: "FILE",
    env: "KVDB_INDEXES",
    description:
      "Index definitions to reconcile the directory's indexes with when opening it (without it, the indexes recorded in the directory; serve and index reload read ./indexes.toml if present; through a server, the server's own).",
  },
  "auth-token": { type: "string", valueName: "TOKEN", env: "KVDB_AUTH_TOKEN", description: "Bearer token of the server." },
  json: { type: "boolean", description: "Machine-readable output." },
  verbose: { type: "boolean", short: "v", description: "Say which path was taken (server or local directory)." },
  help: { type: "boolean", short: "h", description: "Show help." },
};

export interface CommonFlags {
  dataDir: string;
  url?: string;
  /** `--indexes` as given; the default is applied by `chooseIndexesFile`. */
  indexes?: string;
  authToken?: string;
  json: boolean;
  verbose: boolean;
  help: boolean;
}

export interface ParsedArgs {
  positionals: string[];
  /** Command flags (common flags excluded), with environment defaults applied. */
  flags: Record<string, string | boolean | undefined>;
  common: CommonFlags;
}

/** Parses `argv` (after the command name) against the common flags and `options`. */
export function parseCommandArgs(
  command: string,
  argv: string[],
  options: Record<string, OptionSpec>,
  env: Record<string, string | undefined>,
): ParsedArgs {
  const all = { ...COMMON_OPTIONS, ...options };
  const config: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const [name, spec] of Object.entries(all)) config[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError(`${command}: ${firstSentence((e as Error).message)} (see kvdb ${command} --help)`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const withEnv = (name: string): string | boolean | undefined => {
    const v = values[name];
    const spec = all[name];
    if (v === undefined && spec?.env && env[spec.env] !== undefined && env[spec.env] !== "") {
      return spec.type === "boolean" ? env[spec.env] === "1" || env[spec.env] === "true" : env[spec.env];
    }
    return v;
  };
  const flags: Record<string, string | boolean | undefined> = {};
  for (const name of Object.keys(options)) flags[name] = withEnv(name);
  return {
    positionals: parsed.positionals,
    flags,
    common: {
      dataDir: (withEnv("data-dir") as string | undefined) ?? DEFAULT_DATA_DIR,
      url: withEnv("url") as string | undefined,
      indexes: withEnv("indexes") as string | undefined,
      authToken: withEnv("auth-token") as string | undefined,
      json: Boolean(values.json),
      verbose: Boolean(values.verbose),
      help: Boolean(values.help),
    },
  };
}

/** A non-negative integer flag, or a UsageError naming it. */
export function integerFlag(command: string, name: string, value: string | boolean | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${command}: --${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

// parseArgs messages run on ("... To specify a positional argument starting with a '-', ..."); keep the first sentence.
function firstSentence(message: string): string {
  const end = message.search(/\.\s/);
  return (end < 0 ? message : message.slice(0, end)).replace(/\.$/, "");
}
