#!/usr/bin/env python3
"""Generates a seeded corpus of email templates for the checks benchmark.

Templates vary in size (a few KB to ~120 KB), structure (nested layout tables, columns,
buttons, lists, headings), CSS (style blocks with media queries, dark mode, pseudo-classes,
inline styles with flex, gradients, border-radius, rem units) and defects (missing alt, http
links, empty hrefs). About 3% are hostile inputs: unterminated CSS, deep nesting, invalid
UTF-8, declared windows-1252. Also writes MJML sources that run.sh compiles with mjml.
"""
import argparse
import os
import random

WORDS = ("the quick report shows growth across every channel this quarter and our team "
         "shipped new features for approvals budgets and consent with faster exports").split()


def sentence(r, n):
    return " ".join(r.choice(WORDS) for _ in range(n)).capitalize() + "."


def style_block(r):
    rules = [
        "body { margin: 0; padding: 0; -webkit-text-size-adjust: 100%; }",
        "table, td { border-collapse: collapse; mso-table-lspace: 0pt; }",
        "img { border: 0; outline: none; text-decoration: none; }",
        ".button a:hover { background-color: #0b5cad !important; }",
        "a[x-apple-data-detectors] { color: inherit !important; }",
        "u + #body a { color: inherit; }",
        ".col > td:first-child { padding-left: 0; }",
        "ul li::marker { color: #888; }",
        ".hero { background-image: linear-gradient(#fff, #eee); }",
        ":root { --brand: #0a66c2; }",
        ".brand { color: var(--brand); }",
        ".grid { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }",
    ]
    media = [
        "@media only screen and (max-width: 600px) { .container { width: 100% !important; } .col { display: block !important; width: 100% !important; } }",
        "@media (prefers-color-scheme: dark) { .dark-bg { background-color: #111 !important; } .dark-text { color: #eee !important; } }",
        "[data-ogsc] .dark-text { color: #eee !important; }",
        "@font-face { font-family: Brand; src: url(https://cdn.example.com/brand.woff2) format('woff2'); }",
        "@media screen and (-webkit-min-device-pixel-ratio: 2) { .logo { width: 120px; } }",
    ]
    chosen = r.sample(rules, r.randint(3, len(rules))) + r.sample(media, r.randint(1, len(media)))
    return "<style>\n" + "\n".join(chosen) + "\n</style>"


def block(r, i):
    kind = r.random()
    if kind < 0.25:
        w = r.choice([600, 560, 280])
        alt = "" if r.random() < 0.1 else f' alt="Image {i}"'
        scheme = "http" if r.random() < 0.05 else "https"
        return (f'<tr><td align="center" style="padding: 0 0 16px 0;"><img src="{scheme}://cdn.example.com/img/{i}.'
                f'{r.choice(["png", "jpg", "gif", "webp"])}" width="{w}"{alt} style="display:block;max-width:100%;height:auto;"></td></tr>')
    if kind < 0.45:
        href = r.choice(["https://www.example.com/p/%d?utm_source=news&utm_medium=email&utm_campaign=oct" % i, "", "http://example.com/old", "https://bit.ly/x%d" % i])
        return (f'<tr><td class="button" align="center" style="border-radius: 6px; background: #0a66c2;">'
                f'<a href="{href}" target="_blank" style="display:inline-block;padding:12px 24px;color:#ffffff;font-weight:600;text-decoration:none;">'
                f'{sentence(r, 2)}</a></td></tr>')
    if kind < 0.6:
        cols = "".join(
            f'<td class="col" width="50%" valign="top" style="padding: 0 8px; font-size: 1rem; line-height: 1.5;">'
            f'<h3 style="margin:0 0 8px 0;">{sentence(r, 3)}</h3><p style="margin:0;color:#555555;">{sentence(r, 18)}</p></td>'
            for _ in range(2))
        return f'<tr><td><table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr>{cols}</tr></table></td></tr>'
    if kind < 0.7:
        items = "".join(f"<li style=\"margin-bottom:4px\">{sentence(r, 6)}</li>" for _ in range(r.randint(2, 6)))
        return f'<tr><td style="padding: 8px 24px;"><ul style="padding-left:20px;margin:0">{items}</ul></td></tr>'
    if kind < 0.78:
        return (f'<tr><td><div style="display:flex;gap:12px;justify-content:space-between;">'
                f'<div style="flex:1;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.2);padding:1em">{sentence(r, 10)}</div>'
                f'<div style="flex:1;padding:1em;background-color:rgb(245,245,245)">{sentence(r, 10)}</div></div></td></tr>')
    return (f'<tr><td class="dark-text" style="padding: 12px 24px; font-family: Helvetica, Arial, sans-serif; font-size: 16px; color: #333333;">'
            f'<p style="margin: 0 0 12px 0;">{sentence(r, r.randint(12, 60))}</p></td></tr>')


def template(r, n):
    blocks = "\n".join(block(r, i) for i in range(r.randint(4, 120)))
    mso = "<!--[if mso]><style>.fallback { font-family: Arial, sans-serif; }</style><![endif]-->"
    return f"""<!DOCTYPE html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{sentence(r, 5)}</title>
{style_block(r)}
{mso}
</head>
<body id="body" class="dark-bg" style="margin:0;padding:0;background-color:#f4f4f4;">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">{sentence(r, 12)}</div>
<center>
<table role="presentation" class="container" width="600" cellpadding="0" cellspacing="0" border="0" style="margin:0 auto;background-color:#ffffff;">
{blocks}
<tr><td style="padding: 24px; font-size: 12px; color: #777777;">Example Ltd, 12 Harbour Street, Bristol BS1 4RN.
<a href="https://www.example.com/unsubscribe?u={n}" style="color:#777777;">Unsubscribe</a></td></tr>
</table>
</center>
</body>
</html>
"""


def hostile(r, n):
    k = n % 4
    if k == 0:
        return ("<html><head><style>p { color: red; @media (max-width: 600px) { .a { display: flex" + "\n<body><p>x").encode()
    if k == 1:
        return ("<div>" * 20000 + "<p>deep</p>").encode()
    if k == 2:
        return b"<html><body><p>caf\xe9 \xff\xfe invalid utf-8</p></body></html>"
    return "<meta charset=\"windows-1252\"><p>Caf\u00e9 cr\u00e8me \u2013 prix</p>".encode("cp1252")


def mjml(r, n):
    sections = "\n".join(
        f"""<mj-section><mj-column><mj-text font-size="16px" color="#333333">{sentence(r, r.randint(10, 40))}</mj-text>
<mj-button background-color="#0a66c2" href="https://www.example.com/m/{n}/{i}">{sentence(r, 2)}</mj-button>
<mj-image src="https://cdn.example.com/m/{i}.png" alt="Picture {i}" width="300px"></mj-image></mj-column></mj-section>"""
        for i in range(r.randint(2, 12)))
    return f"""<mjml><mj-head><mj-title>{sentence(r, 4)}</mj-title><mj-preview>{sentence(r, 10)}</mj-preview></mj-head>
<mj-body>{sections}
<mj-section><mj-column><mj-text>Example Ltd, 12 Harbour Street, Bristol BS1 4RN. <a href="https://www.example.com/unsubscribe">Unsubscribe</a></mj-text></mj-column></mj-section>
</mj-body></mjml>
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--mjml", type=int, default=100)
    ap.add_argument("--out", default="out")
    a = ap.parse_args()
    r = random.Random(a.seed)
    corpus = os.path.join(a.out, "corpus")
    srcs = os.path.join(a.out, "mjml")
    os.makedirs(corpus, exist_ok=True)
    os.makedirs(srcs, exist_ok=True)
    for n in range(a.count):
        data = hostile(r, n) if n % 33 == 32 else template(r, n).encode()
        with open(os.path.join(corpus, f"t{n:05d}.html"), "wb") as f:
            f.write(data)
    for n in range(a.mjml):
        with open(os.path.join(srcs, f"m{n:05d}.mjml"), "w") as f:
            f.write(mjml(r, n))


if __name__ == "__main__":
    main()
