import { PLATFORM_NAMES, type PlatformId } from "../../../protocol";

/**
 * The page's element with this id, of the kind the script expects. The page is
 * rendered by the worker (src/console/page.ts): a mismatch fails here, at load.
 */
export function byId<T extends HTMLElement>(id: string, kind: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof kind)) throw new Error(`the console page has no ${kind.name} #${id}`);
  return element;
}

/** The rows of a table of the page (its first body). */
export function tableBody(id: string): HTMLTableSectionElement {
  const table = byId(id, HTMLTableElement);
  return table.tBodies[0] ?? table.createTBody();
}

/** A cell with text only: nothing typed or received is ever parsed as HTML. */
export function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export function button(label: string, className: string, onClick: () => void): HTMLButtonElement {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.className = className;
  element.addEventListener("click", onClick);
  return element;
}

function isPlatformId(value: number): value is PlatformId {
  return Object.hasOwn(PLATFORM_NAMES, value);
}

/** The platform a select offers (the page fills it from PLATFORM_NAMES). */
export function selectedPlatform(select: HTMLSelectElement): PlatformId {
  const value = Number(select.value);
  if (!isPlatformId(value)) throw new Error(`#${select.id}: ${select.value} is not a platform`);
  return value;
}

/** An error as the log and the notes show it. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A delay in ms, as "0.4 s". */
export function seconds(ms: number | undefined): string {
  return `${((ms ?? 0) / 1000).toFixed(1)} s`;
}

/** Unix seconds as the page shows a moment: local time, then the number the API uses. */
export function unixTime(seconds: number): string {
  return `${new Date(seconds * 1000).toLocaleString()} (${seconds})`;
}
