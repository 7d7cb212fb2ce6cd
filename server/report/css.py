"""The report page's style sheet, inlined in its <style> element."""

# Calm and printable: A4 pages, black on white, tables that repeat their header on a new page.
PAGE_CSS = """
@page { size: A4; margin: 15mm; }
body { font: 10.5pt/1.45 "Helvetica Neue", Helvetica, Arial, sans-serif; color: #1d1d1d;
       max-width: 180mm; margin: 0 auto; padding: 12px; }
h1 { font-size: 17pt; margin: 0 0 2px; }
h2 { font-size: 13pt; margin: 22px 0 8px; padding-bottom: 3px; border-bottom: 1px solid #bbb; }
h3 { font-size: 10.5pt; margin: 14px 0 6px; }
p.meta { color: #555; margin: 0 0 10px; }
p.note { border-left: 4px solid #0072b2; background: #f2f6fa; padding: 8px 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: #555; } dl.facts dd { margin: 0; }
ul.alerts { padding-left: 18px; } ul.alerts li { margin-bottom: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 6px 0; }
th, td { text-align: left; vertical-align: top; padding: 3px 6px; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 10px 0; }
img { max-width: 100%; height: auto; }
.sev { display: inline-block; padding: 0 5px; border: 1px solid #888; border-radius: 3px;
       font-size: 8pt; font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
.sev-info { border-color: #888; color: #444; }
.sev-advisory { border-color: #0072b2; color: #005a8c; }
.sev-warning { border-color: #b36b00; color: #8a5200; }
.sev-urgent { border-color: #d55e00; color: #fff; background: #b34f00; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2, h3 { break-after: avoid; }
  figure, tr, li { break-inside: avoid; }
  thead { display: table-header-group; }
  .sev-urgent { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
