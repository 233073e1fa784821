import { randomBytes } from "node:crypto";
import type { EntityManager } from "@mikro-orm/postgresql";
import type { Config } from "../../server/config";
import { hashPassword } from "../../server/auth/password";
import type { Role } from "../../server/auth/roles";
import { type HostFields, hostFieldsSchema } from "../../server/domain/hosts/host-fields";
import { createHost } from "../../server/services/hosts/hosts.service";
import { HostSchema } from "../entities/host.entity";
import { UserSchema } from "../entities/user.entity";

const DEMO_USERS: { email: string; role: Role }[] = [
  { email: "operator@demo.opsdesk.local", role: "operator" },
  { email: "auditor@demo.opsdesk.local", role: "auditor" },
  { email: "viewer@demo.opsdesk.local", role: "viewer" },
];

/** Demo users, one per non-admin role, so each role can be tried, and a demo fleet. */
export async function seedDemoData(em: EntityManager, config: Config): Promise<string[]> {
  const lines: string[] = [];
  const password = randomBytes(12).toString("base64url");
  const hash = await hashPassword(password);
  let created = 0;
  for (const demo of DEMO_USERS) {
    if (await em.findOne(UserSchema, { email: demo.email })) continue;
    em.create(UserSchema, { email: demo.email, role: demo.role, passwordHash: hash });
    created++;
  }
  await em.flush();
  lines.push(
    created
      ? `Demo users created (${DEMO_USERS.map((u) => u.email).join(", ")}), password: ${password}`
      : "Demo users already exist.",
  );
  lines.push(await seedDemoHosts(em, config));
  return lines;
}

const BASTION = "ops@bastion.example.internal";
const SEED_ACTOR = { id: null, email: "seed" };
const NO_REQUEST = { ip: null, userAgent: null, requestId: null };

type DemoHost = {
  hostname: string;
  ip: string;
  port?: number;
  sshUser: string;
  environment: "prod" | "staging" | "dev";
  os: string;
  tags: string[];
  notes?: string;
  prometheusInstance?: string;
};

const UBUNTU = "Ubuntu 22.04 LTS";
const UBUNTU_NOBLE = "Ubuntu 24.04 LTS";
const DEBIAN = "Debian 12";
const ROCKY = "Rocky Linux 9.4";
const AMAZON = "Amazon Linux 2023";
const FLATCAR = "Flatcar Container Linux 3975";

/** A small two-region company fleet: what a new user expects to see on /hosts. */
const DEMO_HOSTS: DemoHost[] = [
  // prod, eu-west
  { hostname: "edge-01.prod.eu-west.example.internal", ip: "10.10.0.11", port: 2222, sshUser: "ops", environment: "prod", os: DEBIAN, tags: ["edge", "haproxy", "eu"], notes: "Public ingress (TLS termination). SSH on 2222; drain in HAProxy before a reboot." },
  { hostname: "edge-02.prod.eu-west.example.internal", ip: "10.10.0.12", port: 2222, sshUser: "ops", environment: "prod", os: DEBIAN, tags: ["edge", "haproxy", "eu"], notes: "Pair of edge-01 (VRRP). Never reboot both in the same window." },
  { hostname: "web-01.prod.eu-west.example.internal", ip: "10.10.1.21", sshUser: "ubuntu", environment: "prod", os: UBUNTU, tags: ["web", "nginx", "eu"], notes: "Storefront front end." },
  { hostname: "web-02.prod.eu-west.example.internal", ip: "10.10.1.22", sshUser: "ubuntu", environment: "prod", os: UBUNTU, tags: ["web", "nginx", "eu"] },
  { hostname: "web-03.prod.eu-west.example.internal", ip: "10.10.1.23", sshUser: "ubuntu", environment: "prod", os: UBUNTU_NOBLE, tags: ["web", "nginx", "eu"], notes: "Canary for the Ubuntu 24.04 rollout." },
  { hostname: "db-01.prod.eu-west.example.internal", ip: "10.10.2.31", sshUser: "rocky", environment: "prod", os: ROCKY, tags: ["db", "postgres", "primary", "eu", "pci"], notes: "PostgreSQL 16 primary. Failover runbook: OPS-112. Backups at 02:00 UTC." },
  { hostname: "db-02.prod.eu-west.example.internal", ip: "10.10.2.32", sshUser: "rocky", environment: "prod", os: ROCKY, tags: ["db", "postgres", "replica", "eu", "pci"], notes: "Streaming replica of db-01 (synchronous)." },
  { hostname: "cache-01.prod.eu-west.example.internal", ip: "10.10.3.41", sshUser: "admin", environment: "prod", os: DEBIAN, tags: ["cache", "redis", "eu"], notes: "Redis 7, sessions and rate limits. Eviction policy: allkeys-lru." },
  { hostname: "cache-02.prod.eu-west.example.internal", ip: "10.10.3.42", sshUser: "admin", environment: "prod", os: DEBIAN, tags: ["cache", "redis", "eu"] },
  { hostname: "k8s-node-01.prod.eu-west.example.internal", ip: "10.10.4.51", sshUser: "core", environment: "prod", os: FLATCAR, tags: ["k8s", "worker", "eu"], notes: "Managed by the cluster; cordon and drain before any manual change." },
  { hostname: "k8s-node-02.prod.eu-west.example.internal", ip: "10.10.4.52", sshUser: "core", environment: "prod", os: FLATCAR, tags: ["k8s", "worker", "eu"] },
  { hostname: "k8s-node-03.prod.eu-west.example.internal", ip: "10.10.4.53", sshUser: "core", environment: "prod", os: FLATCAR, tags: ["k8s", "worker", "eu"] },
  { hostname: "mq-01.prod.eu-west.example.internal", ip: "10.10.5.61", sshUser: "admin", environment: "prod", os: DEBIAN, tags: ["mq", "rabbitmq", "eu"], notes: "RabbitMQ 3.13, quorum queues for orders." },
  // prod, us-east
  { hostname: "edge-01.prod.us-east.example.internal", ip: "10.20.0.11", port: 2222, sshUser: "ops", environment: "prod", os: DEBIAN, tags: ["edge", "haproxy", "us"] },
  { hostname: "web-01.prod.us-east.example.internal", ip: "10.20.1.21", sshUser: "ec2-user", environment: "prod", os: AMAZON, tags: ["web", "nginx", "us"] },
  { hostname: "web-02.prod.us-east.example.internal", ip: "10.20.1.22", sshUser: "ec2-user", environment: "prod", os: AMAZON, tags: ["web", "nginx", "us"] },
  { hostname: "db-01.prod.us-east.example.internal", ip: "10.20.2.31", sshUser: "rocky", environment: "prod", os: ROCKY, tags: ["db", "postgres", "primary", "us", "pci"], notes: "PostgreSQL 16 primary for US customers (data residency: stays in us-east)." },
  { hostname: "db-02.prod.us-east.example.internal", ip: "10.20.2.32", sshUser: "rocky", environment: "prod", os: ROCKY, tags: ["db", "postgres", "replica", "us", "pci"] },
  { hostname: "cache-01.prod.us-east.example.internal", ip: "10.20.3.41", sshUser: "ec2-user", environment: "prod", os: AMAZON, tags: ["cache", "redis", "us"] },
  { hostname: "k8s-node-01.prod.us-east.example.internal", ip: "10.20.4.51", sshUser: "core", environment: "prod", os: FLATCAR, tags: ["k8s", "worker", "us"] },
  { hostname: "k8s-node-02.prod.us-east.example.internal", ip: "10.20.4.52", sshUser: "core", environment: "prod", os: FLATCAR, tags: ["k8s", "worker", "us"] },
  { hostname: "mon-01.prod.example.internal", ip: "10.30.0.10", sshUser: "ubuntu", environment: "prod", os: UBUNTU, tags: ["monitoring", "prometheus", "eu"], notes: "Prometheus and Alertmanager for every environment. 30 days of retention.", prometheusInstance: "10.30.0.10:9100" },
  { hostname: "logs-01.prod.example.internal", ip: "2001:db8:30::21", sshUser: "ubuntu", environment: "prod", os: UBUNTU_NOBLE, tags: ["logging", "loki", "eu", "ipv6"], notes: "Loki, IPv6 only. 14 days of logs." },
  // staging
  { hostname: "edge-01.staging.example.internal", ip: "10.40.0.11", port: 2222, sshUser: "ops", environment: "staging", os: DEBIAN, tags: ["edge", "haproxy", "eu"] },
  { hostname: "web-01.staging.example.internal", ip: "10.40.1.21", sshUser: "ubuntu", environment: "staging", os: UBUNTU_NOBLE, tags: ["web", "nginx", "eu"], notes: "Deployed on every merge to main." },
  { hostname: "web-02.staging.example.internal", ip: "10.40.1.22", sshUser: "ubuntu", environment: "staging", os: UBUNTU_NOBLE, tags: ["web", "nginx", "us"] },
  { hostname: "db-01.staging.example.internal", ip: "10.40.2.31", sshUser: "rocky", environment: "staging", os: ROCKY, tags: ["db", "postgres", "eu"], notes: "Restored nightly from an anonymised prod dump (03:30 UTC)." },
  { hostname: "cache-01.staging.example.internal", ip: "10.40.3.41", sshUser: "admin", environment: "staging", os: DEBIAN, tags: ["cache", "redis", "eu"] },
  { hostname: "k8s-node-01.staging.example.internal", ip: "10.40.4.51", sshUser: "core", environment: "staging", os: FLATCAR, tags: ["k8s", "worker", "eu"] },
  { hostname: "k8s-node-02.staging.example.internal", ip: "10.40.4.52", sshUser: "core", environment: "staging", os: FLATCAR, tags: ["k8s", "worker", "eu"] },
  { hostname: "mq-01.staging.example.internal", ip: "10.40.5.61", sshUser: "admin", environment: "staging", os: DEBIAN, tags: ["mq", "rabbitmq", "eu"] },
  // dev: reachable from the office VPN, no bastion
  { hostname: "web-01.dev.example.internal", ip: "10.50.1.21", sshUser: "ubuntu", environment: "dev", os: UBUNTU_NOBLE, tags: ["web", "nginx", "eu"], notes: "Shared dev box; anyone may redeploy it." },
  { hostname: "db-01.dev.example.internal", ip: "10.50.2.31", sshUser: "admin", environment: "dev", os: DEBIAN, tags: ["db", "postgres", "eu"], notes: "Throwaway data. Reset every Monday." },
  { hostname: "cache-01.dev.example.internal", ip: "10.50.3.41", sshUser: "admin", environment: "dev", os: DEBIAN, tags: ["cache", "redis", "eu"] },
  { hostname: "k8s-dev-01.dev.example.internal", ip: "10.50.4.51", port: 2200, sshUser: "ubuntu", environment: "dev", os: UBUNTU, tags: ["k8s", "eu"], notes: "Single-node k3s for feature branches. SSH on 2200." },
  { hostname: "ci-runner-01.dev.example.internal", ip: "10.50.6.71", sshUser: "ec2-user", environment: "dev", os: AMAZON, tags: ["ci", "us"], notes: "GitHub Actions self-hosted runner." },
];

/**
 * The demo fleet, created through the hosts service (validated like any host and audited
 * as the actor "seed"). Hostnames that already exist are left alone.
 */
async function seedDemoHosts(em: EntityManager, config: Config): Promise<string> {
  let created = 0;
  for (const demo of DEMO_HOSTS) {
    if (await em.findOne(HostSchema, { hostname: demo.hostname })) continue;
    const fields: HostFields = hostFieldsSchema.parse({
      ...demo,
      bastion: demo.environment === "dev" ? null : BASTION,
    });
    await createHost(em, config, SEED_ACTOR, fields, NO_REQUEST);
    created++;
  }
  const skipped = DEMO_HOSTS.length - created;
  return created
    ? `Demo hosts created: ${created}${skipped ? ` (${skipped} already existed)` : ""}.`
    : `Demo hosts already exist (${DEMO_HOSTS.length}).`;
}
