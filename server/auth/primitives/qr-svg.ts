import QRCode from "qrcode";

/**
 * Black modules on a white quiet zone, always: many phone scanners cannot read
 * an inverted (light-on-dark) code, so the image must not follow a dark theme.
 * The size is left to CSS (viewBox only), and the markup is built from the
 * module matrix rather than from qrcode's SVG renderer so it is one compact
 * path we fully control: no script, no external references, nothing to sanitise.
 */
const QUIET_ZONE_MODULES = 4; // the minimum the QR specification requires

export async function qrCodeSvg(text: string): Promise<string> {
  // "M" recovers ~15% damage; otpauth URIs fit comfortably at that level.
  const { modules } = QRCode.create(text, { errorCorrectionLevel: "M" });
  const side = modules.size + QUIET_ZONE_MODULES * 2;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges" role="img" aria-label="QR code">` +
    `<rect width="${side}" height="${side}" fill="#fff"/>` +
    `<path fill="#000" d="${modulePath(modules)}"/>` +
    "</svg>"
  );
}

/** One rectangle per horizontal run of dark modules, all in a single path. */
function modulePath(modules: QRCode.BitMatrix): string {
  const commands: string[] = [];
  for (let row = 0; row < modules.size; row++) {
    let col = 0;
    while (col < modules.size) {
      if (!modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < modules.size && modules.get(row, col)) col++;
      const length = col - start;
      commands.push(`M${start + QUIET_ZONE_MODULES} ${row + QUIET_ZONE_MODULES}h${length}v1h-${length}z`);
    }
  }
  return commands.join("");
}
