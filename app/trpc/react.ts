import { createTRPCReact } from "@trpc/react-query";
import type { AppRouter } from "../../server/trpc/root";

/** React hooks for procedures, typed from the server's router (types only cross over). */
export const trpc = createTRPCReact<AppRouter>();
