// autocannon 8 ships no types; only what tests/bench/server-speed.bench.ts uses.
declare module "autocannon" {
  type Histogram = { average: number; mean: number; p50: number; p90: number; p99: number; max: number; total: number };
  export type Options = {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    workers?: number;
    headers?: Record<string, string>;
    timeout?: number;
  };
  export type Result = {
    requests: Histogram;
    latency: Histogram;
    throughput: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    "2xx": number;
  };
  export default function autocannon(options: Options): Promise<Result>;
}
