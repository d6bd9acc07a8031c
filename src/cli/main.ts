/**
 * `lifeboat`: the same procedures as the extension, headless. Exit codes: 0 success, 1 failure,
 * 2 usage error (unknown option, missing argument) with a usage line.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { version } from '../../package.json';
import { environmentsCommand, type CliIo } from './commands/environments';
import { restoreVmCommand, type RestoreVmOptions } from './commands/restoreVm';
import { runbookCommand, type RunbookOptions } from './commands/runbook';
import { restoreTfstateCommand, type RestoreTfstateOptions } from './commands/restoreTfstate';
import { verifyBackupsCommand, type VerifyBackupsOptions } from './commands/verifyBackups';
import { rebuildMinioCommand, rebuildMonitoringCommand, type RebuildMonitoringOptions, type RebuildOptions } from './commands/rebuild';
import { LifeboatError, parseDay, parseVmid, checkNodeName, checkStorageId } from '../core';
import { describeError } from './errors';
import { initL10n, t } from './l10n';
import { ExitCode, styles } from './output';

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('lifeboat')
    .description(t('Guided disaster recovery for a Proxmox VE homelab described by Terraform.'))
    .version(version, '-V, --version')
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();

  program
    .command('environments')
    .description(t('List the environments, nodes, guests, MinIO and state backends found in the repository'))
    .option('--json', t('print the result as JSON'))
    .option('--root <dir>', t('the repository root (default: found from the current folder)'))
    .option('--glob <pattern>', t('where environments are (default: infrastructure/proxmox/environments/*/terraform.tfvars)'))
    .action(async (opts: { json?: boolean; root?: string; glob?: string }) => setExit(await environmentsCommand(opts, io)));

  program
    .command('restore-vm')
    .description(t('Restore a VM or container from its newest backup (or one by date), in place with a safety point, or to a new VMID'))
    .argument('<vmid>', t('the guest to restore'), validated((v) => String(parseVmid(v))))
    .option('--node <node>', t('the node to restore on (default: where the guest is)'), validated(checkNodeName))
    .option('--storage <storage>', t('target storage for the disks (default: as in the backup)'), validated(checkStorageId))
    .option('--date <YYYY-MM-DD>', t('use the newest backup of that day'), validated((v) => (parseDay(v), v)))
    .option('--target-id <vmid>', t('restore beside the original under this new VMID'), validated((v) => String(parseVmid(v, 'target VMID'))))
    .option('--link-down', t('with --target-id: leave the copy\'s network link down (the default without a terminal or with --force)'))
    .addOption(new Option('--link-up', t('with --target-id: connect the copy\'s network link although it has the original\'s address')).conflicts('linkDown'))
    .option('--dry-run', t('show the plan and the exact commands, change nothing'))
    .option('--force', t('answer yes to the confirmation (the plan is still printed)'))
    .option('--json', t('print the report as JSON'))
    .option('--root <dir>', t('the repository root (default: found from the current folder)'))
    .option('--verbose', t('show debug lines'))
    .action(async (vmid: string, opts: RestoreVmOptions) => setExit(await restoreVmCommand(vmid, opts, io)));

  const tfstate = program
    .command('restore-tfstate')
    .description(t('List, show, compare and restore the versions of an environment\'s Terraform state in S3 (as a roll-forward), or fall back to a local backend and return'))
    .option('--env <env>', t('the environment (prod, lab, monitoring…)'), validated(checkEnvName))
    .option('--list', t('list every version of the state, newest first'))
    .option('--nodes', t('with --list: compare each version with the guests the nodes run (reads the nodes over SSH)'))
    .option('--show <version>', t('print one version (an id, current or current~N)'), validated(checkVersionRef))
    .option('--diff <versions...>', t('compare two versions at resource level (the second defaults to the current one)'), validated((v: string, previous?: string[]) => [...(previous ?? []), checkVersionRef(v)]))
    .option('--restore <version>', t('write this version as the new current state (serial + 1), then terraform init and plan'), validated(checkVersionRef))
    .option('--fallback', t('MinIO is down: switch the environment to a local backend'))
    .option('--return', t('MinIO is back: send the local state to S3 and restore backend.tf'))
    .option('--prefer-local', t('with --return: send the local state even if the S3 state is newer'))
    .option('--dry-run', t('show the plan and the exact commands, change nothing'))
    .option('--force', t('answer yes to the confirmation (the plan is still printed)'))
    .option('--json', t('print the result as JSON'))
    .option('--root <dir>', t('the repository root (default: found from the current folder)'))
    .option('--verbose', t('show debug lines'));
  tfstate.action(async (opts: RestoreTfstateOptions) => setExit(await restoreTfstateCommand(opts, io, () => io.err(`${t('Usage')}: lifeboat restore-tfstate ${tfstate.usage()}`))));

  program
    .command('verify-backups')
    .description(t('Verify every backup archive on the nodes (integrity, checksum, age), backup jobs and coverage, and the Terraform state versions; exit 0 ok, 1 warnings, 2 errors'))
    .option('--full', t('read every archive again, even unchanged ones that passed, and check running guests answer'))
    .option('--reread', t('read every archive again, and take the new checksum of a changed archive that passes as the reference'))
    .option('--env <env>', t('only this environment'), validated(checkEnvName))
    .option('--vmid <vmid>', t('only this guest'), validated((v) => String(parseVmid(v))))
    .option('--rpo-hours <hours>', t('recovery point objective when the backup schedule gives none (default 26)'), validated(checkHours))
    .option('--json', t('print the result as JSON'))
    .option('--root <dir>', t('the repository root (default: found from the current folder)'))
    .option('--verbose', t('show debug lines'))
    .action(async (opts: VerifyBackupsOptions) => setExit(await verifyBackupsCommand(opts, io)));

  program
    .command('rebuild-minio')
    .description(t('Rebuild MinIO: terraform apply -target=module.minio, wait for health, buckets with versioning Enabled (read back), upload a local state into an empty bucket, terraform init in every environment'))
    .option('--dry-run', t('show the plan and the exact commands, change nothing'))
    .option('--force', t('answer yes to the confirmation (the plan is still printed)'))
    .option('--json', t('print the report as JSON'))
    .option('--root <dir>', t('the repository root (default: found from the current folder)'))
    .option('--verbose', t('show debug lines'))
    .action(async (opts: RebuildOptions) => setExit(await rebuildMinioCommand(opts, io)));

  program
    .command('rebuild-monitoring')
    .description(t('Restore the monitoring VM from its newest backup (--mode restore) or rebuild it with Terraform (--mode rebuild), then check Prometheus, Grafana and Alertmanager'))
    .requiredOption('--mode <mode>', t('restore (newest backup, safety point) or rebuild (terraform apply, metrics history lost)'), validated(checkMode))
    .option('--dry-run', t('show the plan and the exact commands, change nothing'))
    .option('--force', t('answer yes to the confirmation (the plan is still printed)'))
    .option('--json', t('print the report as JSON'))
    .option('--root <dir>', t('the repository root (default: found from the current folder)'))
    .option('--verbose', t('show debug lines'))
    .action(async (opts: RebuildMonitoringOptions) => setExit(await rebuildMonitoringCommand(opts, io)));

  program
    .command('runbook')
    .description(t('Show what Lifeboat reads in a Markdown runbook: steps, estimates, commands, checklist items, RTO'))
    .argument('<file>', t('the runbook, e.g. docs/DISASTER-RECOVERY.md'))
    .option('--json', t('print the model as JSON'))
    .option('--destructive <pattern...>', t('extra patterns (regular expressions) of commands that ask first'))
    .action(async (file: string, opts: RunbookOptions) => setExit(await runbookCommand(file, opts, io)));

  // A usage error prints the usage line of the command that was misused.
  for (const cmd of [program, ...program.commands]) {
    const name = cmd === program ? 'lifeboat' : `lifeboat ${cmd.name()}`;
    cmd.showHelpAfterError(`${t('Usage')}: ${name} ${cmd.usage()}\n${t('(run lifeboat --help for usage)')}`);
  }
  return program;
}

function checkMode(v: string): string {
  if (v !== 'restore' && v !== 'rebuild') throw new LifeboatError('invalidValue', `invalid mode ${v}`, { field: '--mode', value: v, expected: 'restore or rebuild' });
  return v;
}

function checkHours(v: string): string {
  if (!/^[1-9][0-9]{0,4}$/.test(v)) throw new LifeboatError('invalidValue', `invalid hours ${v}`, { field: 'hours', value: v, expected: 'a whole number of hours, e.g. 26' });
  return v;
}

function checkEnvName(v: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(v)) throw new LifeboatError('invalidValue', `invalid environment ${v}`, { field: 'environment', value: v, expected: 'an environment folder name (letters, digits, - _ .)' });
  return v;
}

/** Version ids are opaque: any printable text without spaces (or current, current~N). */
function checkVersionRef(v: string): string {
  if (!/^[\x21-\x7e]{1,1024}$/.test(v)) throw new LifeboatError('invalidValue', `invalid version ${v}`, { field: 'version', value: v, expected: 'a version id from --list, current or current~N' });
  return v;
}

/** Validates an argument with a core validator; a bad value is a usage error (exit 2). */
function validated<T>(check: (value: string, previous?: T) => T): (value: string, previous?: T) => T {
  return (value, previous) => {
    try {
      return check(value, previous);
    } catch (err) {
      // `expected` is the validator's English; the ones it words itself have a translation.
      throw new InvalidArgumentError(LifeboatError.is(err) ? t('expected {0}', t(String(err.details.expected ?? ''))) : String(err));
    }
  };
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = buildProgram(io, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.usage;
    }
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version "fail" with code 0; every other commander error is a usage error.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    io.err(describeError(err));
    return ExitCode.failure;
  }
}

/**
 * A line writer that goes quiet once its reader has gone (`lifeboat … | head`): EPIPE must neither
 * print a stack trace nor end the process, since a procedure may be halfway through (a restore
 * still has to protect the guest again and write its report under .lifeboat/reports/).
 */
function lineWriter(stream: NodeJS.WriteStream): (line: string) => void {
  let readerGone = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    readerGone = true;
  });
  return (line) => {
    if (!readerGone) stream.write(line + '\n');
  };
}

if (require.main === module) {
  initL10n();
  const io: CliIo = {
    cwd: process.cwd(),
    env: process.env,
    out: lineWriter(process.stdout),
    err: lineWriter(process.stderr),
    style: styles(process.stdout),
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
