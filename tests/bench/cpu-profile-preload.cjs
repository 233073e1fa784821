// Preloaded into each instance by the load benchmark (NODE_OPTIONS=--require …) when
// LOAD_CPU_PROFILE is set: `--cpu-prof` is refused in NODE_OPTIONS, and a profile of the
// load alone (not boot and seeding) is what shows the slow spots. SIGUSR2 starts the
// V8 profiler; the next SIGUSR2 stops it and writes <dir>/<pid>-<n>.cpuprofile.
const fs = require("node:fs");
const inspector = require("node:inspector");
const path = require("node:path");

const dir = process.env.OPSDESK_CPU_PROFILE_DIR;
const session = new inspector.Session();
session.connect();
let running = false;
let written = 0;

process.on("SIGUSR2", () => {
  if (!running) {
    session.post("Profiler.enable", () => session.post("Profiler.start"));
    running = true;
    return;
  }
  running = false;
  session.post("Profiler.stop", (error, result) => {
    if (error || !dir) return;
    written += 1;
    fs.writeFileSync(path.join(dir, `${process.pid}-${written}.cpuprofile`), JSON.stringify(result.profile));
  });
});
