/**
 * Deterministic, realistic rows for the hosts CSV benchmark: row `i` is always the same
 * host, so a file of any size can be generated piece by piece without keeping rows.
 */

export const CSV_HEADER = "hostname,ip,port,ssh_user,bastion,environment,os,tags,notes";

const ROLES = [
  { name: "web", tags: ["web", "nginx"] },
  { name: "api", tags: ["api", "k8s"] },
  { name: "db", tags: ["db", "postgres"] },
  { name: "cache", tags: ["cache", "redis"] },
  { name: "edge", tags: ["edge", "haproxy"] },
  { name: "worker", tags: ["worker", "k8s"] },
  { name: "mq", tags: ["mq", "rabbitmq"] },
  { name: "mon", tags: ["monitoring"] },
] as const;
const REGIONS = [
  { name: "eu-west-1", tag: "eu" },
  { name: "eu-central-1", tag: "eu" },
  { name: "us-east-1", tag: "us" },
  { name: "us-west-2", tag: "us" },
  { name: "ap-southeast-1", tag: "apac" },
] as const;
const ENVIRONMENTS = ["prod", "prod", "prod", "staging", "staging", "dev"] as const;
const SYSTEMS = [
  { os: "Ubuntu 22.04 LTS", user: "ubuntu" },
  { os: "Ubuntu 24.04 LTS", user: "ubuntu" },
  { os: "Debian 12", user: "admin" },
  { os: "Rocky Linux 9.4", user: "rocky" },
  { os: "Amazon Linux 2023", user: "ec2-user" },
] as const;
const NOTES = [
  "",
  "",
  "",
  "Owned by the platform team; page #platform-oncall.",
  'Behind the "legacy" load balancer, drain before reboot',
  "Disk: 2x 960 GB NVMe, RAID1. Firmware updated 2024-09.",
  "Kernel pinned, see runbook OPS-1432",
  "Scheduled for decommission in Q3, do not add services",
] as const;

export type BenchHostRow = {
  hostname: string;
  ip: string;
  port: number;
  sshUser: string;
  bastion: string;
  environment: string;
  os: string;
  tags: string[];
  notes: string;
};

/** Host number `i` (0-based), unique by hostname and IP for i < 16,777,216. */
export function benchHostRow(i: number): BenchHostRow {
  const role = ROLES[i % ROLES.length]!;
  const region = REGIONS[Math.floor(i / 7) % REGIONS.length]!;
  const environment = ENVIRONMENTS[Math.floor(i / 3) % ENVIRONMENTS.length]!;
  const system = SYSTEMS[Math.floor(i / 11) % SYSTEMS.length]!;
  const serial = String(i).padStart(7, "0");
  const tags: string[] = [...role.tags, region.tag];
  if (environment === "prod" && i % 4 === 0) tags.push("pci");
  return {
    hostname: `${role.name}-${serial}.${environment}.${region.name}.example.internal`,
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: i % 10 === 0 ? 2222 : 22,
    sshUser: system.user,
    bastion: environment === "dev" ? "" : environment === "prod" ? "ops@bastion.example.internal" : "ops@bastion-stg.example.internal:2222",
    environment,
    os: system.os,
    tags,
    notes: NOTES[i % NOTES.length]!,
  };
}

/** One CSV field, quoted only when needed (RFC 4180). */
function field(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Row `i` as a CSV line. `tags: "import"` writes them the way the import reads them
 * (`web;eu`); `"pg-array"` as a PostgreSQL array literal (`{web,eu}`) for COPY into text[].
 */
export function benchHostLine(i: number, tags: "import" | "pg-array"): string {
  const r = benchHostRow(i);
  return [
    field(r.hostname),
    r.ip,
    String(r.port),
    field(r.sshUser),
    field(r.bastion),
    field(r.environment),
    field(r.os),
    field(tags === "import" ? r.tags.join(";") : `{${r.tags.join(",")}}`),
    // COPY reads an unquoted empty field as NULL; notes is NOT NULL (the app stores "").
    tags === "pg-array" && r.notes === "" ? '""' : field(r.notes),
  ].join(",");
}

/** Rows [0, count) as CSV bytes with a header, built in 64 KiB-ish pieces. */
export function* benchCsvChunks(count: number, tags: "import" | "pg-array" = "import"): Generator<Buffer> {
  let lines: string[] = [CSV_HEADER];
  for (let i = 0; i < count; i++) {
    lines.push(benchHostLine(i, tags));
    if (lines.length === 500) {
      yield Buffer.from(`${lines.join("\n")}\n`, "utf8");
      lines = [];
    }
  }
  if (lines.length > 0) yield Buffer.from(`${lines.join("\n")}\n`, "utf8");
}

/** The whole file in one Buffer. */
export function benchCsv(count: number, tags: "import" | "pg-array" = "import"): Buffer {
  return Buffer.concat([...benchCsvChunks(count, tags)]);
}

/**
 * The same file as benchCsv, written into one allocation of its exact size (its lines are
 * generated twice: once to measure, once to write). For memory measurements: the chunks
 * and the concatenated copy benchCsv makes would be freed into the allocator's free lists
 * and reused by the step being measured, hiding part of its growth.
 */
export function benchCsvInOneAllocation(count: number): Buffer {
  let size = 0;
  for (const chunk of benchCsvChunks(count)) size += chunk.length;
  const file = Buffer.allocUnsafeSlow(size);
  let position = 0;
  for (const chunk of benchCsvChunks(count)) position += chunk.copy(file, position);
  return file;
}
