import type { LoaderFunctionArgs, MetaFunction } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { SystemInfoWidget } from "../components/system-info";
import { callerFor } from "../trpc/caller.server";

export const meta: MetaFunction = () => [{ title: "Status · OpsDesk" }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const caller = await callerFor(request, context);
  return { info: await caller.system.info() };
}

export default function StatusPage() {
  const { info } = useLoaderData<typeof loader>();
  return (
    <div className="max-w-xl">
      <h1 className="mb-4 text-2xl font-bold">System status</h1>
      <SystemInfoWidget initial={info} />
    </div>
  );
}
