// A terminal into a running container: an exec session with a TTY (/bin/sh, or sh from PATH when there
// is no /bin/sh) over berth's exec websocket (GET /exec/{id}/start/ws), drawn by xterm.js. The
// terminal's size follows its box (the fit addon) and goes to the session (POST /exec/{id}/resize).
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { html, nothing } from 'lit';
import { DOCKER, send, wsUrl } from '../api.js';
import { Page } from '../page.js';
import { errorBanner } from '../ui.js';

/** Exit codes of a command that could not be run (dockerd's 126, podman's 127 for one not there). */
const CANNOT_RUN = new Set([126, 127]);

class ContainerTerminal extends Page {
  static override properties = { container: {}, status: { state: true }, error: { state: true } };
  declare container: string;
  declare status: 'connecting' | 'connected' | 'ended';
  declare error: string | undefined;
  private term?: Terminal;
  private fit?: FitAddon;
  private socket?: WebSocket;
  private exec?: string;
  private observer?: ResizeObserver;
  /** The user typed into the current session: its end is theirs, not a shell that is not there. */
  private typed = false;
  private shell = '';

  constructor() {
    super();
    this.status = 'connecting';
  }

  override firstUpdated(): void {
    const term = new Terminal({ cursorBlink: true, fontSize: 14, convertEol: false, scrollback: 5000 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(this.querySelector<HTMLElement>('.terminal-box')!);
    fit.fit();
    this.term = term;
    this.fit = fit;
    term.onData((data) => {
      if (this.socket?.readyState !== WebSocket.OPEN) return;
      this.typed = true;
      this.socket.send(data);
    });
    term.onResize(({ rows, cols }) => void this.resize(rows, cols));
    this.observer = new ResizeObserver(() => this.fit?.fit());
    this.observer.observe(this.querySelector('.terminal-box')!);
    void this.connect();
  }

  override disconnectedCallback(): void {
    this.observer?.disconnect();
    this.socket?.close();
    this.term?.dispose();
    super.disconnectedCallback();
  }

  /** The size sent last, and whether a resize request is on its way (one at a time, so they cannot cross). */
  private sent = '';
  private sending = false;

  /** Tells the session the terminal's size, when it changed; the latest size wins. */
  private async resize(rows: number, cols: number) {
    if (!this.exec || this.status !== 'connected' || this.sending) return;
    const size = `h=${rows}&w=${cols}`;
    if (size === this.sent) return;
    this.sending = true;
    try {
      await send('POST', `${DOCKER}/exec/${this.exec}/resize?${size}`);
      this.sent = size;
    } catch {
      // the session has ended
    } finally {
      this.sending = false;
    }
    if (this.term && `h=${this.term.rows}&w=${this.term.cols}` !== this.sent) void this.resize(this.term.rows, this.term.cols);
  }

  private async connect() {
    this.status = 'connecting';
    this.error = undefined;
    try {
      let code: number | undefined;
      for (const shell of ['/bin/sh', 'sh']) {
        if (code !== undefined) this.term!.reset(); // the failed shell's message, then the next one
        this.shell = shell;
        code = await this.session([shell]);
        if (code === undefined) return;
      }
      this.status = 'ended';
      this.term!.write(`\r\n[no shell could be run: exit code ${code}]\r\n`);
    } catch (err) {
      this.error = (err as Error).message;
      this.status = 'ended';
    }
  }

  /** One exec session, until it ends; the exit code of a shell that could not run (try the next), else undefined. */
  private async session(cmd: string[]): Promise<number | undefined> {
    const term = this.term!;
    const created = await send<{ Id: string }>('POST', `${DOCKER}/containers/${this.container}/exec`, {
      json: { Cmd: cmd, Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true, Env: ['TERM=xterm-256color'] },
    });
    const id = created!.Id;
    this.exec = id;
    const socket = new WebSocket(wsUrl(`${DOCKER}/exec/${id}/start/ws?h=${term.rows}&w=${term.cols}`));
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.typed = false;
    this.sent = `h=${term.rows}&w=${term.cols}`; // the size the session starts with
    socket.onopen = () => {
      this.status = 'connected';
      term.focus();
      void this.resize(term.rows, term.cols); // a fit while connecting
    };
    socket.onmessage = (m: MessageEvent<ArrayBuffer | string>) => {
      term.write(typeof m.data === 'string' ? m.data : new Uint8Array(m.data));
    };
    const closed = await new Promise<CloseEvent>((resolve) => (socket.onclose = resolve));
    const code = /^exit (\d+)$/.exec(closed.reason)?.[1];
    if (code !== undefined && CANNOT_RUN.has(Number(code)) && !this.typed) return Number(code);
    this.status = 'ended';
    if (closed.code === 1000) term.write(`\r\n[process exited${code === undefined ? '' : ` with code ${code}`}]\r\n`);
    else this.error = closed.reason || `the terminal's connection closed (${closed.code})`;
    return undefined;
  }

  override render() {
    return html`
      <div class="toolbar">
        <span class="muted" role="status">${this.status === 'connected' ? `connected: ${this.shell}` : this.status}</span>
        ${this.status === 'ended' ? html`<button @click=${() => void this.connect()}>New session</button>` : nothing}
      </div>
      ${errorBanner(this.error)}
      <div class="terminal-box" aria-label="Terminal"></div>
    `;
  }
}
customElements.define('berth-container-terminal', ContainerTerminal);
