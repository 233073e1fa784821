import { createCallerFactory, router } from "./init";
import { accountRouter } from "./routers/account";
import { artifactsRouter } from "./routers/artifacts";
import { auditRouter } from "./routers/audit";
import { authRouter } from "./routers/auth";
import { hostsRouter } from "./routers/hosts";
import { metricsRouter } from "./routers/metrics";
import { settingsRouter } from "./routers/settings";
import { systemRouter } from "./routers/system";
import { usersRouter } from "./routers/users";

export const appRouter = router({
  system: systemRouter,
  auth: authRouter,
  account: accountRouter,
  users: usersRouter,
  settings: settingsRouter,
  hosts: hostsRouter,
  metrics: metricsRouter,
  artifacts: artifactsRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
