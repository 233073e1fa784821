import QRCode from "qrcode";
import { describe, expect, it } from "vitest";
import { qrCodeSvg } from "../../../server/auth/primitives/qr-svg";

const URI = "otpauth://totp/OpsDesk:ops%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=OpsDesk";

function darkModuleCount(text: string): number {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  return modules.data.reduce((count, bit) => count + (bit ? 1 : 0), 0);
}

describe("QR code SVG", () => {
  it("is a scalable SVG: a viewBox and no fixed width or height", async () => {
    const svg = await qrCodeSvg(URI);
    const root = svg.match(/^<svg[^>]*>/)?.[0] ?? "";
    expect(root).toMatch(/viewBox="0 0 (\d+) \1"/);
    expect(root).not.toMatch(/\swidth=|\sheight=/);
    expect(svg.endsWith("</svg>")).toBe(true);
  });

  it("draws every dark module in a single black path over a white background", async () => {
    const svg = await qrCodeSvg(URI);
    expect(svg.match(/<path/g)).toHaveLength(1);
    expect(svg).toContain('<path fill="#000"');
    expect(svg).toMatch(/<rect width="(\d+)" height="\1" fill="#fff"\/>/);

    const d = svg.match(/ d="([^"]*)"/)?.[1] ?? "";
    const paintedModules = [...d.matchAll(/h(\d+)v1/g)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(paintedModules).toBe(darkModuleCount(URI));
  });

  it("leaves a four-module quiet zone around the code", async () => {
    const svg = await qrCodeSvg(URI);
    const side = Number(svg.match(/viewBox="0 0 (\d+)/)?.[1]);
    const { modules } = QRCode.create(URI, { errorCorrectionLevel: "M" });
    expect(side).toBe(modules.size + 8);
    // The top-left finder pattern starts with a run of seven dark modules at (4, 4).
    expect(svg).toContain('d="M4 4h7v1h-7z');
  });

  it("contains no script, event handlers, links or the encoded text", async () => {
    const hostile = '"><script>alert(1)</script><a href="javascript:x" onload="y">';
    const svg = await qrCodeSvg(hostile);
    expect(svg).not.toMatch(/<script|\son\w+=|href|javascript:|<foreignObject/i);
    expect(svg).not.toContain("alert");
  });
});
