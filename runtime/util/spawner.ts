// Processes started off the event loop. Node's spawn forks the engine itself: the fork copies the
// engine's page tables while the event loop waits, 1–6 ms on a quiet machine and 25–240 ms under load
// (measured with --cpu-prof: `runc delete` and conmon starts were the longest blocks of the loop while
// containers started). A small helper process (perl, ~5 MB) forks instead, and relays each child's
// pid, output and exit over one pipe. Where it cannot run (no perl), child_process does it as before.
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { LineHelper } from './line-helper.js';

/** What a caller sees of a process started through the helper (a narrow ChildProcess). */
export interface Spawned {
  /** 'stdout', 'stderr', 'fd3': (data: Buffer); 'end:stdout', 'end:stderr', 'end:fd3'; 'exit': (code, signal); 'error': (err). */
  readonly events: EventEmitter;
  /** Sends a signal to the process (while it runs). */
  kill(signal?: NodeJS.Signals | number): void;
  /** Stops relaying fd 3 and closes the helper's end of it (as destroying a pipe's read end does). */
  closeFd3(): void;
}

export interface SpawnOptions {
  /** Written to the child's stdin, which then closes (otherwise stdin is /dev/null). */
  input?: string;
  stdout?: boolean;
  stderr?: boolean;
  /** A pipe at fd 3 (conmon's sync pipe). */
  fd3?: boolean;
  /** A new session (setsid), as `detached: true`. */
  detached?: boolean;
  /** Variables set over the engine's environment. */
  env?: Record<string, string>;
}

const FLAG = { stdout: 1, stderr: 2, fd3: 4, detached: 8, input: 16 };

/**
 * Requests (one line each, fields hex-encoded): `S id flags env input path args…` starts a process;
 * `K id signal` signals it; `C id` closes its fd 3. Answers: `id P pid`, `id O|E|3 hexdata` (output),
 * `id o|e|c` (that stream's end), `id X code signal` (exit), `id F errno` (could not start).
 */
const HELPER = String.raw`
use strict; use warnings; use POSIX (); use IO::Select; use Fcntl;
$| = 1;
my $sel = IO::Select->new(\*STDIN);
pipe(my $sigr, my $sigw) or die; $sel->add($sigr);
fcntl($sigw, F_SETFL, O_NONBLOCK);
$SIG{CHLD} = sub { syswrite($sigw, "x") };
$SIG{PIPE} = 'IGNORE';
my (%byfd, %pids, %procs); my $in = '';
sub unhex { my $h = shift; return $h eq '-' ? '' : pack('H*', $h) }
sub out { print STDOUT join(' ', @_), "\n" }
sub closefd { my ($fh) = @_; $sel->remove($fh); delete $byfd{fileno $fh}; close $fh; }
while (1) {
  my @ready = $sel->can_read();
  for my $fh (@ready) {
    if ($fh == $sigr) { sysread($sigr, my $junk, 512); next }
    if ($fh == \*STDIN) {
      my $n = sysread(STDIN, $in, 65536, length $in);
      exit 0 if !$n;
      while ($in =~ s/^([^\n]*)\n//) {
        my ($op, $id, @f) = split / /, $1;
        if ($op eq 'S') {
          my ($flags, $env, $input, @argv) = ($f[0], unhex($f[1]), unhex($f[2]), map { unhex($_) } @f[3..$#f]);
          my (%p, @close);
          for my $k ([1, 'O', 1], [2, 'E', 2], [4, '3', 3]) {
            next unless $flags & $k->[0];
            pipe(my $r, my $w) or do { out($id, 'F', $! + 0); next };
            $p{$k->[2]} = [$r, $w, $k->[1]];
          }
          my ($ir, $iw); if ($flags & 16) { pipe($ir, $iw) }
          my $pid = fork();
          if (!defined $pid) { out($id, 'F', $! + 0); next }
          if ($pid == 0) {
            POSIX::setsid() if $flags & 8;
            $SIG{PIPE} = 'DEFAULT'; $SIG{CHLD} = 'DEFAULT';
            for my $kv (split /\0/, $env) { my ($k, $v) = split /=/, $kv, 2; $ENV{$k} = $v }
            my $null = POSIX::open('/dev/null', POSIX::O_RDWR());
            POSIX::dup2($ir ? fileno($ir) : $null, 0);
            for my $fd (1, 2, 3) { POSIX::dup2($p{$fd} ? fileno($p{$fd}[1]) : $null, $fd) if $p{$fd} || $fd < 3 }
            POSIX::close($null) if $null > 3;
            exec { $argv[0] } @argv;
            POSIX::_exit(127);
          }
          if ($iw) { close $ir; fcntl($iw, F_SETFL, O_NONBLOCK); syswrite($iw, $input); close $iw }
          $pids{$pid} = $id; $procs{$id} = { pid => $pid, fds => {} };
          out($id, 'P', $pid);
          for my $fd (keys %p) {
            my ($r, $w, $tag) = @{$p{$fd}};
            close $w; $byfd{fileno $r} = [$id, $tag, $r]; $procs{$id}{fds}{$tag} = $r; $sel->add($r);
          }
        } elsif ($op eq 'K') {
          kill($f[0] + 0, $procs{$id}{pid}) if $procs{$id};
        } elsif ($op eq 'C') {
          my $r = $procs{$id} && delete $procs{$id}{fds}{'3'};
          if ($r) { closefd($r); out($id, 'c') }
        }
      }
      next;
    }
    my $e = $byfd{fileno $fh}; next unless $e;
    my ($id, $tag) = @$e;
    my $n = sysread($fh, my $buf, 65536);
    if ($n) { out($id, $tag, unpack('H*', $buf)); next }
    closefd($fh); delete $procs{$id}{fds}{$tag} if $procs{$id};
    out($id, lc($tag eq '3' ? 'c' : $tag));
    delete $procs{$id} if $procs{$id} && $procs{$id}{done} && !%{$procs{$id}{fds}};
  }
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $pids{$pid}; next unless defined $id;
    my $status = $?;
    out($id, 'X', ($status & 127) ? -1 : ($status >> 8), $status & 127);
    if ($procs{$id}) { $procs{$id}{done} = 1; delete $procs{$id} if !%{$procs{$id}{fds}} }
  }
}`;

const hex = (s: string) => (s === '' ? '-' : Buffer.from(s).toString('hex'));
const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
const STREAM: Record<string, string> = { O: 'stdout', E: 'stderr', '3': 'fd3' };
const ENDS: Record<string, string> = { o: 'stdout', e: 'stderr', c: 'fd3' };

class Spawner {
  private readonly live = new Map<string, EventEmitter>();
  private next = 0;
  private readonly helper = new LineHelper('perl', ['-e', HELPER], {
    encoding: 'latin1',
    disabled: process.env.BERTH_SPAWN_HELPER === '0',
    line: (line) => {
      this.answer(line.split(' '));
      if (this.live.size === 0) this.helper.awaiting(false);
    },
    gone: () => {
      for (const events of this.live.values()) events.emit('error', new Error('the process helper ended'));
      this.live.clear();
    },
  });

  /** Undefined when the helper is not available: the caller uses child_process. */
  spawn(path: string, args: string[], o: SpawnOptions = {}): Spawned | undefined {
    if (!this.helper.available()) return undefined;
    const id = String(++this.next);
    const events = new EventEmitter();
    this.live.set(id, events);
    if (this.live.size === 1) this.helper.awaiting(true);
    let flags = 0;
    for (const k of ['stdout', 'stderr', 'fd3', 'detached'] as const) if (o[k]) flags |= FLAG[k];
    if (o.input !== undefined) flags |= FLAG.input;
    const env = Object.entries(o.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\0');
    this.helper.send(`S ${id} ${flags} ${hex(env)} ${hex(o.input ?? '')} ${[path, ...args].map(hex).join(' ')}`);
    let exited = false;
    events.once('exit', () => (exited = true));
    return {
      events,
      kill: (signal = 'SIGTERM') => {
        if (exited || !this.helper.running()) return;
        const number = typeof signal === 'number' ? signal : SIGNALS[signal];
        if (number) this.helper.send(`K ${id} ${number}`);
      },
      closeFd3: () => void (this.helper.running() && this.helper.send(`C ${id}`)),
    };
  }

  private answer([id, kind, ...rest]: string[]): void {
    const events = this.live.get(id ?? '');
    if (!events || !kind) return;
    if (kind === 'P') events.emit('pid', Number(rest[0]));
    else if (STREAM[kind]) events.emit(STREAM[kind], Buffer.from(rest[0] ?? '', 'hex'));
    else if (ENDS[kind]) events.emit(`end:${ENDS[kind]}`);
    else if (kind === 'F') {
      this.live.delete(id!);
      const err = Object.assign(new Error(`spawn: errno ${rest[0]}`), { code: 'ESPAWN' });
      events.emit('error', err);
    } else if (kind === 'X') {
      const code = Number(rest[0]);
      const signal = Number(rest[1]);
      // The entry stays while output may still come (`end:` follows for each stream asked for): forget() drops it.
      events.emit('exit', code < 0 ? null : code, signal || null);
    }
  }

  /** Forgets a process once its caller has all it wants of it. */
  forget(s: Spawned): void {
    for (const [id, events] of this.live) if (events === s.events) this.live.delete(id);
    if (this.live.size === 0) this.helper.awaiting(false);
  }
}

const spawner = new Spawner();

/** Starts a process through the helper; undefined when the helper is not available. */
export const spawnOff = (path: string, args: string[], o?: SpawnOptions): Spawned | undefined => spawner.spawn(path, args, o);

/** Lets the helper's relay drop what it holds of a process (after its exit and the ends of its output). */
export const forget = (s: Spawned): void => spawner.forget(s);

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * execFile's contract (stdout and stderr collected, rejected on a non-zero exit or a signal, killed
 * after `timeout`), through the helper; through child_process where the helper is not available.
 */
export function execFileOff(path: string, args: string[], o: { input?: string; timeout?: number } = {}): Promise<ExecResult> {
  const s = spawnOff(path, args, { stdout: true, stderr: true, input: o.input });
  if (!s) {
    return new Promise((resolve, reject) => {
      const child = execFile(path, args, { timeout: o.timeout }, (err, stdout, stderr) => {
        if (err) reject(Object.assign(err, { stdout, stderr }));
        else resolve({ stdout, stderr });
      });
      if (o.input !== undefined) child.stdin!.end(o.input);
    });
  }
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let open = 2;
    let exit: { code: number | null; signal: number | null } | undefined;
    const timer = o.timeout ? setTimeout(() => s.kill('SIGTERM'), o.timeout) : undefined;
    const finish = () => {
      if (open > 0 || !exit) return;
      if (timer) clearTimeout(timer);
      forget(s);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (exit.code === 0) return resolve({ stdout, stderr });
      const why = exit.code === null ? `killed by signal ${exit.signal}` : `exit code ${exit.code}`;
      reject(Object.assign(new Error(`Command failed (${why}): ${[path, ...args].join(' ')}\n${stderr}`), { code: exit.code, stdout, stderr }));
    };
    s.events.on('stdout', (d: Buffer) => out.push(d));
    s.events.on('stderr', (d: Buffer) => err.push(d));
    s.events.on('end:stdout', () => (open--, finish()));
    s.events.on('end:stderr', () => (open--, finish()));
    s.events.on('exit', (code: number | null, signal: number | null) => ((exit = { code, signal }), finish()));
    s.events.on('error', (e: Error) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
  });
}
