// Runs doiuse-email over every .html file in a directory, in one process, and prints
// templates, failures (exceptions) and seconds as JSON.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { doIUseEmail } from './.peers/node_modules/doiuse-email/index.js';

const dir = process.argv[2];
const clients = ['gmail.desktop-webmail', 'gmail.ios', 'gmail.android', 'outlook.windows', 'outlook.macos',
  'outlook.outlook-com', 'apple-mail.macos', 'apple-mail.ios', 'yahoo.desktop-webmail'];
const files = readdirSync(dir).filter((f) => f.endsWith('.html')).sort();
let failures = 0;
let findings = 0;
const start = process.hrtime.bigint();
for (const f of files) {
  try {
    const html = readFileSync(join(dir, f), 'utf8');
    const r = doIUseEmail(html, { emailClients: clients });
    findings += r.errors.length + r.warnings.length;
  } catch (e) {
    failures += 1;
    if (failures <= 5) console.error(`doiuse-email failed on ${f}: ${String(e).slice(0, 160)}`);
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ templates: files.length, failures, findings, seconds }));
