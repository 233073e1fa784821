import type { MigrationObject } from "@mikro-orm/core";
import { Migration20261125000000Foundation } from "./Migration20261125000000Foundation";
import { Migration20261125010000Identity } from "./Migration20261125010000Identity";
import { Migration20261125020000Hosts } from "./Migration20261125020000Hosts";
import { Migration20261125030000Metrics } from "./Migration20261125030000Metrics";
import { Migration20261125040000Artifacts } from "./Migration20261125040000Artifacts";
import { Migration20261125050000ImportRunsLarge } from "./Migration20261125050000ImportRunsLarge";
import { Migration20261125060000AuditJsonText } from "./Migration20261125060000AuditJsonText";
import { Migration20261125070000HostActorsWithoutForeignKeys } from "./Migration20261125070000HostActorsWithoutForeignKeys";
import { Migration20261125080000AuditTargetIndex } from "./Migration20261125080000AuditTargetIndex";
import { Migration20261206000000RefreshRotatedBy } from "./Migration20261206000000RefreshRotatedBy";
import { Migration20261206010000LockedDeviceTokens } from "./Migration20261206010000LockedDeviceTokens";
import { Migration20261207000000MaintenanceRounds } from "./Migration20261207000000MaintenanceRounds";
import { Migration20261208000000ImportProgress } from "./Migration20261208000000ImportProgress";
import { Migration20261209000000ListSearchIndexes } from "./Migration20261209000000ListSearchIndexes";

/**
 * Listed explicitly: the server runs from a bundle, where MikroORM cannot discover
 * migration files by path. Append new migrations here, oldest first.
 */
export const migrationsList: MigrationObject[] = [
  { name: "Migration20261125000000Foundation", class: Migration20261125000000Foundation },
  { name: "Migration20261125010000Identity", class: Migration20261125010000Identity },
  { name: "Migration20261125020000Hosts", class: Migration20261125020000Hosts },
  { name: "Migration20261125030000Metrics", class: Migration20261125030000Metrics },
  { name: "Migration20261125040000Artifacts", class: Migration20261125040000Artifacts },
  { name: "Migration20261125050000ImportRunsLarge", class: Migration20261125050000ImportRunsLarge },
  { name: "Migration20261125060000AuditJsonText", class: Migration20261125060000AuditJsonText },
  { name: "Migration20261125070000HostActorsWithoutForeignKeys", class: Migration20261125070000HostActorsWithoutForeignKeys },
  { name: "Migration20261125080000AuditTargetIndex", class: Migration20261125080000AuditTargetIndex },
  { name: "Migration20261206000000RefreshRotatedBy", class: Migration20261206000000RefreshRotatedBy },
  { name: "Migration20261206010000LockedDeviceTokens", class: Migration20261206010000LockedDeviceTokens },
  { name: "Migration20261207000000MaintenanceRounds", class: Migration20261207000000MaintenanceRounds },
  { name: "Migration20261208000000ImportProgress", class: Migration20261208000000ImportProgress },
  { name: "Migration20261209000000ListSearchIndexes", class: Migration20261209000000ListSearchIndexes },
];
