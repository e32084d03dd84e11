// Renders a record as XML text in the layout Windows' event viewer shows: one element per
// line, two-space indentation, empty elements self-closed.
import type { XmlSink } from './walk.ts';

/** Builds XML text from sink calls. */
export class XmlWriter implements XmlSink {
  private out = '';
  private depth = 0;
  private openTag = false;
  private hasText: boolean[] = [];
  private hasChildren: boolean[] = [];

  startElement(name: string): void {
    this.closeOpenTag();
    const parent = this.depth - 1;
    if (parent >= 0) this.hasChildren[parent] = true;
    if (this.depth > 0 || this.out !== '') this.out += '\n';
    this.out += `${'  '.repeat(this.depth)}<${name}`;
    this.openTag = true;
    this.hasText[this.depth] = false;
    this.hasChildren[this.depth] = false;
    this.names.push(name);
    this.depth++;
  }

  private names: string[] = [];

  attribute(name: string, value: string): void {
    this.out += ` ${name}="${escapeXml(value, true)}"`;
  }

  text(value: string): void {
    if (value === '') return;
    this.closeOpenTag();
    this.hasText[this.depth - 1] = true;
    this.out += escapeXml(value, false);
  }

  cdata(value: string): void {
    this.closeOpenTag();
    this.hasText[this.depth - 1] = true;
    this.out += `<![CDATA[${value}]]>`;
  }

  entityRef(name: string): void {
    this.closeOpenTag();
    this.hasText[this.depth - 1] = true;
    this.out += `&${name};`;
  }

  pi(target: string, data: string): void {
    this.closeOpenTag();
    this.out += `<?${target}${data === '' ? '' : ` ${data}`}?>`;
  }

  endElement(): void {
    this.depth--;
    const name = this.names.pop() ?? '';
    if (this.openTag) {
      this.out += '/>';
      this.openTag = false;
      return;
    }
    if (this.hasChildren[this.depth] && !this.hasText[this.depth]) this.out += `\n${'  '.repeat(this.depth)}`;
    this.out += `</${name}>`;
  }

  /** The XML written so far. */
  toString(): string {
    return this.out;
  }

  private closeOpenTag(): void {
    if (this.openTag) {
      this.out += '>';
      this.openTag = false;
    }
  }
}

/** Escapes text for XML content, or for a double-quoted attribute value. */
export function escapeXml(text: string, attribute: boolean): string {
  if (!/[&<>"]/.test(text)) return text;
  let s = text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  if (attribute) s = s.replaceAll('"', '&quot;');
  return s;
}
