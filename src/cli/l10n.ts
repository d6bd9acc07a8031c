/**
 * The CLI's translations: the same l10n bundles as the extension (l10n/bundle.l10n.<lang>.json),
 * chosen from LC_ALL / LC_MESSAGES / LANG like any Unix tool. English strings are the keys.
 */
import * as l10n from '@vscode/l10n';
import fr from '../../l10n/bundle.l10n.fr.json';

const bundles: Record<string, Record<string, string>> = { fr };

export function cliLanguage(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.LC_ALL || env.LC_MESSAGES || env.LANG || 'en';
  return raw.split(/[_.@-]/)[0]?.toLowerCase() || 'en';
}

export function initL10n(env: NodeJS.ProcessEnv = process.env): void {
  const bundle = bundles[cliLanguage(env)];
  if (bundle) l10n.config({ contents: bundle });
}

export const t = l10n.t;
