import type { HostFieldName } from "../hosts/host-fields";

/** CSV columns for host fields, in export order; the import accepts any order and subset. */
export const HOSTS_CSV_COLUMNS = [
  { column: "hostname", field: "hostname" },
  { column: "ip", field: "ip" },
  { column: "port", field: "port" },
  { column: "ssh_user", field: "sshUser" },
  { column: "bastion", field: "bastion" },
  { column: "environment", field: "environment" },
  { column: "os", field: "os" },
  { column: "tags", field: "tags" },
  { column: "prometheus_instance", field: "prometheusInstance" },
  { column: "notes", field: "notes" },
  { column: "ssh_template", field: "sshTemplate" },
] as const satisfies ReadonlyArray<{ column: string; field: HostFieldName }>;

export type HostsCsvColumn = (typeof HOSTS_CSV_COLUMNS)[number]["column"];

/** Tags share one cell, separated by this. */
export const HOSTS_CSV_TAG_SEPARATOR = ";";

export type HostsCsvHeaderProblem = { column: string | null; message: string };

export type HostsCsvHeader = {
  /** The host field read from each column position; null for a column that is ignored. */
  fields: Array<HostFieldName | null>;
  hasHostname: boolean;
  problems: HostsCsvHeaderProblem[];
};

const COLUMN_BY_NAME = new Map<string, HostFieldName>(HOSTS_CSV_COLUMNS.map((c) => [c.column, c.field]));
const COLUMN_BY_FIELD = new Map<string, HostsCsvColumn>(HOSTS_CSV_COLUMNS.map((c) => [c.field, c.column]));
const COLUMN_LIST = HOSTS_CSV_COLUMNS.map((c) => c.column).join(", ");

/** The CSV column name of a host field (e.g. sshUser → ssh_user). */
export function columnOfField(field: string): HostsCsvColumn | null {
  return COLUMN_BY_FIELD.get(field) ?? null;
}

/** Maps header cells (case-insensitive, trimmed) to host fields and lists every problem. */
export function readHostsCsvHeader(cells: readonly string[]): HostsCsvHeader {
  const fields: Array<HostFieldName | null> = [];
  const problems: HostsCsvHeaderProblem[] = [];
  const positionOf = new Map<string, number>();

  cells.forEach((cell, index) => {
    const written = cell.trim();
    const name = written.toLowerCase();
    const field = COLUMN_BY_NAME.get(name);
    fields.push(null);
    if (name === "") {
      problems.push({
        column: null,
        message: `Column ${index + 1} of the header has no name; name it (${COLUMN_LIST}) or remove it`,
      });
    } else if (field === undefined) {
      problems.push({ column: written, message: unknownColumnMessage(written) });
    } else if (positionOf.has(name)) {
      problems.push({
        column: name,
        message: `The column "${name}" appears more than once (columns ${positionOf.get(name)} and ${index + 1}); keep one`,
      });
    } else {
      positionOf.set(name, index + 1);
      fields[index] = field;
    }
  });

  const hasHostname = positionOf.has("hostname");
  if (!hasHostname) {
    problems.push({
      column: "hostname",
      message: 'The header has no "hostname" column, which is required; the first line must name the columns, e.g. hostname,ip,port',
    });
  }
  return { fields, hasHostname, problems };
}

function unknownColumnMessage(written: string): string {
  // "sshUser", "SSH User" and "ssh-user" all mean ssh_user: suggest it rather than
  // making the person compare against the list.
  const squashed = written.toLowerCase().replace(/[^a-z0-9]/g, "");
  const suggestion = HOSTS_CSV_COLUMNS.find((c) => c.column.replace(/_/g, "") === squashed);
  const shown = JSON.stringify(written.length > 40 ? `${written.slice(0, 37)}...` : written);
  return suggestion
    ? `Unknown column ${shown}; did you mean "${suggestion.column}"?`
    : `Unknown column ${shown}; the columns are ${COLUMN_LIST}`;
}
