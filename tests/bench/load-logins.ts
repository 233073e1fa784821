import { Agent, request } from "node:http";
import { LOGIN_PASSWORD } from "./load-seed";

/**
 * `people` viewers signing in over and over, each from an address of its own
 * (127.0.1.N: all of 127/8 is loopback on Linux), each waiting for its answer before the
 * next: `people` sign-ins in flight at every moment. Own addresses because that is what 50
 * people at once are, and because the per-address limit (30 attempts per 15 min, counted
 * while in flight) would otherwise answer most of them 429 without hashing a password,
 * which is not the load being measured. The proxy passes the address on in
 * X-Forwarded-For; the instances trust one hop.
 */
export type LoginLoadResult = { ok: number; failed: Record<string, number>; latencies: number[]; seconds: number };

export async function concurrentLogins(url: string, emails: string[], people: number, seconds: number): Promise<LoginLoadResult> {
  if (emails.length < people) throw new Error(`${people} people need ${people} accounts, got ${emails.length}`);
  const target = new URL(url);
  const deadline = performance.now() + seconds * 1000;
  const result: LoginLoadResult = { ok: 0, failed: {}, latencies: [], seconds };
  const fail = (why: string) => {
    result.failed[why] = (result.failed[why] ?? 0) + 1;
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: people }, async (_, i) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: `127.0.1.${i + 1}` });
      const body = JSON.stringify({ 0: { email: emails[i], password: LOGIN_PASSWORD } });
      try {
        while (performance.now() < deadline) {
          const sent = performance.now();
          const answer = await post(agent, target, "/api/trpc/auth.login?batch=1", body).catch((error: Error) => ({ status: 0, text: error.message }));
          if (answer.status === 200 && answer.text.includes('"status":"ok"')) {
            result.ok += 1;
            result.latencies.push(performance.now() - sent);
          } else fail(answer.status === 0 ? `connection: ${answer.text}` : String(answer.status));
        }
      } finally {
        agent.destroy();
      }
    }),
  );
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

function post(agent: Agent, target: URL, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path,
        method: "POST",
        agent,
        timeout: 30_000,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "user-agent": "load-bench (sign-in)" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 30 s")));
    req.on("error", reject);
    req.end(body);
  });
}
