/**
 * `opsdesk` — the command line for OpsDesk, built on the typed client (server/client).
 * Bundled to build/cli/opsdesk.mjs by `npm run build` (scripts/build-server.mjs) and run
 * with plain node; `npx tsx server/cli/opsdesk.ts …` works from a checkout too.
 *
 * Configuration comes from the environment only (OPSDESK_URL, OPSDESK_TOKEN): a token on
 * the command line would end up in shell history and in every `ps` listing.
 */
import { parseArgs } from "node:util";
import { createOpsDeskClient, type OpsDeskClient } from "../client";
import { type Command, COMMANDS, type CommandContext, type OptionValues, usageOf } from "./opsdesk-commands";
import { describeFailure, EXIT, UsageError } from "./opsdesk-errors";

const DEFAULT_URL = "http://127.0.0.1:3000";

function globalHelp(): string {
  const groups = [...new Set(COMMANDS.map((c) => c.group))];
  const lines = ["Usage: opsdesk <command> [options]", "", "Commands:"];
  for (const c of COMMANDS) lines.push(`  ${`${c.group} ${c.name} ${c.args}`.padEnd(42)} ${c.summary}`);
  lines.push(
    "",
    `Run "opsdesk <command> --help" for a command's options (groups: ${groups.join(", ")}).`,
    "",
    "Environment:",
    `  OPSDESK_URL     the OpsDesk server (default ${DEFAULT_URL})`,
    "  OPSDESK_TOKEN   an API token: create one on /account (API tokens)",
    "",
    "Exit codes:",
    "  0 ok   1 other failure   2 usage error   3 token missing or refused (401)",
    "  4 forbidden for your role (403)   5 conflict (409)   6 rate limited (429)",
    "  7 not found (404)   8 server unreachable",
  );
  return lines.join("\n");
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.group === group);
  return [
    `Usage: opsdesk ${group} <command> [options]`,
    "",
    "Commands:",
    ...commands.map((c) => `  ${`${c.name} ${c.args}`.padEnd(30)} ${c.summary}`),
    "",
    `Run "opsdesk ${group} <command> --help" for its options.`,
  ].join("\n");
}

function parseCommandLine(command: Command, args: string[]): { values: OptionValues; positionals: string[] } {
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args,
      options: { ...command.options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // parseArgs reports an unknown option or a missing value as a TypeError with an ERR_PARSE_ARGS_* code.
    if ((error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError((error as Error).message, usageOf(command));
    }
    throw error;
  }
  return parsed;
}

type Io = {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
};

async function main(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const url = (env.OPSDESK_URL?.trim() || DEFAULT_URL).replace(/\/+$/, "");
  try {
    const [group, name, ...rest] = argv;
    if (group === undefined) throw new UsageError("No command given.", globalHelp());
    if (group === "--help" || group === "-h" || group === "help") {
      io.stdout.write(`${globalHelp()}\n`);
      return EXIT.ok;
    }
    if (!COMMANDS.some((c) => c.group === group)) throw new UsageError(`Unknown command "${group}".`, globalHelp());
    if (name === undefined) throw new UsageError(`"opsdesk ${group}" needs a command.`, groupHelp(group));
    if (name === "--help" || name === "-h") {
      io.stdout.write(`${groupHelp(group)}\n`);
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.group === group && c.name === name);
    if (!command) throw new UsageError(`Unknown command "${group} ${name}".`, groupHelp(group));

    const { values, positionals } = parseCommandLine(command, rest);
    if (values.help === true) {
      io.stdout.write(`${usageOf(command)}\n`);
      return EXIT.ok;
    }
    if (positionals.length !== command.positionals.length) {
      const wanted = command.positionals.map((p) => `<${p}>`).join(" ") || "no arguments";
      throw new UsageError(
        positionals.length < command.positionals.length ? `Missing argument: ${wanted}.` : `Too many arguments (takes ${wanted}).`,
        usageOf(command),
      );
    }

    let parsedUrl: URL;
    try {
      parsedUrl = new URL(url);
    } catch {
      throw new UsageError(`OPSDESK_URL is not a URL: ${url}`, "Set OPSDESK_URL to the server's address, e.g. http://127.0.0.1:3000.");
    }
    if (parsedUrl.protocol !== "http:" && parsedUrl.protocol !== "https:") {
      throw new UsageError(`OPSDESK_URL must be http:// or https://, not ${parsedUrl.protocol}`, `e.g. ${DEFAULT_URL}`);
    }
    const token = env.OPSDESK_TOKEN?.trim();
    if (!token) {
      io.stderr.write("OPSDESK_TOKEN is not set. Create a token on /account and set OPSDESK_TOKEN.\n");
      return EXIT.unauthorized;
    }

    let client: OpsDeskClient | undefined;
    const ctx: CommandContext = {
      client: () => {
        client ??= createOpsDeskClient({ url, token, userAgent: "opsdesk-cli" });
        return client;
      },
      stdout: io.stdout,
      stderr: io.stderr,
      stdoutStream: io.stdout,
    };
    return await command.run(ctx, values, positionals);
  } catch (error) {
    const { exitCode, message } = describeFailure(error, url);
    io.stderr.write(`${message}\n`);
    return exitCode;
  }
}

// `opsdesk … | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(EXIT.ok);
  throw error;
});

// exitCode instead of exit(): lets stdout finish writing a large table or export.
process.exitCode = await main(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr });
