import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { gzipSync } from "node:zlib";

/**
 * The baseline of the Lighthouse bench: the page's own server-rendered HTML with every
 * script and modulepreload link taken out, so what is left is the document and its inlined
 * stylesheet (ADR 024), the fastest the same content can paint. It is served gzip-compressed
 * (level 6, as the app's compression middleware) from a tiny static server on loopback.
 */

/** The document without JavaScript: `<script>` elements (inline or not) and modulepreload links. */
export function withoutScripts(html: string): string {
  return html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "").replace(/<link\b[^>]*rel="modulepreload"[^>]*>/gi, "");
}

/** Fetches `url` as the signed-in browser would get it and writes the script-free copy to `dir/name.html`. */
export async function saveStaticCopy(url: string, cookie: string | undefined, dir: string, name: string): Promise<{ file: string; htmlBytes: number; removedScripts: number }> {
  const res = await fetch(url, { headers: cookie ? { cookie } : {}, redirect: "manual" });
  const html = await res.text();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}, not the page: ${html.slice(0, 200)}`);
  const copy = withoutScripts(html);
  if (/<script\b|modulepreload/i.test(copy)) throw new Error(`${url}: the static copy still holds a script`);
  if (!/<style\b/i.test(copy)) throw new Error(`${url}: the page has no inlined stylesheet to keep`);
  const file = path.join(dir, `${name}.html`);
  writeFileSync(file, copy);
  return { file, htmlBytes: Buffer.byteLength(copy), removedScripts: (html.match(/<script\b/gi) ?? []).length };
}

export type StaticServer = { url: string; close: () => Promise<void> };

/** Serves `dir/<name>.html` at `/<name>` (GET only, nothing else). */
export async function startStaticServer(dir: string): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const name = /^\/([\w-]+)$/.exec(new URL(req.url ?? "/", "http://x").pathname)?.[1];
    let body: Buffer;
    try {
      if (req.method !== "GET" || !name) throw new Error("not a page");
      body = readFileSync(path.join(dir, `${name}.html`));
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    const sent = gzip ? gzipSync(body, { level: 6 }) : body;
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-length": sent.length,
      "cache-control": "no-store",
      ...(gzip ? { "content-encoding": "gzip" } : {}),
    });
    res.end(sent);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
