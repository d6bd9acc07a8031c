/**
 * `lifeboat`: the same procedures as the extension, headless. Exit codes: 0 success, 1 failure,
 * 2 usage error (unknown option, missing argument) with a usage line.
 */
import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { environmentsCommand, type CliIo } from './commands/environments';
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

  // A usage error prints the usage line of the command that was misused.
  for (const cmd of [program, ...program.commands]) {
    const name = cmd === program ? 'lifeboat' : `lifeboat ${cmd.name()}`;
    cmd.showHelpAfterError(`${t('Usage')}: ${name} ${cmd.usage()}\n${t('(run lifeboat --help for usage)')}`);
  }
  return program;
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
    io.err(t('lifeboat: {0}', err instanceof Error ? err.message : String(err)));
    return ExitCode.failure;
  }
}

if (require.main === module) {
  initL10n();
  const io: CliIo = {
    cwd: process.cwd(),
    env: process.env,
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    style: styles(process.stdout),
  };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
