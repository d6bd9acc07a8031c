// No vscode import here: the manifest unit test reads this list in plain Node.

/** Every command the extension registers; `commandTable` must have exactly these keys. */
export const commandIds = [
  'lifeboat.refresh',
  'lifeboat.showLog',
  'lifeboat.openRepository',
  'lifeboat.openTfvars',
  'lifeboat.connect',
  'lifeboat.filter',
  'lifeboat.clearFilter',
  'lifeboat.loadMoreBackups',
  'lifeboat.restoreGuest',
  'lifeboat.restoreFromNewest',
  'lifeboat.restoreGuestToNewId',
  'lifeboat.restoreBackup',
  'lifeboat.focusExplorer',
  'lifeboat.showBackups',
  'lifeboat.showBackupJobs',
  'lifeboat.checkMinioHealth',
  'lifeboat.checkMonitoringHealth',
  'lifeboat.verifyBackups',
  'lifeboat.rebuildMinio',
  'lifeboat.rebuildMonitoring',
  'lifeboat.openRunbook',
  'lifeboat.showStateVersions',
  'lifeboat.openStateVersion',
  'lifeboat.compareStateWithCurrent',
  'lifeboat.compareStateWith',
  'lifeboat.restoreTfstate',
  'lifeboat.restoreStateVersion',
  'lifeboat.fallbackToLocal',
  'lifeboat.returnToS3',
] as const;

export type CommandId = (typeof commandIds)[number];
