/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * The little Markdown the document's descriptions use: paragraphs, "- " lists,
 * `code` and **bold**. Everything is escaped first, so nothing else can become markup.
 */
export function renderProse(markdown: string): string {
  const inline = (line: string) =>
    escapeHtml(line)
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
  const blocks = markdown.split(/\n\s*\n/);
  return blocks
    .map((block) => {
      const lines = block.split("\n").filter((line) => line.trim() !== "");
      const items = lines.filter((line) => line.startsWith("- "));
      const text = lines.filter((line) => !line.startsWith("- "));
      const paragraph = text.length ? `<p>${text.map(inline).join(" ")}</p>` : "";
      const list = items.length ? `<ul>${items.map((item) => `<li>${inline(item.slice(2))}</li>`).join("")}</ul>` : "";
      return paragraph + list;
    })
    .join("\n");
}
