import { Transform } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/**
 * Remix's <Scripts> preloads every module of the page with `<link rel="modulepreload">`,
 * which Chromium fetches at High priority, as if the scripts blocked rendering. They do
 * not: the stylesheet is inlined and every module is deferred, so the document paints
 * without them. Marking the preloads `fetchpriority="low"` lets the browser give the
 * document and the first paint the link first (Lighthouse's Slow 4G model, which counts
 * High-priority scripts as render-blocking, drew FCP ~1.3 s later for it: ADR 027).
 * <Scripts> takes no attribute for its preload links, hence this rewrite of the HTML stream.
 */
const PRELOAD = '<link rel="modulepreload"';
const LOW_PRIORITY_PRELOAD = '<link rel="modulepreload" fetchpriority="low"';

/**
 * A stream that rewrites each modulepreload link as it passes. Nothing is held back but a
 * chunk's last few bytes when they could begin a link split across chunks, so the document
 * still streams.
 */
export function lowPriorityPreloads(): Transform {
  // Decoded with a StringDecoder: a chunk may end inside a multi-byte character.
  const decoder = new StringDecoder("utf8");
  let carry = "";
  return new Transform({
    transform(chunk: Buffer | string, _encoding, done) {
      const text = carry + (typeof chunk === "string" ? chunk : decoder.write(chunk));
      const keep = partialPrefixLength(text);
      carry = text.slice(text.length - keep);
      done(null, rewrite(text.slice(0, text.length - keep)));
    },
    flush(done) {
      done(null, rewrite(carry + decoder.end()));
    },
  });
}

const rewrite = (html: string): string => html.replaceAll(PRELOAD, LOW_PRIORITY_PRELOAD);

/** How many of `text`'s last characters are a proper beginning of the link's opening. */
function partialPrefixLength(text: string): number {
  for (let length = Math.min(PRELOAD.length - 1, text.length); length > 0; length--) {
    if (PRELOAD.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}
