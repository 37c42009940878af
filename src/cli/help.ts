/**
 * @module
 * `kvdb --help` and `kvdb <command> --help`, generated from the command registry and
 * the flag declarations, so help never drifts from what is parsed.
 */
import { COMMON_OPTIONS, type OptionSpec } from "./args.ts";
import type { Command } from "./command.ts";

function flagLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, spec]) => {
    const short = spec.short ? `-${spec.short}, ` : "    ";
    const value = spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : "";
    const env = spec.env ? ` [env ${spec.env}]` : "";
    return [`${short}--${name}${value}`, spec.description + env] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`);
}

export function mainHelp(commands: Command[], version: string): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `kvdb ${version} — a key-value database: REST server and CLI in one binary`,
    "",
    "Usage: kvdb <command> [arguments] [flags]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Common flags:",
    ...flagLines(COMMON_OPTIONS),
    "",
    "Run 'kvdb <command> --help' for a command's arguments and flags; 'kvdb --version' for the version.",
    "",
  ].join("\n");
}

export function commandHelp(command: Command): string {
  const lines = [`Usage: kvdb ${command.name}${command.usage ? " " + command.usage : ""} [flags]`, "", command.summary + "."];
  if (command.description) lines.push("", command.description);
  if (command.options && Object.keys(command.options).length > 0) lines.push("", "Flags:", ...flagLines(command.options));
  lines.push("", "Common flags:", ...flagLines(COMMON_OPTIONS), "");
  return lines.join("\n");
}
