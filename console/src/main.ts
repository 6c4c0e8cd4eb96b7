// The console's shell: the navigation and the page the hash names. Pages are custom elements, each in
// its own module under pages/.
import { html, nothing } from 'lit';
import { Page } from './page.js';
import { NAV, ROUTES, match, type Match } from './router.js';
import './pages/index.js';

class Console extends Page {
  static override properties = { current: { state: true } };
  declare current: Match;

  constructor() {
    super();
    this.current = match(location.hash);
  }

  private readonly onHash = () => {
    this.current = match(location.hash);
  };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', this.onHash);
  }

  override disconnectedCallback(): void {
    window.removeEventListener('hashchange', this.onHash);
    super.disconnectedCallback();
  }

  override render() {
    const { route, params } = this.current;
    const page = document.createElement(route.tag);
    for (const [k, v] of Object.entries(params)) page.setAttribute(k, v);
    return html`
      <header class="top">
        <a class="brand" href="#/">berth</a>
        <nav aria-label="Main">
          ${NAV.map((name) => {
            const target = ROUTES.find((r) => r.nav === name)!;
            return html`<a href="#${target.pattern}" aria-current=${route.nav === name ? 'page' : nothing}>${name}</a>`;
          })}
        </nav>
      </header>
      <main>${page}</main>
    `;
  }
}
customElements.define('berth-console', Console);
