// A minimal XML reader for the conformance tests: turns the XML that evtxexport prints into
// element trees. It is deliberately separate from the parser under test.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const entity: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return entity[ref] ?? whole;
  });
}

/** Parses a sequence of top-level elements; text between them is ignored. */
export function parseXmlDocuments(xml: string): XmlElement[] {
  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  const tag =
    /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>|<!\[CDATA\[([\s\S]*?)\]\]>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    last = tag.lastIndex;
    const top = stack[stack.length - 1];
    if (top) top.text += decode(between);
    if (m[5] !== undefined) {
      if (top) top.text += m[5];
      continue;
    }
    if (m[2] === undefined) continue;
    if (m[1] === '/') {
      const closed = stack.pop();
      if (!closed || closed.name !== m[2]) throw new Error(`mismatched </${m[2]}> at ${m.index}`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of (m[3] ?? '').matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g))
      attributes[a[1] as string] = decode(a[2] as string);
    const element: XmlElement = { name: m[2], attributes, children: [], text: '' };
    if (top) top.children.push(element);
    else roots.push(element);
    if (m[4] !== '/') stack.push(element);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]?.name}>`);
  return roots;
}
