/**
 * The few DOM types the verification page uses, typed by hand: adding TypeScript's DOM library to the project
 * would make browser globals look available to Node code too (as in test/browser/fixtures/hash-page.ts).
 */
export interface El {
  textContent: string | null;
  className: string;
  hidden: boolean;
  value: string;
  disabled: boolean;
  dataset: Record<string, string | undefined>;
  files?: ArrayLike<FileLike> | null;
  append(...nodes: (El | string)[]): void;
  replaceChildren(...nodes: (El | string)[]): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, listener: (ev: DomEvent) => void): void;
  querySelectorAll(selector: string): ArrayLike<El>;
  classList: { add(c: string): void; remove(c: string): void; toggle(c: string, on?: boolean): void };
}

export interface FileLike {
  name: string;
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}

export interface DomEvent {
  preventDefault(): void;
  dataTransfer?: { files: ArrayLike<FileLike> } | null;
}

export interface Doc {
  documentElement: El & { lang: string };
  body: El;
  title: string;
  getElementById(id: string): El | null;
  createElement(tag: string): El;
}

interface BrowserGlobals {
  document: Doc;
  navigator: { language?: string; languages?: readonly string[] };
  location: { protocol: string; origin: string };
  localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void };
  fetch(
    url: string,
    init?: { headers?: Record<string, string> },
  ): Promise<{
    ok: boolean;
    status: number;
    text(): Promise<string>;
  }>;
  print(): void;
}

export const browser = globalThis as unknown as BrowserGlobals;

/** The element with `id`; the page's skeleton has them all, so a missing one is a build mistake. */
export function byId(id: string): El {
  const el = browser.document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el;
}

/** A new element with text (never markup: untrusted values only ever become text nodes). */
export function el(tag: string, className = '', text?: string): El {
  const e = browser.document.createElement(tag);
  if (className !== '') e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}
