/**
 * `vma` (emulated on the real file): `list`, `config [-c name]`, `verify [-v]`, reading a path or
 * `-` (stdin) so `zstd -q -d -c X.vma.zst | vma verify -v -` works. Failures follow GLib's
 * `g_error` (`** (vma:PID): ERROR **: HH:MM:SS.mmm: ...`) and abort; we exit 133 (SIGTRAP, what a
 * shell reports for g_error's breakpoint). `extract`/`create` are not emulated.
 */
import * as fs from 'node:fs';
import { out, err } from '../cli';
import { VmaError, readVmaHeader, verifyVma, type VmaHeaderInfo } from '../vma';
import { cTime, g3 } from '../format';

const USAGE = `usage: vma command [command options]

vma list <filename>
vma config <filename> [-c <config>]
vma create <filename> [-c <config>] [-d format=<format>:<device name>=<path> [-d ...]]
vma extract <filename> [-d <drive-list>] [-r <fifo>] <targetdir>
vma verify <filename> [-v]
`;

function usage(): number {
  err(USAGE);
  return 1;
}

function gError(msg: string): number {
  err(`** (vma:${process.pid}): ERROR **: ${new Date().toISOString().slice(11, 23)}: ${msg}\n`);
  return 133;
}

function readInput(file: string): Buffer {
  return fs.readFileSync(file === '-' ? 0 : file);
}

function listLines(h: VmaHeaderInfo): string {
  let s = '';
  for (const c of h.configs) s += `CFG: size: ${c.data.length} name: ${c.name}\n`;
  for (const d of h.devices) s += `DEV: dev_id=${d.id} size: ${d.size} devname: ${d.name}\n`;
  s += `CTIME: ${cTime(h.ctimeSec * 1000)}\n`;
  return s;
}

export async function vmaTool(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  const flags = rest.filter((a) => a.startsWith('-') && a !== '-');
  const files = rest.filter((a) => !a.startsWith('-') || a === '-');
  let data: Buffer;
  try {
    if (cmd === 'list' || cmd === 'verify' || cmd === 'config') {
      if (files.length < 1) return usage();
      data = readInput(files[0]!);
    } else if (cmd === 'extract' || cmd === 'create') {
      err(`vma ${cmd}: not emulated by the simulated node\n`);
      return 1;
    } else {
      return usage();
    }
  } catch (e) {
    return gError(`unable to open file '${files[0]}' - ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
  try {
    if (cmd === 'list') {
      out(listLines(readVmaHeader(data)));
      return 0;
    }
    if (cmd === 'config') {
      const ci = rest.indexOf('-c');
      const name = ci >= 0 ? (rest[ci + 1] ?? 'qemu-server.conf') : 'qemu-server.conf';
      const h = readVmaHeader(data);
      const c = h.configs.find((x) => x.name === name);
      if (!c) return gError(`unable to find configuration data '${name}'`);
      out(c.data.toString('utf8'));
      return 0;
    }
    // verify
    const verbose = flags.includes('-v');
    const started = Date.now();
    if (verbose) out(listLines(readVmaHeader(data)));
    const r = verifyVma(data, (pct, bytes) => {
      if (verbose) out(`progress ${pct}% (read ${bytes} bytes, duration ${Math.floor((Date.now() - started) / 1000)} sec)\n`);
    });
    if (verbose) {
      out(`total bytes read ${r.totalBytes}, sparse bytes ${r.sparseBytes} (${g3((r.sparseBytes * 100) / Math.max(1, r.totalBytes))}%)\n`);
      out(`space reduction due to 4K zero blocks ${g3((r.zeroBlockBytes * 100) / Math.max(1, r.totalBytes))}%\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof VmaError) return gError(`${cmd === 'verify' ? 'verify failed - ' : ''}${e.message}`);
    throw e;
  }
}
