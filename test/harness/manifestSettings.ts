/** The settings the extension contributes, read from package.json (one section or several). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SettingSchema {
  type?: string | string[];
  scope?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

type Section = { properties?: Record<string, SettingSchema> };

export function contributedSettings(): Record<string, SettingSchema> {
  const file = path.join(__dirname, '..', '..', '..', 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { contributes?: { configuration?: Section | Section[] } };
  const configuration = pkg.contributes?.configuration ?? [];
  const sections = Array.isArray(configuration) ? configuration : [configuration];
  return Object.assign({}, ...sections.map((section) => section.properties ?? {})) as Record<string, SettingSchema>;
}
