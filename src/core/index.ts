/**
 * The core's public surface: the CLI and the extension import from here only.
 * Nothing under src/core imports vscode, ssh2, minio or execa (enforced by tsconfig.core.json and eslint).
 */
export * from './model/environment';
export * from './model/secret';
export * from './ports';
export { parseHcl, type HclDocument, type HclValue, type HclEntry, type Range, type Position } from './config/hcl';
export { readBackend, hostOf } from './config/tfvars';
export { discoverEnvironments, findRepositoryRoot, homelabNodes, declaredGuests, DEFAULT_ENVIRONMENTS_GLOB, type DiscoveryOptions } from './config/discovery';
export { environmentsReport, type EnvironmentsReport } from './config/report';
export * from './errors';
export * from './inventory/model';
export { loadInventory, runJson, type LoadInventoryOptions } from './inventory/load';
export { backupDay, backupsOf, chooseBackup, isStale, isSafetyPoint, newestBackup, SAFETY_POINT_NOTE, matchGuests, orphanBackups, undeclaredGuests, restoreNodeFor, rpoHoursFor, guestRpoHours, jobCovers, RPO_MARGIN_HOURS, isKnownCorrupt, usableBackups, type Verdict, type MatchOptions, type StateGuestHint } from './inventory/backups';
export { parseCalendarEvent, largestGapHours, type CalendarEvent } from './inventory/schedule';
export * from './procedure/message';
export * from './procedure/types';
export { runPlan, type RunOptions } from './procedure/engine';
export { planGuestRestore, restoreAftermath, defaultGuestRestoreTiming, formatTime, gib, type GuestRestoreRequest, type GuestRestoreDeps, type GuestRestoreFacts, type GuestRestoreTiming } from './restore/guestRestore';
export { commandLine, quoteArg, type CommandSpec } from './proxmox/shell';
export { parseVmid, parseDay, checkStorageId, checkNodeName } from './proxmox/validate';
export * from './health/health';
export { tfvarsLenses, lensTitle, ageText, type LensSpec, type LensContext } from './lenses/tfvarsLenses';
export { outlineTfvars, type TfvarsOutline } from './config/tfvars';
export * from './state';
export * from './runbook/model';
export { parseRunbook, estimateIn, estimateInText, rtoIn, textHash, MAX_RUNBOOK_CHARS, MAX_NESTING, type ParseOptions } from './runbook/parse';
export { splitCommands, withoutComment, shellSensitive, placeholdersOf, fillPlaceholders, lifeboatMappingOf, destructiveReason, destructiveReasonText, KNOWN_SCRIPTS, SHELL_LANGUAGES } from './runbook/commands';
export * from './runbook/checklist';
export { MASK, isSecretName, maskSecrets, secretValues } from './runbook/secrets';
export { looksLikeRunbook } from './runbook/detect';
export { runbookReportMarkdown, reportFileName, formatDuration as formatRunDuration, type ReportInput as RunbookReportInput } from './runbook/report';
export * from './verify';
export * from './rebuild';
