// The create form of the containers page: an image with a name, a command, ports (host:container), env
// (KEY=VALUE lines) and volumes (src:dst lines), created and started as `docker run -d` does. Fires
// `created` (detail: the ID) or `cancel`.
import { html } from 'lit';
import { DOCKER, getJson, query, send } from '../api.js';
import { Page } from '../page.js';
import { errorBanner } from '../ui.js';

/** The non-empty lines of a text field (also split on commas, for a one-line list). */
function entries(text: string, commas: boolean): string[] {
  return text
    .split(commas ? /[\n,]/ : /\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** `8080:80`, `127.0.0.1:8080:80/udp` or `80` (any free host port) as Docker's ExposedPorts and PortBindings. */
export function portBindings(specs: string[]) {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const spec of specs) {
    const m = /^(?:(?:\[([^\]]+)\]|([^:]+)):)?(?:(\d*):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(spec);
    if (!m) throw new Error(`invalid port "${spec}": want [host-ip:][host-port:]container-port[/protocol]`);
    const [, ip6, ipOrPort, hostPort, containerPort, proto = 'tcp'] = m;
    // With one colon, the part before it is the host port, not an address.
    const [ip, port] = hostPort === undefined && ipOrPort !== undefined && /^\d+$/.test(ipOrPort) ? ['', ipOrPort] : [ip6 ?? ipOrPort ?? '', hostPort ?? ''];
    const key = `${containerPort}/${proto}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: ip, HostPort: port });
  }
  return { exposed, bindings };
}

/** A command line split on blanks, with '…' and "…" grouping words (no escapes, no variables). */
export function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

class ContainerCreate extends Page {
  static override properties = { images: { state: true }, error: { state: true }, working: { state: true } };
  declare images: string[];
  declare error: string | undefined;
  declare working: boolean;

  constructor() {
    super();
    this.images = [];
    this.working = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    getJson<{ RepoTags: string[] | null }[]>(`${DOCKER}/images/json`).then(
      (list) => (this.images = list.flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>')),
      () => undefined, // the list only helps typing
    );
  }

  private async submit(e: SubmitEvent) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const field = (name: string) => String(form.get(name) ?? '').trim();
    this.error = undefined;
    this.working = true;
    try {
      const { exposed, bindings } = portBindings(entries(field('ports'), true));
      const cmd = words(field('command'));
      const tty = form.get('tty') === 'on';
      const body = {
        Image: field('image'),
        Cmd: cmd.length ? cmd : undefined,
        Env: entries(field('env'), false),
        ExposedPorts: exposed,
        Tty: tty,
        OpenStdin: tty,
        HostConfig: { PortBindings: bindings, Binds: entries(field('volumes'), false) },
      };
      const created = await send<{ Id: string }>('POST', `${DOCKER}/containers/create${query({ name: field('name') || undefined })}`, { json: body });
      try {
        await send('POST', `${DOCKER}/containers/${created!.Id}/start`);
      } finally {
        this.dispatchEvent(new CustomEvent('created', { detail: created!.Id, bubbles: true }));
      }
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.working = false;
    }
  }

  override render() {
    return html`
      <form class="create" @submit=${this.submit} aria-label="Create a container">
        <h2>Create a container</h2>
        ${errorBanner(this.error)}
        <div class="fields">
          <label>Image <input name="image" required list="create-images" placeholder="busybox" autocomplete="off" /></label>
          <datalist id="create-images">${this.images.map((t) => html`<option value=${t}></option>`)}</datalist>
          <label>Name <input name="name" placeholder="(generated)" autocomplete="off" /></label>
          <label>Command <input name="command" placeholder="(the image's)" autocomplete="off" /></label>
          <label class="check"><input type="checkbox" name="tty" /> Interactive terminal (TTY, stdin open)</label>
          <label>Ports <textarea name="ports" rows="2" placeholder="8080:80"></textarea></label>
          <label>Environment <textarea name="env" rows="2" placeholder="KEY=VALUE"></textarea></label>
          <label>Volumes <textarea name="volumes" rows="2" placeholder="data:/data"></textarea></label>
        </div>
        <div class="buttons">
          <button class="primary" type="submit" ?disabled=${this.working}>Create and start</button>
          <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('cancel'))}>Cancel</button>
        </div>
      </form>
    `;
  }
}
customElements.define('berth-container-create', ContainerCreate);
