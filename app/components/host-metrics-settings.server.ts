import type { AppLoadContext } from "@remix-run/node";
import { type EffectiveSettings, getSettings } from "../../server/services/settings.service";

/**
 * The settings the host page's panels word their messages with (the Prometheus timeout,
 * the upload limit). Read directly: `settings.get` is for admins only, and these values are
 * not secret.
 */
export function hostPageSettings(context: AppLoadContext): Promise<EffectiveSettings> {
  return getSettings(context.em, context.runtime.config);
}
