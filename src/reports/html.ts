/**
 * Renders the Markdown our report renderers produce (headings, paragraphs, bullet lists, pipe tables,
 * `code`, **bold**, [links](path)) as one self-contained HTML page: no scripts, no external resources. Pure.
 * Not a general Markdown engine: it covers exactly the subset written by src/reports/*.ts.
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Only these link targets become <a>: plain paths and web/file URLs, never `javascript:` and the like. */
function safeHref(href: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === 'http' || scheme === 'https' || scheme === 'file';
}

/** [text](href) → a link (the reports link a batch's offset and verification reports), then **bold**. */
function linksAndBold(raw: string): string {
  return raw
    .split(/(\[[^\]]+\]\([^)\s]+\))/)
    .map((part) => {
      const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(part);
      if (link && safeHref(link[2])) return `<a href="${escapeHtml(link[2])}">${escapeHtml(link[1])}</a>`;
      return escapeHtml(part).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
    })
    .join('');
}

/** Inline markup: `code` first (its content stays literal), then links and **bold**. */
function inline(raw: string): string {
  return raw
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith('`') && part.endsWith('`') && part.length >= 2 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : linksAndBold(part)))
    .join('');
}

/** Splits `| a | b\|c |` into cells, honouring escaped pipes. */
function tableCells(line: string): string[] {
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (body[i] === '|') {
      cells.push(cur.trim());
      cur = '';
    } else cur += body[i];
  }
  cells.push(cur.trim());
  return cells;
}

const isTableLine = (l: string) => /^\s*\|.*\|\s*$/.test(l);
const isSeparator = (l: string) => /^\s*\|(\s*:?-{3,}:?\s*\|)+\s*$/.test(l);

export function markdownToHtmlBody(md: string): string {
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = heading[1].length;
      out.push(`<h${level}>${inline(heading[2])}</h${level}>`);
      i++;
    } else if (isTableLine(line) && i + 1 < lines.length && isSeparator(lines[i + 1])) {
      const header = tableCells(line);
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && isTableLine(lines[i])) rows.push(tableCells(lines[i++]));
      out.push('<table>', `<thead><tr>${header.map((c) => `<th>${inline(c)}</th>`).join('')}</tr></thead>`, '<tbody>');
      for (const r of rows) out.push(`<tr>${r.map((c) => `<td>${inline(c)}</td>`).join('')}</tr>`);
      out.push('</tbody>', '</table>');
    } else if (/^\s*[-*]\s+/.test(line)) {
      out.push('<ul>');
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) out.push(`<li>${inline(lines[i++].replace(/^\s*[-*]\s+/, ''))}</li>`);
      out.push('</ul>');
    } else if (line.trim() === '') {
      i++;
    } else {
      const para: string[] = [];
      while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6})\s/.test(lines[i]) && !/^\s*[-*]\s+/.test(lines[i]) && !isTableLine(lines[i])) para.push(lines[i++]);
      if (!para.length) para.push(lines[i++]); // a lone table-looking line without separator
      out.push(`<p>${para.map(inline).join('<br>\n')}</p>`);
    }
  }
  return out.join('\n');
}

const STYLE = `body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2330;line-height:1.45}
h1{border-bottom:2px solid #dde;padding-bottom:.3rem}h2{margin-top:2rem;border-bottom:1px solid #eee}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem;width:100%}th,td{border:1px solid #d6d9e0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f4f8}tr:nth-child(even) td{background:#fafbfc}code{background:#f2f4f8;padding:0 .25rem;border-radius:3px}
figure.km-chart{margin:1rem 0;padding:.5rem;border:1px solid #e3e6ec;border-radius:4px;overflow-x:auto}figure.km-chart figcaption{font-weight:600;margin-bottom:.3rem}
figure.km-chart svg{max-width:100%;height:auto;font-family:inherit}`;

/** A complete HTML document for one report. */
export function markdownToHtmlPage(md: string, title: string): string {
  return htmlPage(title, markdownToHtmlBody(md));
}

/** A complete HTML document around a body already in HTML (e.g. Markdown sections and inline SVG charts). */
export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
