/**
 * Each configured route compiled once at start: its de-identification profile checked against
 * the anonymizer and its model looked up, so a typo in an option name or a model id stops the
 * gateway with the route's path instead of failing every study later.
 */
import { createProfile, type Profile } from '../../anonymizer/index.js';
import type { LimenConfig, RouteConfig } from '../../config/index.js';
import { findModelDir } from '../../pipeline/process/model-dirs.js';

export interface CompiledRoute {
  name: string;
  config: RouteConfig;
  profile: Profile;
}

export interface RouteIssue {
  path: string;
  message: string;
}

/** Compiles every route's profile; returns all problems at once, like config validation. */
export function compileRoutes(config: LimenConfig): { ok: true; routes: Map<string, CompiledRoute> } | { ok: false, issues: RouteIssue[] } {
  const routes = new Map<string, CompiledRoute>();
  const issues: RouteIssue[] = [];
  for (const [name, route] of Object.entries(config.routes)) {
    const d = route.deidentification;
    const r = createProfile({
      // The route's name is part of the profile's name, so two routes never link one patient's data.
      name: `${d.profile}@${name}`,
      options: d.options,
      safePrivate: d.safePrivateAllowlist,
      allowBurnedIn: d.allowBurnedIn,
    });
    if (r.ok) routes.set(name, { name, config: route, profile: r.profile });
    else for (const i of r.issues) issues.push({ path: `routes.${name}.deidentification.${i.path === 'safePrivate' ? 'safePrivateAllowlist' : i.path}`, message: i.message });
    if (route.model !== undefined && findModelDir(route.model, config.models.dir) === undefined) {
      issues.push({ path: `routes.${name}.model`, message: `no model "${route.model}" in ${config.models.dir} or among the models shipped with Limen` });
    }
    if (d.profile !== 'basic') issues.push({ path: `routes.${name}.deidentification.profile`, message: `unknown profile "${d.profile}"; known: basic (PS3.15 Basic Application Confidentiality Profile, with options)` });
  }
  return issues.length ? { ok: false, issues } : { ok: true, routes };
}
