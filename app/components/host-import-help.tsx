export { formatBytes } from "../../server/domain/format-bytes";

const COLUMNS: { name: string; meaning: string }[] = [
  { name: "hostname", meaning: "Required. Unique name (letters, digits, - and .); an existing hostname updates that host." },
  { name: "ip", meaning: "IPv4 or IPv6 address." },
  { name: "port", meaning: "SSH port, 1–65535 (22 when blank)." },
  { name: "ssh_user", meaning: "Login name for ssh." },
  { name: "bastion", meaning: "Jump host(s) for ssh -J, e.g. admin@jump1:2222; quote the cell when it lists several." },
  { name: "environment", meaning: "Slug such as prod or staging-eu." },
  { name: "os", meaning: "Operating system, free text." },
  { name: "tags", meaning: "Separated by ; (e.g. web;eu-west); quote the cell when the delimiter is ;." },
  { name: "prometheus_instance", meaning: "Where Prometheus scrapes the host, host:port." },
  { name: "notes", meaning: "Free text; quote it if it holds the delimiter or line breaks." },
  { name: "ssh_template", meaning: "Per-host SSH command template, e.g. ssh -p {{port}} {{user}}@{{host}}." },
];

export const EXAMPLE_CSV = [
  "hostname,ip,port,ssh_user,bastion,environment,os,tags,prometheus_instance,notes,ssh_template",
  "web-01.example.net,10.0.1.11,22,deploy,jump.example.net,prod,Debian 12,web;eu-west,10.0.1.11:9100,Behind the load balancer,",
  'db-01.example.net,10.0.2.21,2222,postgres,"jump1.example.net,admin@jump2.example.net:2222",staging,Ubuntu 24.04,db,,"Primary, replicated",',
  "cache-01.example.net,,,,,,,,,,",
].join("\n");

/** What the import reads, with an example to start from (works without JavaScript). */
export function HostImportHelp() {
  return (
    <details className="card mb-4">
      <summary className="cursor-pointer font-semibold">File format: columns and an example</summary>
      <div className="mt-3 space-y-3 text-sm">
        <p>
          The first line names the columns, in any order; only <code>hostname</code> is required, and a column left out
          keeps the current value of an existing host. Cells are separated by <code>,</code> or <code>;</code> (detected
          from the first line unless you choose), tags inside a cell by <code>;</code>. The file must be UTF-8.
        </p>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Meaning</th>
            </tr>
          </thead>
          <tbody>
            {COLUMNS.map((column) => (
              <tr key={column.name}>
                <td>
                  <code>{column.name}</code>
                </td>
                <td>{column.meaning}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="font-medium">Example</p>
        <pre className="overflow-x-auto rounded bg-slate-100 p-2 text-xs dark:bg-slate-900">
          {EXAMPLE_CSV}
        </pre>
        <a
          className="link"
          href={`data:text/csv;charset=utf-8,${encodeURIComponent(`${EXAMPLE_CSV}\n`)}`}
          download="hosts-example.csv"
        >
          Download the example (CSV)
        </a>
      </div>
    </details>
  );
}
