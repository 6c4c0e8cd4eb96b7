// A network namespace joined to the host by a veth pair on a private /30, so a test can run a server
// at an address that is not loopback. remove() takes everything away again.
import { randomBytes } from 'node:crypto';
import { run } from './engine.js';

export interface PrivateNet {
  name: string;
  hostAddress: string;
  innerAddress: string;
  /** argv prefix that runs a command inside the namespace. */
  exec: string[];
  remove(): Promise<void>;
}

async function ip(args: string[]) {
  const res = await run('ip', args);
  if (res.code !== 0) throw new Error(`ip ${args.join(' ')}: ${res.stderr}`);
}

export async function createPrivateNet(): Promise<PrivateNet> {
  const tag = randomBytes(3).toString('hex');
  const name = `berth-t-${tag}`;
  const hostIf = `bth${tag}`;
  const innerIf = `btn${tag}`;
  // 10.213.x.y/30 from the tag, so parallel runs do not collide.
  const n = parseInt(tag.slice(0, 4), 16) % 16384;
  const base = `10.213.${(n >> 6) & 0xff}.${(n & 0x3f) * 4}`;
  const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
  const hostAddress = `${a}.${b}.${c}.${d + 1}`;
  const innerAddress = `${a}.${b}.${c}.${d + 2}`;
  await ip(['netns', 'add', name]);
  const remove = async () => {
    await run('ip', ['link', 'del', hostIf]);
    await run('ip', ['netns', 'del', name]);
  };
  try {
    await ip(['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', innerIf]);
    await ip(['link', 'set', innerIf, 'netns', name]);
    await ip(['addr', 'add', `${hostAddress}/30`, 'dev', hostIf]);
    await ip(['link', 'set', hostIf, 'up']);
    await ip(['-n', name, 'addr', 'add', `${innerAddress}/30`, 'dev', innerIf]);
    await ip(['-n', name, 'link', 'set', innerIf, 'up']);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    await remove();
    throw err;
  }
  return { name, hostAddress, innerAddress, exec: ['ip', 'netns', 'exec', name], remove };
}
