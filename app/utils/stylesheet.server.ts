import { readFileSync } from "node:fs";
import path from "node:path";
import stylesheetHref from "../tailwind.css";

let cached: { href: string; text: string } | null = null;

/**
 * The built stylesheet's text, for InlineStylesheet: read once from public/ (where the
 * build put it and Express serves it from), again only when a rebuild changed its name.
 */
export function stylesheetText(): string {
  if (cached?.href !== stylesheetHref) {
    const text = readFileSync(path.join(path.resolve("public"), stylesheetHref), "utf8");
    // Inside <style> only "</style" could end the element early; the build never emits it.
    if (/<\/style/i.test(text)) throw new Error(`${stylesheetHref} contains "</style": it cannot be inlined`);
    cached = { href: stylesheetHref, text };
  }
  return cached.text;
}
