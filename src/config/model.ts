import type { CategoryNode, DepartmentConfig, RawConfig } from './schema';
import { parseDuration } from '../domain/duration';
import type { LocalizedText } from '../domain/types';
import { loadOfficialDays } from './holidays';

/** A leaf category with its resolved path and department. */
export interface CategoryLeaf {
  id: string;
  path: CategoryNode[];
  department: string;
  required: string[];
  sensitive: boolean;
  /** Knowledge-base articles are offered before a ticket is raised here (config `deflect`, inherited; never when sensitive). */
  deflect: boolean;
}

export interface Department extends DepartmentConfig {
  keyPrefix: string;
}

/** The checked config plus lookups every layer needs. Built once at start. */
export interface Config {
  raw: RawConfig;
  departments: Map<string, Department>;
  /** Every category node by id, leaves and branches. */
  categories: Map<string, CategoryNode>;
  leaves: Map<string, CategoryLeaf>;
  confirmWithinMs: number;
  categoryName(id: string): LocalizedText | undefined;
}

export function buildConfig(raw: RawConfig): Config {
  // A calendar's region brings its official holidays and make-up days, loaded once here.
  for (const c of Object.values(raw.calendars)) if (c.region !== undefined) c.official = loadOfficialDays(c.region);
  const departments = new Map<string, Department>();
  for (const d of raw.departments) {
    departments.set(d.id, { ...d, keyPrefix: d.key_prefix ?? d.id.toUpperCase().replace(/[^A-Z0-9]/g, '') });
  }
  const categories = new Map<string, CategoryNode>();
  const leaves = new Map<string, CategoryLeaf>();
  const walk = (nodes: CategoryNode[], path: CategoryNode[], dept: string | undefined, sensitive: boolean, deflect = true) => {
    for (const node of nodes) {
      categories.set(node.id, node);
      const here = [...path, node];
      const d = node.department ?? dept;
      const s = node.sensitive ?? sensitive;
      const df = node.deflect ?? deflect;
      if (node.children?.length) walk(node.children, here, d, s, df);
      else leaves.set(node.id, { id: node.id, path: here, department: d!, required: node.required ?? [], sensitive: s, deflect: df && !s });
    }
  };
  walk(raw.categories, [], undefined, false);
  return {
    raw,
    departments,
    categories,
    leaves,
    confirmWithinMs: parseDuration(raw.closing.confirm_within)!,
    categoryName: (id) => categories.get(id)?.name,
  };
}
