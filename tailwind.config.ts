import type { Config } from "tailwindcss";

export default {
  content: ["./app/**/*.{ts,tsx}", "./server/domain/**/svg.ts"],
  darkMode: "media",
  theme: {
    extend: {
      fontFamily: {
        // System fonts only: no web-font downloads over slow links.
        sans: ["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        mono: ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
      },
    },
  },
  plugins: [],
} satisfies Config;
