import { createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { ParseArgsConfig } from "node:util";
import type { OpsDeskClient, RouterOutputs, StreamedBody } from "../client";
import { CliFailure, EXIT, UsageError } from "./opsdesk-errors";
import { dash, formatBytes, json, keyValues, type Out, progressLine, table } from "./opsdesk-output";

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export type CommandContext = {
  client: () => OpsDeskClient;
  stdout: Out & { isTTY?: boolean };
  stderr: Out & { isTTY?: boolean };
  /** The write stream data commands pipe into when no -o is given. */
  stdoutStream: NodeJS.WritableStream;
};

export type Command = {
  group: string;
  name: string;
  args: string;
  summary: string;
  details?: string;
  options: NonNullable<ParseArgsConfig["options"]>;
  optionHelp: [string, string][];
  positionals: string[];
  run(ctx: CommandContext, values: OptionValues, positionals: string[]): Promise<number>;
};

type Host = RouterOutputs["hosts"]["get"];

const JSON_OPTION = { json: { type: "boolean" } } as const;
const JSON_HELP: [string, string] = ["--json", "print JSON for machines instead of a table"];
const OUTPUT_OPTION = { output: { type: "string", short: "o" } } as const;

function str(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** A repeatable option, each also allowed to be comma-separated (`--tag a --tag b,c`). */
function strs(values: OptionValues, name: string): string[] {
  const value = values[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list
    .filter((v): v is string => typeof v === "string")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
}

const flag = (values: OptionValues, name: string) => values[name] === true;

export function usageOf(command: Command): string {
  const lines = [`Usage: opsdesk ${command.group} ${command.name}${command.args ? ` ${command.args}` : ""}`, "", command.summary];
  if (command.details) lines.push("", command.details);
  const options: [string, string][] = [...command.optionHelp, ["-h, --help", "show this help"]];
  lines.push("", "Options:", ...options.map(([name, text]) => `  ${name.padEnd(26)} ${text}`));
  return lines.join("\n");
}

/** A host by numeric id or by hostname: scripts know one or the other. */
async function resolveHost(ctx: CommandContext, ref: string): Promise<Host> {
  const client = ctx.client();
  if (/^\d+$/.test(ref)) return client.hosts.get.query({ id: Number(ref) });
  return client.hosts.getByHostname.query({ hostname: ref });
}

/**
 * Streams an export or a download into a file or stdout. A file that fails half-way is
 * removed: a truncated CSV that looks complete is worse than none.
 */
async function writeStream(
  ctx: CommandContext,
  response: StreamedBody,
  target: string | undefined,
  options: { flags?: "w" | "wx"; progressLabel?: string; total?: number | null } = {},
): Promise<number> {
  const toStdout = target === undefined || target === "-";
  const progress = progressLine(ctx.stderr, options.progressLabel ?? "", Boolean(options.progressLabel && ctx.stderr.isTTY && !toStdout));
  let written = 0;
  const destination = toStdout ? ctx.stdoutStream : createWriteStream(target, { flags: options.flags ?? "w" });
  try {
    await pipeline(
      response.nodeStream(),
      async function* count(chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          written += chunk.length;
          progress.update(written, options.total ?? null);
          yield chunk;
        }
      },
      destination,
      // stdout must stay open after the copy (other output may follow).
      { end: !toStdout },
    );
  } catch (error) {
    progress.abandon();
    const code = (error as NodeJS.ErrnoException).code;
    // EEXIST: the file is someone else's (the "wx" refusal), never ours to delete.
    if (!toStdout && code !== "EEXIST") await rm(target, { force: true });
    // Node's fetch reports a body cut off by the server or the network as "terminated".
    if (error instanceof TypeError && error.message === "terminated") {
      const where = toStdout ? "the output is incomplete" : `${target} was removed (it would be incomplete)`;
      throw new CliFailure(`The connection was cut after ${formatBytes(written)}; ${where}. Try again.`, EXIT.failed);
    }
    throw error;
  }
  progress.finish(written, options.total ?? null);
  return written;
}

function hostRows(hosts: Host[]): string[][] {
  return hosts.map((h) => [String(h.id), h.hostname, dash(h.ip), dash(h.environment), dash(h.os), h.tags.join(",") || "-"]);
}

const hostsList: Command = {
  group: "hosts",
  name: "list",
  args: "",
  summary: "List hosts (every page), optionally filtered.",
  options: {
    q: { type: "string" },
    environment: { type: "string" },
    tag: { type: "string", multiple: true },
    sort: { type: "string" },
    limit: { type: "string" },
    ...JSON_OPTION,
  },
  optionHelp: [
    ["--q <text>", "search hostname, IP, notes"],
    ["--environment <env>", "only this environment"],
    ["--tag <tag>", "only hosts with this tag (repeatable, or comma-separated)"],
    ["--sort <key>", "hostname, -hostname, created, -created, updated, -updated"],
    ["--limit <n>", "stop after n hosts"],
    JSON_HELP,
  ],
  positionals: [],
  async run(ctx, values) {
    const max = str(values, "limit");
    if (max !== undefined && !/^[1-9]\d*$/.test(max)) throw new UsageError("--limit must be a whole number, 1 or more.", usageOf(hostsList));
    const limit = max === undefined ? Number.POSITIVE_INFINITY : Number(max);
    const sort = str(values, "sort");
    const sorts = ["hostname", "-hostname", "created", "-created", "updated", "-updated"] as const;
    const isSort = (s: string): s is (typeof sorts)[number] => (sorts as readonly string[]).includes(s);
    if (sort !== undefined && !isSort(sort)) throw new UsageError(`Unknown --sort ${sort}.`, usageOf(hostsList));
    const tags = strs(values, "tag");
    const items: Host[] = [];
    let cursor: string | undefined;
    let total = 0;
    do {
      const page = await ctx.client().hosts.list.query({
        q: str(values, "q"),
        environment: str(values, "environment"),
        tags: tags.length ? tags : undefined,
        sort,
        cursor,
        limit: Math.min(100, limit - items.length),
      });
      items.push(...page.items);
      total = page.total;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && items.length < limit);
    if (flag(values, "json")) {
      ctx.stdout.write(json(items));
      return EXIT.ok;
    }
    if (items.length === 0) {
      ctx.stdout.write("No hosts match.\n");
      return EXIT.ok;
    }
    ctx.stdout.write(table(["ID", "HOSTNAME", "IP", "ENVIRONMENT", "OS", "TAGS"], hostRows(items)));
    ctx.stdout.write(items.length < total ? `${items.length} of ${total} hosts\n` : `${total} host${total === 1 ? "" : "s"}\n`);
    return EXIT.ok;
  },
};

const hostsGet: Command = {
  group: "hosts",
  name: "get",
  args: "<id|hostname>",
  summary: "Show one host.",
  options: { ...JSON_OPTION },
  optionHelp: [JSON_HELP],
  positionals: ["id|hostname"],
  async run(ctx, values, [ref]) {
    const host = await resolveHost(ctx, ref!);
    if (flag(values, "json")) {
      ctx.stdout.write(json(host));
      return EXIT.ok;
    }
    ctx.stdout.write(
      keyValues([
        ["ID", String(host.id)],
        ["Hostname", host.hostname],
        ["IP", dash(host.ip)],
        ["Port", String(host.port)],
        ["SSH user", dash(host.sshUser)],
        ["Bastion", dash(host.bastion)],
        ["Environment", dash(host.environment)],
        ["OS", dash(host.os)],
        ["Tags", host.tags.join(", ") || "-"],
        ["Prometheus", host.effectivePrometheusInstance],
        ["Notes", dash(host.notes.replace(/\s*\n\s*/g, " / "))],
        ["Version", String(host.version)],
        ["Created", host.createdAt],
        ["Updated", host.updatedAt],
      ]),
    );
    return EXIT.ok;
  },
};

const hostsImport: Command = {
  group: "hosts",
  name: "import",
  args: "<file.csv>",
  summary: "Import hosts from CSV (the columns of the /hosts/import page).",
  details:
    "Without --dry-run the file is applied whole or not at all: any error and nothing is written.\n" +
    "Exits 1 when the file has errors (each printed with its line and column).",
  options: { "dry-run": { type: "boolean" }, ...JSON_OPTION },
  optionHelp: [["--dry-run", "only check the file and show what would change"], JSON_HELP],
  positionals: ["file.csv"],
  async run(ctx, values, [file]) {
    const dryRun = flag(values, "dry-run");
    // Streamed as it is on disk (POST /hosts/import.csv): no size limit on this side, and
    // invalid UTF-8 reaches the server's parser, which reports it by line.
    const result = await ctx.client().importHostsCsv(file!, { dryRun });
    if (flag(values, "json")) {
      ctx.stdout.write(json(result));
      return result.errorCount > 0 ? EXIT.failed : EXIT.ok;
    }
    const name = path.basename(file!);
    const counts = `${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged, ${result.errorCount} error${result.errorCount === 1 ? "" : "s"}`;
    if (dryRun) ctx.stdout.write(`Dry run of ${name} (${result.totalRows} rows): would be ${counts}. Nothing was written.\n`);
    else if (result.applied) ctx.stdout.write(`Imported ${name} (${result.totalRows} rows): ${counts}.\n`);
    else ctx.stdout.write(`Nothing was imported from ${name} (${result.totalRows} rows, ${counts}): fix the errors and run it again.\n`);
    for (const e of result.errors) {
      ctx.stdout.write(`  line ${e.line}${e.column ? `, column ${e.column}` : ""}: ${e.message}\n`);
    }
    if (result.errorCount > result.errors.length) ctx.stdout.write(`  … and ${result.errorCount - result.errors.length} more errors\n`);
    if (dryRun && result.errorCount === 0) ctx.stdout.write(`Apply it with: opsdesk hosts import ${file}\n`);
    return result.errorCount > 0 ? EXIT.failed : EXIT.ok;
  },
};

const hostsExport: Command = {
  group: "hosts",
  name: "export",
  args: "",
  summary: "Export hosts as CSV (the import's columns), streamed.",
  options: { ...OUTPUT_OPTION, q: { type: "string" }, environment: { type: "string" }, tag: { type: "string", multiple: true } },
  optionHelp: [
    ["-o, --output <file>", "write to this file (default: stdout)"],
    ["--q <text>", "search hostname, IP, notes"],
    ["--environment <env>", "only this environment"],
    ["--tag <tag>", "only hosts with this tag (repeatable)"],
  ],
  positionals: [],
  async run(ctx, values) {
    const tags = strs(values, "tag");
    const response = await ctx.client().exportHosts({
      q: str(values, "q"),
      environment: str(values, "environment"),
      tags: tags.length ? tags : undefined,
    });
    const target = str(values, "output");
    const bytes = await writeStream(ctx, response, target);
    if (target && target !== "-") ctx.stdout.write(`Saved ${formatBytes(bytes)} of CSV to ${target}\n`);
    return EXIT.ok;
  },
};

const metricsUpdate: Command = {
  group: "metrics",
  name: "update",
  args: "<id|hostname>",
  summary: "Pull fresh metrics for a host from Prometheus.",
  options: { ...JSON_OPTION },
  optionHelp: [JSON_HELP],
  positionals: ["id|hostname"],
  async run(ctx, values, [ref]) {
    const host = await resolveHost(ctx, ref!);
    const snapshot = await ctx.client().updateMetrics(host.id);
    if (flag(values, "json")) {
      ctx.stdout.write(json(snapshot));
      return EXIT.ok;
    }
    const v = snapshot.values;
    const pct = (n: number | null) => (n === null ? "-" : `${n.toFixed(1)} %`);
    const num = (n: number | null) => (n === null ? "-" : n.toFixed(2));
    const rate = (n: number | null) => (n === null ? "-" : `${formatBytes(n)}/s`);
    ctx.stdout.write(
      keyValues([
        ["Host", `${host.hostname} (#${host.id})`],
        ["CPU", pct(v.cpuPct)],
        ["Memory", pct(v.memPct)],
        ["Disk", pct(v.diskPct)],
        ["Load", `${num(v.load1)} ${num(v.load5)} ${num(v.load15)}`],
        ["Uptime", v.uptimeSeconds === null ? "-" : `${(v.uptimeSeconds / 86_400).toFixed(1)} days`],
        ["Network", `rx ${rate(v.netRxBps)}, tx ${rate(v.netTxBps)}`],
        ["Collected", String(snapshot.collectedAt)],
        ["Fresh until", String(snapshot.expiresAt)],
      ]),
    );
    return EXIT.ok;
  },
};

const artifactsUpload: Command = {
  group: "artifacts",
  name: "upload",
  args: "<host> <file>",
  summary: "Upload a file to a host (by id or hostname), streamed.",
  details: "Progress (bytes, %, speed) is shown on stderr when it is a terminal.",
  options: { ...JSON_OPTION },
  optionHelp: [JSON_HELP],
  positionals: ["host", "file"],
  async run(ctx, values, [ref, file]) {
    // Checked before the host lookup so a typo in the path costs no request.
    const size = (await stat(file!)).size;
    const host = await resolveHost(ctx, ref!);
    const progress = progressLine(ctx.stderr, `uploading ${path.basename(file!)}`, Boolean(ctx.stderr.isTTY));
    let artifact: Awaited<ReturnType<OpsDeskClient["uploadArtifact"]>>;
    try {
      artifact = await ctx.client().uploadArtifact(host.id, file!, {
        onProgress: ({ loaded, total }) => progress.update(loaded, total),
      });
    } catch (error) {
      progress.abandon();
      throw error;
    }
    progress.finish(size, size);
    if (flag(values, "json")) {
      ctx.stdout.write(json(artifact));
      return EXIT.ok;
    }
    ctx.stdout.write(
      keyValues([
        ["Uploaded", `${artifact.originalName} to ${host.hostname} (#${host.id})`],
        ["ID", artifact.id],
        ["Size", `${formatBytes(artifact.sizeBytes)} (${artifact.sizeBytes} bytes)`],
        ["Type", artifact.contentType],
        ["SHA-256", artifact.sha256],
      ]),
    );
    return EXIT.ok;
  },
};

const artifactsList: Command = {
  group: "artifacts",
  name: "list",
  args: "<host>",
  summary: "List a host's artifacts (by host id or hostname).",
  options: { ...JSON_OPTION },
  optionHelp: [JSON_HELP],
  positionals: ["host"],
  async run(ctx, values, [ref]) {
    const host = await resolveHost(ctx, ref!);
    type Artifact = RouterOutputs["artifacts"]["list"]["items"][number];
    const items: Artifact[] = [];
    let cursor: string | undefined;
    do {
      const page = await ctx.client().artifacts.list.query({ hostId: host.id, cursor, limit: 100 });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (flag(values, "json")) {
      ctx.stdout.write(json(items));
      return EXIT.ok;
    }
    if (items.length === 0) {
      ctx.stdout.write(`${host.hostname} has no artifacts.\n`);
      return EXIT.ok;
    }
    ctx.stdout.write(
      table(
        ["ID", "NAME", "SIZE", "TYPE", "UPLOADED"],
        items.map((a) => [a.id, a.originalName, formatBytes(a.sizeBytes), a.contentType, String(a.createdAt)]),
      ),
    );
    return EXIT.ok;
  },
};

const artifactsDownload: Command = {
  group: "artifacts",
  name: "download",
  args: "<id>",
  summary: "Download an artifact, streamed to a file.",
  details:
    "Without -o the file gets the artifact's own name in the current directory (never overwriting one);\n" +
    "-o - writes to stdout. Progress is shown on stderr when it is a terminal.",
  options: { ...OUTPUT_OPTION },
  optionHelp: [["-o, --output <file>", "write to this file (overwrites), or - for stdout"]],
  positionals: ["id"],
  async run(ctx, values, [id]) {
    const response = await ctx.client().downloadArtifact(id!);
    let target = str(values, "output");
    let flags: "w" | "wx" = "w";
    if (target === undefined) {
      // The server already sanitised the name; basename() makes sure it stays here.
      target = path.basename(response.fileName ?? id!) || id!;
      flags = "wx";
    }
    const bytes = await writeStream(ctx, response, target, {
      flags,
      progressLabel: `downloading ${response.fileName ?? id}`,
      total: response.totalBytes,
    });
    if (target !== "-") ctx.stdout.write(`Saved ${formatBytes(bytes)} (${bytes} bytes) to ${target}\n`);
    return EXIT.ok;
  },
};

const auditExport: Command = {
  group: "audit",
  name: "export",
  args: "--format csv|jsonl",
  summary: "Export the audit log (admin, auditor), streamed.",
  options: {
    format: { type: "string" },
    actor: { type: "string" },
    action: { type: "string" },
    "target-type": { type: "string" },
    "target-id": { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    ...OUTPUT_OPTION,
  },
  optionHelp: [
    ["--format csv|jsonl", "required"],
    ["--actor <email>", "only events by this actor"],
    ["--action <ACTION>", "only this action, e.g. HOST_UPDATED"],
    ["--target-type <type>", "e.g. host, artifact, user"],
    ["--target-id <id>", "only this target"],
    ["--from <time>", "ISO date/time, inclusive"],
    ["--to <time>", "ISO date/time"],
    ["-o, --output <file>", "write to this file (default: stdout)"],
  ],
  positionals: [],
  async run(ctx, values) {
    const format = str(values, "format");
    if (format !== "csv" && format !== "jsonl") throw new UsageError("--format must be csv or jsonl.", usageOf(auditExport));
    for (const name of ["from", "to"]) {
      const value = str(values, name);
      if (value !== undefined && Number.isNaN(Date.parse(value))) {
        throw new UsageError(`--${name} is not a date/time: ${value} (use ISO 8601, e.g. 2025-01-31T00:00:00Z).`, usageOf(auditExport));
      }
    }
    const response = await ctx.client().exportAudit({
      format,
      actor: str(values, "actor"),
      action: str(values, "action"),
      targetType: str(values, "target-type"),
      targetId: str(values, "target-id"),
      from: str(values, "from"),
      to: str(values, "to"),
    });
    const target = str(values, "output");
    const bytes = await writeStream(ctx, response, target);
    if (target && target !== "-") ctx.stdout.write(`Saved ${formatBytes(bytes)} of ${format.toUpperCase()} to ${target}\n`);
    return EXIT.ok;
  },
};

const whoami: Command = {
  group: "auth",
  name: "whoami",
  args: "",
  summary: "Show who the token belongs to (checks OPSDESK_URL and OPSDESK_TOKEN).",
  options: { ...JSON_OPTION },
  optionHelp: [JSON_HELP],
  positionals: [],
  async run(ctx, values) {
    const me = await ctx.client().auth.me.query();
    ctx.stdout.write(flag(values, "json") ? json(me) : `${me.email} (${me.role})\n`);
    return EXIT.ok;
  },
};

export const COMMANDS: Command[] = [
  hostsList,
  hostsGet,
  hostsImport,
  hostsExport,
  metricsUpdate,
  artifactsUpload,
  artifactsList,
  artifactsDownload,
  auditExport,
  whoami,
];
